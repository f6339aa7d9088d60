"""What an engine's exception means, read in one place: by its error condition where the engine
gives one (classic Spark, Spark Connect servers), by its message only where it gives none
(Sail 0.7 raises AnalysisException without a condition; py4j errors the JVM did not classify)."""
from __future__ import annotations

import os
import re

from pyspark.errors import PySparkException

from labelspark.errors import EngineError, LabelsparkError, SourceError, UnsupportedSpark

NO_DELTA = ("this Spark session has no Delta Lake: fetch the jars with scripts/fetch-jars.sh (or set LABELSPARK_JARS), "
            "submit with scripts/submit.sh, or use --engine sail")
_MISSING_TABLE = {"PATH_NOT_FOUND", "DELTA_TABLE_NOT_FOUND", "DELTA_MISSING_DELTA_TABLE", "DELTA_PATH_DOES_NOT_EXIST"}
_MISSING_TABLE_TEXT = ("is not a Delta table", "No commit files found", "doesn't exist", "does not exist")
BAD_VALUE = "labelspark-bad-value"  # starts the error a value no exact sum holds raises (udfs/exact.py)
_BAD_VALUE_TEXT = re.compile(rf"{BAD_VALUE} source=(.+?) column=(.+?): (.+?)(?:$|\n|\")", re.M)
_OUT_OF_MEMORY_TEXT = ("Resources exhausted", "Failed to allocate additional")  # DataFusion's memory pool
SAIL_MEMORY = "SAIL_RUNTIME__MEMORY_POOL__FAIR__MAX_SIZE"
# a JVM linkage error: a jar calls a Spark method its Spark does not have (py4j names the error;
# a Spark Connect server sends the method's signature alone)
_LINKAGE = re.compile(r"NoSuchMethodError|NoSuchFieldError|AbstractMethodError|'[\w.$\[\]]+ (org\.apache\.spark|io\.delta)\.[\w.$<>]+\(")
MISMATCHED_JAR = ("a jar on Spark's classpath was built for another Spark release ({detail}): use the Delta jar that "
                  "labelspark/engine/jars.txt pins for this Spark (scripts/fetch-jars.sh; remove other Delta jars from --jars, "
                  "the jar folder or the Spark Connect server)")


def condition_of(exc: BaseException) -> str | None:
    """The engine's error condition (its error class), None where it gives none."""
    if not isinstance(exc, PySparkException):
        return None
    # PySpark 3.5 names it getErrorClass (deprecated in 4)
    return exc.getCondition() if hasattr(exc, "getCondition") else exc.getErrorClass()


def is_missing_table(exc: BaseException) -> bool:
    """Whether reading a Delta table failed because there is none at the path yet."""
    condition = condition_of(exc)
    if condition is not None:
        return condition in _MISSING_TABLE
    return any(text in str(exc) for text in _MISSING_TABLE_TEXT)


def converted(exc: BaseException) -> LabelsparkError | None:
    """The labelspark error an engine's exception stands for, with what to do; None where it is
    the engine's own failure, reported as it is."""
    condition = condition_of(exc)
    text = str(exc)
    if condition == "DATA_SOURCE_NOT_FOUND" or (condition is None and ("DATA_SOURCE_NOT_FOUND" in text or "Failed to find data source" in text)):
        return EngineError(NO_DELTA)
    bad_value = _BAD_VALUE_TEXT.search(text)
    if bad_value:
        source, column, problem = bad_value.groups()
        return SourceError(source, problem, column)
    linkage = _LINKAGE.search(text)
    if linkage:
        detail = next((line.strip() for line in text.splitlines() if linkage.group(0) in line), linkage.group(0))
        return UnsupportedSpark(MISMATCHED_JAR.format(detail=detail[:300]))
    if condition is None and any(part in text for part in _OUT_OF_MEMORY_TEXT):
        return EngineError(_out_of_memory())
    return None


def _out_of_memory() -> str:
    pool = os.environ.get(SAIL_MEMORY, "")
    size = f"{int(pool) / 2**30:.2f} GiB" if pool.isdigit() else "its bound"
    return (f"the embedded engine needed more than its memory pool ({size}: {SAIL_MEMORY}, a quarter of the machine's "
            f"memory unless set) for work that cannot spill to disk: set {SAIL_MEMORY} higher, or run on a cluster with --engine spark")
