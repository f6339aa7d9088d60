"""label_history: SCD type 2 versions of every entity's label values, advanced once per run.

A value that changes on D closes the current version (valid_to = D, exclusive) and opens one
from D; a value or entity that disappears closes its version. Only labels present in the
day's snapshot are touched: a disabled label's history stays as it was.

The table is partitioned by `is_current` and keeps deletion vectors. A day finds its changes
by one full outer join of the current versions with the day's values, stages them (~3% of the
values on an ordinary day), and applies them in one MERGE: a closed version moves to the other
partition (its old row masked by a deletion vector, not rewritten), a new one is appended. So a
day writes files in proportion to what changed, not to entities x labels; the closed versions of
earlier days are neither read nor rewritten. `labelspark compact` purges the masks as they
accumulate. A table written before the partitioning or the deletion vectors is upgraded once, by
its next day.
"""
from __future__ import annotations

import datetime as dt
import logging
import uuid

from pyspark.sql import DataFrame, SparkSession
from pyspark.sql import functions as F

from labelspark.warehouse.deltars import open_table
from labelspark.warehouse.delta import (
    create_table, date_literal, enable_deletion_vectors, has_deletion_vectors, merge, nullable, read_table, run_sql_on,
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
    _upgrade(spark, history, path)
    current = spark.read.format("delta").load(path).where(F.col(CURRENT))
    with staging_area(path.rstrip("/").rpartition("/")[0], f"history-{uuid.uuid4().hex}") as staging:
        # nullable: Sail's MERGE joins target and source outer, so a NOT NULL source column fails
        changes = staging.keep(nullable(changed_versions(current, today, key, label_ids)), "changes")
        count = changes.count()
        log.info("%s %s: %d versions close or open", path.rpartition("/")[2], run_date, count)
        if count:
            merge(spark, F.broadcast(changes) if count <= BROADCAST_ROWS else changes, path, _merge_text(key, day))


def changed_versions(current: DataFrame, today: DataFrame, key: str, label_ids: list[str]) -> DataFrame:
    """(key, label_id, value, closes) of what changes from the `current` versions to `today`'s
    values (key, label_id, value): a current version of `label_ids` that today no longer holds
    closes; a value today holds that no current version does opens. One full outer join."""
    t, s = current.alias("t"), today.alias("s")
    same = [F.col(f"t.{c}") == F.col(f"s.{c}") for c in (key, "label_id", "value")]
    joined = t.join(s, same, "full")
    opens = F.col(f"t.{key}").isNull()
    closes = F.col(f"s.{key}").isNull() & F.col("t.label_id").isin(label_ids)
    return joined.where(opens | closes).select(
        *(F.when(opens, F.col(f"s.{c}")).otherwise(F.col(f"t.{c}")).alias(c) for c in (key, "label_id", "value")),
        (~opens).alias(CLOSES),
    )


def _merge_text(key: str, day: str) -> str:
    """The MERGE (after its source) applying staged changes on `day`: a close matches the
    entity's current version of the label (one at most) and moves it to the closed partition;
    an open is inserted current."""
    k = f"`{key.replace('`', '``')}`"
    return (
        f"ON t.{CURRENT} AND s.{CLOSES} AND t.{k} = s.{k} AND t.label_id = s.label_id "
        f"WHEN MATCHED THEN UPDATE SET t.valid_to = {day}, t.{CURRENT} = false "
        f"WHEN NOT MATCHED AND NOT s.{CLOSES} THEN INSERT ({k}, label_id, value, valid_from, valid_to, {CURRENT}) "
        f"VALUES (s.{k}, s.label_id, s.value, {day}, CAST(NULL AS DATE), true)"
    )


def _upgrade(spark: SparkSession, history: DataFrame, path: str) -> None:
    """Brings a table written by an earlier labelspark to today's layout, once."""
    if _unpartitioned(path):
        log.info("%s: rewritten once, partitioned by %s", path, CURRENT)
        create_table(history, path, partition_by=CURRENT, deletion_vectors=True)
    elif not has_deletion_vectors(path) and enable_deletion_vectors(spark, path):
        log.info("%s: deletion vectors enabled, once: a day now writes what changed, not every current version", path)


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
