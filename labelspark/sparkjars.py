"""The jars a classic Spark session needs (Delta Lake, search connectors, JDBC driver), pinned in jars.txt.

A local session takes them from a folder (`$LABELSPARK_JARS`, else the folder
`scripts/fetch-jars.sh` fills by default) and only when there is none asks Spark to resolve
them from Maven Central itself (`spark.jars.packages`, through Ivy). Clusters without
internet access pass such a folder with `--jars` (scripts/submit.sh does).
"""
from __future__ import annotations

import os
import re
from dataclasses import dataclass
from pathlib import Path

from labelspark.errors import EngineError

PINS_FILE = Path(__file__).with_name("jars.txt")
JARS_VARIABLE = "LABELSPARK_JARS"
RESOLVED_BY_SPARK = ("delta", "jdbc")  # what a local session asks Spark (Ivy) for when no folder holds the jars
DELTA_SETTINGS = {
    "spark.sql.extensions": "io.delta.sql.DeltaSparkSessionExtension",
    "spark.sql.catalog.spark_catalog": "org.apache.spark.sql.delta.catalog.DeltaCatalog",
}


@dataclass(frozen=True)
class Pin:
    """One line of jars.txt: a Maven coordinate for a Spark line and Scala version."""

    spark: str
    scala: str
    role: str  # delta | elasticsearch | opensearch | jdbc
    coordinate: str

    @property
    def jar_name(self) -> str:
        """The file name Maven gives the jar: `artifact-version.jar`."""
        _, artifact, version = self.coordinate.split(":")
        return f"{artifact}-{version}.jar"


def all_pins() -> list[Pin]:
    rows = (line.split("#", 1)[0].split() for line in PINS_FILE.read_text(encoding="utf-8").splitlines())
    return [Pin(*row) for row in rows if row]


def spark_line(version: str) -> str:
    """`4.1.4` -> `4.1`: Delta and the connectors are built per minor version."""
    match = re.match(r"(\d+)\.(\d+)", version)
    if not match:
        raise EngineError(f"cannot read a Spark version from {version!r}")
    return f"{match[1]}.{match[2]}"


def installed_spark() -> tuple[str, str]:
    """(Spark version, Scala version) of the installed pyspark, the Scala one from its scala-library jar."""
    import pyspark

    jars = Path(os.environ.get("SPARK_HOME") or Path(pyspark.__file__).parent) / "jars"
    found = sorted(jars.glob("scala-library-*.jar"))
    scala = re.search(r"scala-library-(\d+\.\d+)", found[0].name)[1] if found else _default_scala(pyspark.__version__)
    return pyspark.__version__, scala


def _default_scala(spark_version: str) -> str:
    return "2.13" if int(spark_line(spark_version).split(".")[0]) >= 4 else "2.12"


def pins_for(spark_version: str, scala: str) -> list[Pin]:
    line = spark_line(spark_version)
    pins = [pin for pin in all_pins() if pin.spark == line and pin.scala == scala]
    if not any(pin.role == "delta" for pin in pins):
        known = sorted({f"{pin.spark} (Scala {pin.scala})" for pin in all_pins()})
        raise EngineError(
            f"no Delta Lake jars pinned for Spark {spark_version} with Scala {scala} "
            f"(labelspark/jars.txt knows Spark {', '.join(known)})"
        )
    return pins


def default_folder(spark_version: str, scala: str) -> Path:
    """Where scripts/fetch-jars.sh puts the jars when given no folder."""
    cache = Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache")
    return cache / "labelspark" / "jars" / f"spark-{spark_line(spark_version)}_{scala}"


def session_settings(spark_version: str, scala: str) -> tuple[dict[str, str], str]:
    """Spark settings that give a local session Delta (and the connectors the folder holds),
    and where the jars come from, for the log."""
    pins = pins_for(spark_version, scala)
    named = os.environ.get(JARS_VARIABLE)
    folder = Path(named) if named else default_folder(spark_version, scala)
    present = [folder / pin.jar_name for pin in pins if (folder / pin.jar_name).is_file()]
    missing_delta = [pin.jar_name for pin in pins if pin.role == "delta" and folder / pin.jar_name not in present]
    if not missing_delta:
        return {**DELTA_SETTINGS, "spark.jars": ",".join(map(str, present))}, f"the jars in {folder}"
    if named:
        raise EngineError(
            f"{JARS_VARIABLE}={named} lacks {', '.join(missing_delta)} for Spark {spark_line(spark_version)}: "
            f"run scripts/fetch-jars.sh {named}"
        )
    coordinates = ",".join(pin.coordinate for pin in pins if pin.role in RESOLVED_BY_SPARK)
    return {**DELTA_SETTINGS, "spark.jars.packages": coordinates}, f"{coordinates} resolved by Spark (Ivy)"
