"""One `Engine` value per session: what the code may ask about the engine it runs on.

The facts (Sail, classic Spark or a Spark Connect server; a JVM in this process or not; the
Spark line; the Delta jar a classic driver loaded) are found once, when `open_session` opens the
session, and asked through `engine_of(spark)`, so no other module probes a session's class,
`_jvm` or version text. Importing this module needs no pyspark (`cli/options.py` reads ENGINES).
"""
from __future__ import annotations

import functools
import weakref
from dataclasses import dataclass

from labelspark.engine.jars import version_tuple

ENGINES = ("sail", "spark", "connect")
# the sessions open_session opened, with their facts; others are described when first asked
_KNOWN: "weakref.WeakKeyDictionary[object, Engine]" = weakref.WeakKeyDictionary()


@dataclass(frozen=True)
class Engine:
    name: str  # one of ENGINES
    connect: bool  # a Spark Connect session (Sail is one): the engine is not in this process's JVM
    version: str  # the Spark version the engine reports
    pyspark: tuple[int, ...]  # this Python's PySpark: its Column API (Column.try_cast from 4.0)
    delta: str | None = None  # the delta-spark jar a classic driver loaded; None: none found, or not known here

    @property
    def jvm(self) -> bool:
        """A JVM reachable from this Python (py4j): classic sessions only."""
        return not self.connect

    @property
    def line(self) -> tuple[int, int]:
        """(major, minor) of the engine's Spark: Delta and the connectors are built per line."""
        return version_tuple(self.version)[:2]


def engine_of(spark) -> Engine:
    """The facts of `spark`: those open_session recorded, else found from the session once."""
    known = _KNOWN.get(spark)
    if known is None:
        connect = is_connect(spark)
        known = remember(spark, Engine("connect" if connect else "spark", connect, spark.version, pyspark_line()))
    return known


def remember(spark, engine: Engine) -> Engine:
    """Records `engine` as the facts of `spark` (open_session, once per session)."""
    _KNOWN[spark] = engine
    return engine


def is_connect(spark) -> bool:
    """A Spark Connect session: the class is all that tells, without a call to the engine."""
    return type(spark).__module__.startswith("pyspark.sql.connect")


def pyspark_line() -> tuple[int, ...]:
    """This Python's PySpark version, e.g. (4, 1, 4)."""
    return version_tuple(pyspark_version())


@functools.lru_cache(maxsize=None)
def pyspark_version() -> str:
    """This Python's PySpark version as it names itself, e.g. `3.5.3`."""
    import pyspark

    return pyspark.__version__


def active_jvm():
    """The JVM of this process's classic SparkContext (PySpark 3.5's Column helpers build Catalyst
    expressions through it)."""
    from pyspark import SparkContext

    return SparkContext._active_spark_context._jvm
