"""label_updates: each change the real-time stream made to a label, kept for audit and replay.

One row per (entity, label) a micro-batch changed: the value and the one it replaced (text, as in
label_history), when, the business day it is a value of (`snapshot_date`, the partition) and
the stream's query and batch. Appends are idempotent per batch: Delta's transaction ids
(`txnAppId` = the query's id, which survives restarts from its checkpoint, `txnVersion` = the
batch id) make a batch re-run after a crash write nothing a second time.
"""
from __future__ import annotations

import datetime as dt

from pyspark.sql import DataFrame, SparkSession, Window
from pyspark.sql import functions as F

from labelspark.warehouse.delta import nullable, read_table
from labelspark.warehouse.names import DATE

STREAM_ID = "stream_id"
BATCH_ID = "batch_id"
UPDATED_AT = "updated_at"


def append_batch(changes: DataFrame, path: str, stream_id: str, batch_id: int) -> None:
    """Appends one micro-batch's changes once: a second append of the same batch is skipped by Delta."""
    (nullable(changes, DATE).write.format("delta").mode("append")
     .option("txnAppId", stream_id).option("txnVersion", batch_id)
     .partitionBy(DATE).save(path))


def of_batch(spark: SparkSession, path: str, stream_id: str, batch_id: int) -> DataFrame | None:
    """The changes the table holds for one batch (written now, or by an attempt before a crash)."""
    table = read_table(spark, path)
    if table is None:
        return None
    return table.where((F.col(STREAM_ID) == F.lit(stream_id)) & (F.col(BATCH_ID) == F.lit(batch_id)))


def last_batch(spark: SparkSession, path: str, stream_id: str) -> int | None:
    """The last batch of the stream `stream_id` that appended changes (None: none yet)."""
    table = read_table(spark, path)
    return None if table is None else table.where(F.col(STREAM_ID) == F.lit(stream_id)).agg(F.max(BATCH_ID)).first()[0]


def latest_since(spark: SparkSession, path: str, key: str, after: dt.date | None) -> DataFrame | None:
    """(key, label_id, value): each (entity, label)'s last value of the days after `after` (the
    nightly snapshot's date; None: every day), the last by time then batch."""
    table = read_table(spark, path)
    if table is None:
        return None
    if after is not None:
        table = table.where(F.col(DATE) > F.lit(after))
    last = Window.partitionBy(key, "label_id").orderBy(F.col(UPDATED_AT).desc(), F.col(BATCH_ID).desc())
    return (table.withColumn("__last", F.row_number().over(last)).where(F.col("__last") == 1)
            .select(key, "label_id", "value"))

