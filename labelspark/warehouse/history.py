"""label_history: SCD type 2 versions of every entity's label values, advanced once per run.

A value that changes on D closes the current version (valid_to = D, exclusive) and opens one
from D; a value or entity that disappears closes its version. Only labels present in the
day's snapshot are touched: a disabled label's history stays as it was.

The table is partitioned by `is_current` and keeps deletion vectors. A day finds its changes
by one full outer join of the current versions with the day's values. On classic Spark (and
Spark Connect servers) it stages them (~3% of the values on an ordinary day) and applies them:
a MERGE moves each closed version to the other partition (its old row masked by a deletion
vector, not rewritten), an append adds the new ones, so a day writes in proportion to what
changed, not to entities x labels. On Sail it replaces the current partition in one commit
(which purges its masks): Sail 0.7's MERGE sorts every current version to join them (its hash
joins are off, see engine/sessions.py) and took twice as long as the replace. Either way the closed versions
of earlier days are neither read nor rewritten; `labelspark compact` purges masks as they
accumulate. A table written before the partitioning is partitioned by its next day, and one
without deletion vectors gets them by its next MERGE.
"""
from __future__ import annotations

import datetime as dt
import logging
import uuid

from pyspark.sql import DataFrame, SparkSession
from pyspark.sql import functions as F

from labelspark.engine.facts import engine_of
from labelspark.warehouse.deltars import open_table
from labelspark.warehouse.delta import (
    DELETION_VECTORS, append_rows, create_table, date_literal, has_deletion_vectors, merge, read_table, replace_rows,
    run_sql_on, set_table_properties,
)
from labelspark.warehouse.staging import staging_area

log = logging.getLogger(__name__)
CURRENT = "is_current"  # the partition column: current versions apart from closed ones
CLOSES = "closes"  # a staged change: true closes the entity's current version, false opens `value`
# staged changes up to this many are sent whole to every task of classic Spark's MERGE (a
# broadcast join: 31 s against 77 s for the sort of 5*10^7 current versions at 10^6 users)
BROADCAST_ROWS = 5_000_000


def advance_versions(spark: SparkSession, today: DataFrame, key: str, label_ids: list[str], path: str, run_date: dt.date) -> None:
    """Advances history to `run_date`'s values `today` (key, label_id, value) of `label_ids`,
    first undoing what an earlier (or failed) run of that date did."""
    history = read_table(spark, path)
    if history is None:
        create_table(today.select(
            key, "label_id", "value", F.lit(run_date).alias("valid_from"),
            F.lit(None).cast("date").alias("valid_to"), F.lit(True).alias(CURRENT),
        ), path, partition_by=CURRENT, deletion_vectors=True)
        return
    day = date_literal(run_date)
    if changed_on(spark, path, run_date):
        run_sql_on(spark, path, f"DELETE FROM {{table}} WHERE valid_from = {day}")
        run_sql_on(spark, path, f"UPDATE {{table}} SET valid_to = NULL, {CURRENT} = true WHERE valid_to = {day}")
        history = read_table(spark, path)
    advanced = advanced_history(history.where(F.col(CURRENT)), today, key, label_ids, run_date)
    if _unpartitioned(path):
        log.info("%s: rewritten once, partitioned by %s", path, CURRENT)
        create_table(advanced.unionByName(history.where(~F.col(CURRENT))), path, partition_by=CURRENT, deletion_vectors=True)
    elif engine_of(spark).name == "sail":
        # `is_current`, not `is_current = true`: Sail looks the comparison up in the min/max file
        # statistics of an unpartitioned table (one delta-rs cannot reach), which booleans lack
        replace_rows(advanced, path, f"{CURRENT} OR valid_to = {day}", partition_column=CURRENT)
    else:
        _merge_changes(spark, changed_versions(advanced, run_date), key, path, run_date)


def _merge_changes(spark: SparkSession, changes: DataFrame, key: str, path: str, run_date: dt.date) -> None:
    """Applies the day's `changes`, staged: one MERGE moves the closed versions to the closed
    partition (their current rows masked), then the new versions are appended. Two commits, so
    that the MERGE joins the changes to the current versions inner (a MERGE that also inserts
    joins them outer, where Spark cannot broadcast them); a run that dies between them is
    undone by the next run of its date, as any other (`changed_on`)."""
    if not has_deletion_vectors(path):
        set_table_properties(spark, path, {DELETION_VECTORS: "true"})
        log.info("%s: deletion vectors enabled, once: a day now writes what changed, not every current version", path)
    with staging_area(path.rstrip("/").rpartition("/")[0], f"history-{uuid.uuid4().hex}") as staging:
        staged = staging.keep(changes, "changes")
        closes = staged.where(F.col(CLOSES))
        count = closes.count()
        log.info("%s %s: %d versions close", path.rpartition("/")[2], run_date, count)
        if count:
            merge(spark, F.broadcast(closes) if count <= BROADCAST_ROWS else closes, path, _closing(key, date_literal(run_date)))
        append_rows(staged.where(~F.col(CLOSES)).select(
            key, "label_id", "value", F.lit(run_date).alias("valid_from"),
            F.lit(None).cast("date").alias("valid_to"), F.lit(True).alias(CURRENT),
        ), path, partition_column=CURRENT)


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


def changed_versions(advanced: DataFrame, run_date: dt.date) -> DataFrame:
    """(key, label_id, value, closes) of the `advanced` versions that close or open on
    `run_date`: what classic Spark's day writes."""
    changed = advanced.where((F.col("valid_to") == F.lit(run_date)) | (F.col("valid_from") == F.lit(run_date)))
    return changed.withColumn(CLOSES, F.col("valid_to").isNotNull()).drop("valid_from", "valid_to", CURRENT)


def _closing(key: str, day: str) -> str:
    """The MERGE (after its source) closing on `day` the current version of each (entity, label)
    the source names: one at most; it moves to the closed partition."""
    k = f"`{key.replace('`', '``')}`"
    return (
        f"ON t.{CURRENT} AND t.{k} = s.{k} AND t.label_id = s.label_id "
        f"WHEN MATCHED THEN UPDATE SET t.valid_to = {day}, t.{CURRENT} = false"
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
