"""label_history: SCD type 2 versions of every entity's label values, advanced once per run.

A value that changes on D closes the current version (valid_to = D, exclusive) and opens one
from D; a value or entity that disappears closes its version. Only labels present in the
day's snapshot are touched: a disabled label's history stays as it was.

The table is partitioned by `is_current`. A day reads only the current versions, finds its
changes by one full outer join of them with the day's values, and replaces the current
partition in one commit that also adds the versions it closed to the other partition: the
closed versions of earlier days, a dozen times the current ones after a year, are neither
read nor rewritten. Sail's MERGE took 3x as long as the join for the same result
(benchmarks/RESULTS.md). Writing only the changed rows needs deletion vectors, which Sail
writes but delta-rs 1.6 (the readers) cannot read. A table written before the partitioning
is rewritten partitioned by its next day, as every day rewrote it then.
"""
from __future__ import annotations

import datetime as dt
import logging

from pyspark.sql import DataFrame, SparkSession
from pyspark.sql import functions as F

from labelspark.warehouse.deltars import open_table
from labelspark.warehouse.delta import create_table, date_literal, read_table, replace_rows, run_sql_on

log = logging.getLogger(__name__)
CURRENT = "is_current"  # the partition column: current versions apart from closed ones


def advance_versions(spark: SparkSession, today: DataFrame, key: str, label_ids: list[str], path: str, run_date: dt.date) -> None:
    """Advances history to `run_date`'s values `today` (key, label_id, value) of `label_ids`,
    first undoing what an earlier (or failed) run of that date did."""
    history = read_table(spark, path)
    if history is None:
        create_table(today.select(
            key, "label_id", "value", F.lit(run_date).alias("valid_from"),
            F.lit(None).cast("date").alias("valid_to"), F.lit(True).alias(CURRENT),
        ), path, partition_by=CURRENT)
        return
    day = date_literal(run_date)
    if changed_on(spark, path, run_date):
        run_sql_on(spark, path, f"DELETE FROM {{table}} WHERE valid_from = {day}")
        run_sql_on(spark, path, f"UPDATE {{table}} SET valid_to = NULL, {CURRENT} = true WHERE valid_to = {day}")
        history = read_table(spark, path)
    advanced = advanced_history(history.where(F.col(CURRENT)), today, key, label_ids, run_date)
    if _unpartitioned(path):
        log.info("%s: rewritten once, partitioned by %s", path, CURRENT)
        create_table(advanced.unionByName(history.where(~F.col(CURRENT))), path, partition_by=CURRENT)
        return
    # `is_current`, not `is_current = true`: Sail looks the comparison up in the min/max file
    # statistics of an unpartitioned table (one delta-rs cannot reach), which booleans lack
    replace_rows(advanced, path, f"{CURRENT} OR valid_to = {day}", partition_column=CURRENT)


def advanced_history(current: DataFrame, today: DataFrame, key: str, label_ids: list[str], run_date: dt.date) -> DataFrame:
    """The versions that replace the `current` ones on `run_date`: those of `label_ids` that
    `today` (key, label_id, value) no longer holds, closed on `run_date`; today's new values,
    opened; the rest as they were. One full outer join of the current versions with today's values."""
    t, s = current.alias("t"), today.alias("s")
    same = [F.col(f"t.{c}") == F.col(f"s.{c}") for c in (key, "label_id", "value")]
    joined = t.join(s, same, "full")
    new = F.col(f"t.{key}").isNull()
    closes = F.col(f"s.{key}").isNull() & F.col("t.label_id").isin(label_ids)
    return joined.select(
        *(F.when(new, F.col(f"s.{c}")).otherwise(F.col(f"t.{c}")).alias(c) for c in (key, "label_id", "value")),
        F.when(new, F.lit(run_date)).otherwise(F.col("t.valid_from")).alias("valid_from"),
        F.when(closes, F.lit(run_date)).alias("valid_to"),  # null while current
        # never null (coalesce), as the partition column the table was created with
        F.coalesce(new | ~closes, F.lit(True)).alias(CURRENT),
    )


def _unpartitioned(path: str) -> bool:
    """Whether the table was written before the partitioning by `is_current`. A store delta-rs
    cannot reach (hdfs://) counts as partitioned: such a table advances correctly either way."""
    try:
        return open_table(path).metadata().partition_columns != [CURRENT]
    except Exception:  # delta-rs raises a class of its own per store; the layout only saves time
        return False


def changed_on(spark: SparkSession, path: str, day: dt.date) -> bool:
    """Whether a version of the table at `path` was opened or closed on `day`."""
    touched = (F.col("valid_from") == F.lit(day)) | (F.col("valid_to") == F.lit(day))
    return bool(spark.read.format("delta").load(path).where(touched).limit(1).count())
