"""label_snapshot: entity x date, partitioned by snapshot_date, one typed column per enabled label.

Writing date D replaces that date's partition in one commit (`replaceWhere`), so a re-run
leaves the same table. When the label columns change (a label added, removed or retyped),
the table is rewritten once, in one commit, with the new columns and every other date
kept: Sail 0.7 cannot evolve a schema within `replaceWhere`, ignores dynamic partition
overwrite, and applies `mergeSchema` on append only sometimes. Every label column is
nullable (a label not due is null for entities that arrived since it was computed); a table
written with NOT NULL label columns by an earlier version is rewritten the same way, once.
"""
from __future__ import annotations

import datetime as dt

from pyspark.sql import DataFrame, SparkSession
from pyspark.sql import functions as F

from labelspark.warehouse.delta import create_table, date_literal, has_not_null_columns, partition_of, read_table, replace_rows
from labelspark.warehouse.names import DATE


def write_snapshot(spark: SparkSession, snapshot: DataFrame, path: str, run_date: dt.date, key: str) -> None:
    """Writes `snapshot` (key + label columns) as the partition of `run_date`, the date column last
    (where Sail puts a partition column and delta-spark keeps it: one column order on both)."""
    day = snapshot.select(key, *(c for c in snapshot.columns if c != key), F.lit(run_date).alias(DATE))
    existing = read_table(spark, path)
    if existing is None:
        create_table(day, path, partition_by=DATE)
        return
    old, new = _types(existing), _types(day)
    if old == new and not has_not_null_columns(existing, allowed={DATE}):
        replace_rows(day, path, f"{DATE} = {date_literal(run_date)}", partition_column=DATE)
        return
    kept = existing.where(F.col(DATE) != F.lit(run_date)).select(
        *(F.col(c) if old.get(c) == t else F.lit(None).cast(t).alias(c) for c, t in new.items())
    )
    create_table(kept.unionByName(day), path, partition_by=DATE)


def drop_columns(spark: SparkSession, path: str, columns: list[str]) -> None:
    """Rewrites the table without `columns`, every date kept, in one commit."""
    create_table(read_table(spark, path).drop(*columns), path, partition_by=DATE)


def latest_snapshot(spark: SparkSession, path: str, run_date: dt.date) -> DataFrame | None:
    """The latest snapshot partition on or before `run_date` (a re-run reads its own date), or None."""
    table = read_table(spark, path)
    if table is None:
        return None
    latest = table.where(F.col(DATE) <= F.lit(run_date)).agg(F.max(DATE)).first()[0]
    return None if latest is None else partition_of(table, latest)


def _types(df: DataFrame) -> dict[str, str]:
    """Column types by name, nullability aside (engines differ in what they mark nullable)."""
    return {field.name: field.dataType.simpleString() for field in df.schema.fields}


def snapshot_columns(spark: SparkSession, path: str) -> set[str]:
    table = read_table(spark, path)
    return set(table.columns) if table is not None else set()


def next_snapshot_date(spark: SparkSession, path: str, day: dt.date) -> dt.date | None:
    """The first snapshot date after `day`, or None."""
    return read_table(spark, path).where(F.col(DATE) > F.lit(day)).agg(F.min(DATE)).first()[0]
