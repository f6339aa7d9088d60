"""Runs one engine's label computation in its own process and writes the result as parquet.

Usage: python -m tests.support.compute_snapshot ENGINE CONFIG DATE OUT_DIR

Differential tests run it once per engine: classic and Connect sessions cannot share a process.
"""
import datetime as dt
import sys

from labelspark.config import load_project
from labelspark.engines import open_session
from labelspark.pipeline import compute_snapshot
from labelspark.plan import make_plan


def main(engine: str, config: str, date: str, out: str) -> None:
    project = load_project(config)
    plan = make_plan(project, dt.date.fromisoformat(date), computed=set())
    with open_session(engine) as spark:
        compute_snapshot(spark, project, plan).write.mode("overwrite").parquet(out)


if __name__ == "__main__":
    main(*sys.argv[1:])
