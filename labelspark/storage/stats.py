"""label_stats: label x date x value (or bucket, or list element), in one pass over the snapshot.

Every label's values are unpivoted into (label_id, value) rows by one explode, then one
`groupBy` counts them all: the cost does not grow with one job per label.
"""
from __future__ import annotations

import datetime as dt

from pyspark.sql import Column, DataFrame, Window
from pyspark.sql import functions as F

from labelspark.config import Project
from labelspark.config.models import MetricLabel
from labelspark.udfs import as_text, bucket_name

STATS_TABLE = "label_stats"


def label_values(label, column: Column) -> Column:
    """The label's values of one entity as an array of strings (one element unless a list)."""
    if label.type == "list":  # each element once per entity; an empty list counts with the nulls
        return F.when(F.size(column) > 0, F.array_distinct(column)).otherwise(F.array(F.lit(None).cast("string")))
    if isinstance(label, MetricLabel) and label.buckets:
        return F.array(bucket_name(column, label.buckets))
    return F.array(as_text(column, label.type))


def label_stats(snapshot: DataFrame, project: Project, labels: list, run_date: dt.date) -> DataFrame:
    """(label_id, snapshot_date, value, users, proportion, rank) of one date's snapshot.

    `proportion` is over all entities of the date; nulls are a row of their own (value null);
    list labels count each element; `rank` orders by users descending, then value.
    """
    pairs = F.array(*(F.struct(F.lit(label.id).alias("label_id"), label_values(label, F.col(label.id)).alias("values")) for label in labels))
    counted = (
        snapshot.select(F.explode(pairs).alias("pair"))
        .select(F.col("pair.label_id").alias("label_id"), F.explode(F.col("pair.values")).alias("value"))
        .groupBy("label_id", "value")
        .agg(F.count(F.lit(1)).alias("users"))
    )
    total = snapshot.agg(F.count(F.lit(1)).alias("entities"))
    order = Window.partitionBy("label_id").orderBy(F.col("users").desc(), F.col("value").asc_nulls_last())
    return counted.crossJoin(total).select(
        "label_id",
        F.lit(run_date).alias("snapshot_date"),
        "value",
        "users",
        (F.col("users") / F.col("entities")).alias("proportion"),
        F.row_number().over(order).alias("rank"),
    )
