"""The Spark lines the classic-Spark tests run on, each as a Python interpreter that has its PySpark.

- `4.x`: this interpreter (PySpark 4.1, delta-spark 4.1).
- `3.5`: a virtualenv with PySpark 3.5 (delta-spark 3.3) that scripts/spark-line.sh makes:
  `$LABELSPARK_SPARK35_PYTHON`, else .venv-spark35/bin/python in the checkout.
"""
from __future__ import annotations

import os
import sys
from pathlib import Path

from tests.support.prerequisites import missing

ROOT = Path(__file__).resolve().parents[2]
SPARK_LINES = ("4.x", "3.5")
SPARK35_VARIABLE = "LABELSPARK_SPARK35_PYTHON"


def python_of(line: str) -> str:
    """The interpreter of `line`; a missing 3.5 venv skips the test, and fails it under CI=true."""
    if line == "4.x":
        return sys.executable
    python = Path(os.environ.get(SPARK35_VARIABLE) or ROOT / ".venv-spark35" / "bin" / "python")
    if python.is_file():
        return str(python)
    missing(f"no Spark 3.5 interpreter at {python}: run scripts/spark-line.sh (or set {SPARK35_VARIABLE})")


def classic_environment() -> dict:
    """This process's environment less the Spark Connect flags a Sail session in it set, with
    which a child's builder would refuse a classic session."""
    return {name: value for name, value in os.environ.items() if name not in ("SPARK_REMOTE", "SPARK_CONNECT_MODE_ENABLED")}


def environment_of(python: str) -> dict:
    """The environment of a shell whose PATH finds that interpreter's spark-submit and scripts."""
    return {**classic_environment(), "PATH": f"{Path(python).parent}{os.pathsep}{os.environ['PATH']}",
            "PYTHON": python, "PYSPARK_PYTHON": python, "SPARK_LOCAL_IP": "127.0.0.1"}
