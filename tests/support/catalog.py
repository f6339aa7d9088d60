"""Runs dates on classic Spark in a process of its own, with a table registered in the session
catalog first: the in-memory catalog of a local session lives as long as its session, so the
table is saved and the dates run in one session, as under spark-submit with a metastore.

    python -m tests.support.catalog TABLE PARQUET_DIR DATE CONFIG [CONFIG ...]

saves the parquet files of PARQUET_DIR as the managed Delta table TABLE (`db.name`, under
./spark-warehouse), then runs DATE for each config in turn (no publishing): one JVM for all.
"""
from __future__ import annotations

import datetime as dt
import sys

from labelspark.config import load_project
from labelspark.engine.sessions import open_session
from labelspark.compute.run import run


def main(table: str, parquet: str, date: str, *configs: str) -> int:
    with open_session("spark") as spark:
        spark.sql(f"CREATE DATABASE IF NOT EXISTS {table.split('.')[0]}")
        spark.read.parquet(parquet).write.format("delta").saveAsTable(table)
        for config in configs:
            run(spark, load_project(config), dt.date.fromisoformat(date), publish=False)
    return 0


if __name__ == "__main__":
    sys.exit(main(*sys.argv[1:]))
