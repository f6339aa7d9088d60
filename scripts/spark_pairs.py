"""Checks Spark releases against the Delta jars labelspark/engine/jars.txt pins for them, past a checkpoint.

    python scripts/spark_pairs.py                 # the ends of every pinned range
    python scripts/spark_pairs.py 4.1.2 4.1.3     # these PySpark releases

For each release: PySpark installed into ~/.cache/labelspark/pyspark-VERSION (pip --target), the
pinned jars fetched (scripts/fetch-jars.sh), then a local[1] session appends to a new Delta table
12 times, reading it back after each commit: the 10th commit writes the table's first checkpoint
and the 11th read goes through it, where a jar built for another Spark patch fails
(NoSuchMethodError); then labelspark's `try_cast` (on 3.5 a Catalyst `Cast` built through the
JVM, labelspark's own tie to Spark internals). Prints a line per release and exits 1 if any
failed. Widen a range in jars.txt only with the releases this passes; the README's table of
supported versions comes from it.
"""
from __future__ import annotations

import os
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from labelspark.engine import jars  # noqa: E402

COMMITS = 12
PROBE = """
import sys
from pyspark.sql import SparkSession
jars, path, commits = sys.argv[1], sys.argv[2], int(sys.argv[3])
spark = (SparkSession.builder.master("local[1]").config("spark.jars", jars)
         .config("spark.sql.extensions", "io.delta.sql.DeltaSparkSessionExtension")
         .config("spark.sql.catalog.spark_catalog", "org.apache.spark.sql.delta.catalog.DeltaCatalog")
         .config("spark.ui.enabled", "false").config("spark.ui.showConsoleProgress", "false").getOrCreate())
for commit in range(commits):
    spark.range(commit, commit + 1).write.format("delta").mode("append").save(path)
    try:
        assert spark.read.format("delta").load(path).count() == commit + 1
    except Exception as exc:
        print(f"fails at commit {commit}: {str(exc).splitlines()[0][:200]}")
        sys.exit(1)
# labelspark's own call into Spark internals: on 3.5 a Catalyst Cast in TRY mode through the JVM
from pyspark.sql import functions as F, types as T
from labelspark.udfs.casts import try_cast
casted = spark.createDataFrame([("12",), ("x",)], ["v"]).select(try_cast(F.col("v"), T.IntegerType()).alias("n")).collect()
assert [row.n for row in casted] == [12, None], casted
print(f"{commits} commits read back, try_cast answers, Spark {spark.version}")
"""


def pyspark_folder(version: str) -> Path:
    cache = Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache")
    folder = cache / "labelspark" / f"pyspark-{version}"
    if not (folder / "pyspark" / "bin" / "spark-submit").is_file():
        py4j = "py4j==0.10.9.7" if jars.version_tuple(version) < (4, 0, 0) else "py4j>=0.10.9.9,<0.10.10"
        subprocess.run([sys.executable, "-m", "pip", "install", "--quiet", "--no-deps", "--target", str(folder),
                        f"pyspark=={version}", py4j], check=True)
    return folder


def check(version: str) -> bool:
    scala = jars.default_scala(version)
    pins = [pin for pin in jars.all_pins() if pin.spark == jars.spark_line(version) and pin.scala == scala and pin.role == "delta"]
    if not pins:
        print(f"Spark {version}: no Delta pinned for its line")
        return False
    env = {**os.environ, "LABELSPARK_SPARK_VERSION": version, "LABELSPARK_SCALA_VERSION": scala}
    env.pop("SPARK_HOME", None)
    fetched = subprocess.run([str(ROOT / "scripts" / "fetch-jars.sh"), str(Path(tempfile.gettempdir()) / f"labelspark-pairs-{version}")],
                             env=env, capture_output=True, text=True)
    if fetched.returncode != 0:  # a version outside the range: fetch-jars.sh says so
        print(f"Spark {version}: {fetched.stderr.strip().splitlines()[-1]}")
        return False
    folder = Path(fetched.stdout.strip())
    jars = ",".join(str(folder / pin.jar_name) for pin in pins)
    with tempfile.TemporaryDirectory() as table:
        probe = subprocess.run([sys.executable, "-c", PROBE, jars, f"{table}/t", str(COMMITS)],
                               env={**env, "PYTHONPATH": f"{pyspark_folder(version)}{os.pathsep}{ROOT}"}, capture_output=True, text=True, timeout=900)
    result = (probe.stdout.strip().splitlines() or [probe.stderr.strip()[-300:]])[-1]
    print(f"Spark {version} with {pins[0].coordinate}: {result}")
    return probe.returncode == 0


def main(versions: list[str]) -> int:
    if not versions:
        versions = [end for pin in jars.supported_ranges() for end in dict.fromkeys((pin.first, pin.last))]
    results = [check(version) for version in versions]
    return 0 if all(results) else 1


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
