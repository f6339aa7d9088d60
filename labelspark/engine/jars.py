"""The jars a classic Spark session needs (Delta Lake, search connectors, JDBC driver), pinned in
jars.txt with the Spark versions each supports, and the check that refuses any other Spark.

A Delta jar is built against one Spark release and calls Spark internals that a patch release
may change: delta-spark 4.1.0 on Spark 4.1.4 works until a table's 10th commit, when reading
the first checkpoint fails. So every pin names the Spark patch versions it was tested on, and a
session outside them stops before it writes anything (exit 2, naming the release that fits).

A local session takes the jars from a folder (`$LABELSPARK_JARS`, else the folder
`scripts/fetch-jars.sh` fills by default) and only when there is none asks Spark to resolve
them from Maven Central itself (`spark.jars.packages`, through Ivy). Clusters without
internet access pass such a folder with `--jars` (scripts/submit.sh does).

    python -m labelspark.engine.jars SPARK_VERSION SCALA_VERSION

prints the coordinates pinned for that Spark, or the refusal and exit 2 (the scripts use it).
"""
from __future__ import annotations

import os
import re
import sys
from dataclasses import dataclass
from importlib import resources
from pathlib import Path

from labelspark.errors import EngineError, UnsupportedSpark

PINS_FILE = "jars.txt"  # beside this module; read as a package resource: a job's --py-files zip holds it
JARS_VARIABLE = "LABELSPARK_JARS"
RESOLVED_BY_SPARK = ("delta", "jdbc")  # what a local session asks Spark (Ivy) for when no folder holds the jars
DELTA_SETTINGS = {
    "spark.sql.extensions": "io.delta.sql.DeltaSparkSessionExtension",
    "spark.sql.catalog.spark_catalog": "org.apache.spark.sql.delta.catalog.DeltaCatalog",
}


def version_tuple(version: str) -> tuple[int, ...]:
    """`4.1.4` -> (4, 1, 4); a suffix such as `-SNAPSHOT` or `.dev0` is ignored."""
    match = re.match(r"(\d+)\.(\d+)(?:\.(\d+))?", version.strip())
    if not match:
        raise EngineError(f"cannot read a Spark version from {version!r}")
    return tuple(int(part or 0) for part in match.groups())


@dataclass(frozen=True)
class Pin:
    """One line of jars.txt: a Maven coordinate for a Spark line and Scala version, and the
    Spark patch versions it supports (`first-last`, both tested)."""

    spark: str
    scala: str
    role: str  # delta | elasticsearch | opensearch | jdbc
    coordinate: str
    supports: str

    @property
    def version(self) -> str:
        return self.coordinate.rsplit(":", 1)[1]

    @property
    def jar_name(self) -> str:
        """The file name Maven gives the jar: `artifact-version.jar`."""
        _, artifact, version = self.coordinate.split(":")
        return f"{artifact}-{version}.jar"

    @property
    def first(self) -> str:
        return self.supports.split("-")[0]

    @property
    def last(self) -> str:
        return self.supports.split("-")[1]

    def supports_spark(self, version: str) -> bool:
        return version_tuple(self.first) <= version_tuple(version) <= version_tuple(self.last)


def all_pins() -> list[Pin]:
    text = resources.files("labelspark.engine").joinpath(PINS_FILE).read_text(encoding="utf-8")
    rows = (line.split("#", 1)[0].split() for line in text.splitlines())
    return [Pin(*row) for row in rows if row]


def spark_line(version: str) -> str:
    """`4.1.4` -> `4.1`: Delta and the connectors are built per minor version."""
    major, minor, _ = version_tuple(version)
    return f"{major}.{minor}"


def supported_ranges() -> list[Pin]:
    """The delta-spark pin of each Spark line (its first Scala version in jars.txt), newest line first."""
    seen: dict[str, Pin] = {}
    for pin in all_pins():
        if "delta-spark" in pin.coordinate:
            seen.setdefault(pin.spark, pin)
    return sorted(seen.values(), key=lambda pin: version_tuple(pin.last), reverse=True)


def _what_fits() -> str:
    ranges = supported_ranges()
    listed = "; ".join(f"Spark {pin.first} to {pin.last} with {pin.coordinate}" for pin in ranges)
    return f"labelspark supports {listed}. Use Spark {ranges[0].last} (for a local session: pip install 'pyspark=={ranges[0].last}')"


def pins_for(spark_version: str, scala: str) -> list[Pin]:
    """The pins of a supported Spark; anything else raises UnsupportedSpark naming what fits."""
    line = spark_line(spark_version)
    pins = [pin for pin in all_pins() if pin.spark == line and pin.scala == scala]
    if not any(pin.role == "delta" for pin in pins):
        raise UnsupportedSpark(f"no Delta Lake jars pinned for Spark {spark_version} with Scala {scala}: {_what_fits()}")
    unsupported = [pin for pin in pins if not pin.supports_spark(spark_version)]
    if unsupported:
        pin = unsupported[0]
        raise UnsupportedSpark(
            f"Spark {spark_version} is not supported by {pin.coordinate} (labelspark/engine/jars.txt: Spark {pin.first} "
            f"to {pin.last}; a Delta jar on another Spark patch can fail on a table's first checkpoint): {_what_fits()}"
        )
    return pins


def installed_spark() -> tuple[str, str]:
    """(Spark version, Scala version) of the installed pyspark, the Scala one from its scala-library jar."""
    import pyspark

    jars = Path(os.environ.get("SPARK_HOME") or Path(pyspark.__file__).parent) / "jars"
    found = sorted(jars.glob("scala-library-*.jar"))
    scala = re.search(r"scala-library-(\d+\.\d+)", found[0].name)[1] if found else default_scala(pyspark.__version__)
    return pyspark.__version__, scala


def default_scala(spark_version: str) -> str:
    """Spark 4 is built for Scala 2.13 only; 3.x distributions for 2.12 unless they say otherwise."""
    return "2.13" if version_tuple(spark_version)[0] >= 4 else "2.12"


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


def main(argv: list[str]) -> int:
    if len(argv) not in (1, 2):
        print("usage: python -m labelspark.engine.jars SPARK_VERSION [SCALA_VERSION]", file=sys.stderr)
        return 2
    spark_version, scala = argv[0], argv[1] if len(argv) == 2 else default_scala(argv[0])
    try:
        pins = pins_for(spark_version, scala)
    except EngineError as exc:
        print(f"labelspark: {exc}", file=sys.stderr)
        return exc.exit_code
    print("\n".join(pin.coordinate for pin in pins))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
