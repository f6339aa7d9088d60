"""A Spark that the pinned Delta jar does not support is refused at start, before anything is
written: by a local session (from the installed pyspark, before the JVM starts) and by the driver
of a submitted job (its own spark.version, which on a cluster can differ from what the
spark-submit of an edge node reports). The Spark here is a real PySpark 3.5.2, one patch below
the first that delta-spark 3.3 supports (it declares Spark >= 3.5.3)."""
import os
import subprocess
import sys
from pathlib import Path

import pytest

from labelspark.cli.demo import write_demo
from tests.support.spark_lines import classic_environment

ROOT = Path(__file__).resolve().parent.parent
UNSUPPORTED = "3.5.2"
REFUSAL = f"Spark {UNSUPPORTED} is not supported by io.delta:delta-spark_2.12:3.3.2 (labelspark/engine/jars.txt: Spark 3.5.3 to 3.5.9"


@pytest.fixture(scope="module")
def unsupported_pyspark() -> Path:
    """A folder holding PySpark 3.5.2 and its py4j, installed once (kept in the user's cache)."""
    cache = Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache")
    folder = cache / "labelspark" / f"pyspark-{UNSUPPORTED}"
    if not (folder / "pyspark" / "bin" / "spark-submit").is_file():
        done = subprocess.run([sys.executable, "-m", "pip", "install", "--quiet", "--no-deps", "--target", str(folder),
                               f"pyspark=={UNSUPPORTED}", "py4j==0.10.9.7"], capture_output=True, text=True, timeout=900)
        assert done.returncode == 0, done.stderr[-3000:]
    return folder


def environment(pyspark_folder: Path) -> dict:
    return {**classic_environment(), "PYTHONPATH": f"{pyspark_folder}{os.pathsep}{ROOT}", "SPARK_LOCAL_IP": "127.0.0.1",
            "PYSPARK_PYTHON": sys.executable, "SPARK_HOME": str(pyspark_folder / "pyspark")}


def test_a_local_session_refuses_an_unsupported_spark_before_writing(tmp_path, unsupported_pyspark):
    config = write_demo(tmp_path / "demo", members=50)
    done = subprocess.run([sys.executable, "-m", "labelspark", "run", str(config), "--date", "2026-03-31", "--engine", "spark"],
                          cwd=tmp_path, env=environment(unsupported_pyspark), capture_output=True, text=True, timeout=300)
    assert done.returncode == 2, done.stderr[-3000:]
    assert REFUSAL in done.stderr and "pip install 'pyspark==4.1.4'" in done.stderr
    assert not (tmp_path / "demo" / "warehouse").exists()


def test_a_submitted_job_refuses_the_spark_its_driver_runs(tmp_path, unsupported_pyspark):
    """The edge node's spark-submit says 3.5.9 (LABELSPARK_SPARK_VERSION, so submit.sh lets it
    through); the driver it starts runs Spark 3.5.2 and stops before the lock or any table."""
    config = write_demo(tmp_path / "demo", members=50)
    env = {**environment(unsupported_pyspark), "SPARK_SUBMIT": str(unsupported_pyspark / "pyspark" / "bin" / "spark-submit"),
           "SPARK_MASTER": "local[1]", "SPARK_DRIVER_MEMORY": "1g", "LABELSPARK_SPARK_VERSION": "3.5.9",
           "LABELSPARK_SCALA_VERSION": "2.12", "LABELSPARK_SPARK_CONF": str(ROOT / "conf" / "spark-local-cluster.conf")}
    done = subprocess.run([str(ROOT / "scripts" / "submit.sh"), "jobs/compute_labels.py", str(config), "--date", "2026-03-31"],
                          cwd=ROOT, env=env, capture_output=True, text=True, timeout=600)
    output = done.stdout + done.stderr
    assert done.returncode == 2, output[-3000:]
    assert REFUSAL in output
    assert not (tmp_path / "demo" / "warehouse").exists()
