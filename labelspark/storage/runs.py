"""label_runs: one row per run, `running` when it starts, `succeeded` or `failed` when it ends."""
from __future__ import annotations

import datetime as dt
import json
import uuid
from dataclasses import dataclass, field

from pyspark.sql import SparkSession
from pyspark.sql import functions as F

from labelspark.storage.delta import merge, read_table

SCHEMA = (
    "run_id string, snapshot_date date, status string, labels array<string>, rows bigint, "
    "started_at timestamp, finished_at timestamp, `index` string, error string, details string"
)


@dataclass
class RunRecord:
    snapshot_date: dt.date
    run_id: str = field(default_factory=lambda: dt.datetime.now(dt.timezone.utc).strftime("%Y%m%d%H%M%S") + uuid.uuid4().hex[:6])
    started_at: dt.datetime = field(default_factory=lambda: dt.datetime.now(dt.timezone.utc))
    status: str = "running"
    labels: list[str] = field(default_factory=list)
    rows: int | None = None
    finished_at: dt.datetime | None = None
    index: str | None = None
    error: str | None = None
    details: dict = field(default_factory=dict)

    def row(self) -> tuple:
        return (
            self.run_id, self.snapshot_date, self.status, self.labels, self.rows, self.started_at,
            self.finished_at, self.index, self.error, json.dumps(self.details, sort_keys=True) if self.details else None,
        )


def record(spark: SparkSession, path: str, run: RunRecord) -> None:
    """Inserts or updates the run's row (values travel as data, never as SQL text)."""
    row = spark.createDataFrame([run.row()], SCHEMA)
    if read_table(spark, path) is None:
        row.write.format("delta").save(path)
        return
    merge(spark, row, path, "ON t.run_id = s.run_id WHEN MATCHED THEN UPDATE SET * WHEN NOT MATCHED THEN INSERT *")


def latest_succeeded_date(spark: SparkSession, path: str) -> dt.date | None:
    """The latest date a run succeeded for: history advances only from there on."""
    runs = read_table(spark, path)
    if runs is None:
        return None
    return runs.where(F.col("status") == F.lit("succeeded")).agg(F.max("snapshot_date")).first()[0]
