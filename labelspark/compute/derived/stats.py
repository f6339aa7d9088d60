"""label_stats: label x date x value (or bucket, or list element), counted from the snapshot.

On Sail each label's values, as text, are counted by a groupBy of their own, and the counts
unioned: the plan grows with the labels, the work with entities x labels. Elsewhere the labels
are exploded in one scan and counted by one groupBy (unions.py says why). Counting known values with
one `count(when(...))` per label and value in a single aggregation made Sail's planning grow
with the square of labels x values (52 s for 600 labels at 2*10^4 entities); unpivoting the
labels with `stack` first and counting once took 2.9x the CPU of the union at 10^6 entities x
50 labels (benchmarks/RESULTS.md).
"""
from __future__ import annotations

import datetime as dt

from pyspark.sql import Column, DataFrame, Window
from pyspark.sql import functions as F

from labelspark.config import Project
from labelspark.compute.derived.unions import exploded, union_all, union_per_label
from labelspark.compute.methods import method_of
from labelspark.warehouse.names import DATE


def _counts(snapshot: DataFrame, label_id: str, value: Column, elements: bool) -> DataFrame:
    """(label_id, value, users) of one label; a list label (`elements`) counts each element."""
    values = snapshot.select((F.explode(value) if elements else value).alias("value"))
    counted = values.groupBy("value").agg(F.count(F.lit(1)).alias("users"))
    return counted.select(F.lit(label_id).alias("label_id"), "value", "users")


def label_stats(snapshot: DataFrame, project: Project, labels: list, run_date: dt.date) -> DataFrame:
    """(label_id, value, users, proportion, rank, snapshot_date) of one date's snapshot (the
    partition column last, where Sail puts it and delta-spark keeps it, so both write one order).

    `proportion` is over all entities of the date; nulls are a row of their own (value null);
    list labels count each element; `rank` orders by users descending, then value.
    """
    counted = {label.id: method_of(label).counted(label, F.col(label.id)) for label in labels}
    lists = frozenset(label.id for label in labels if label.type == "list")
    if not counted:  # every label disabled: no counts, and a re-run clears the date's old ones
        counts = snapshot.limit(0).select(
            F.lit(None).cast("string").alias("label_id"), F.lit(None).cast("string").alias("value"), F.lit(0).cast("long").alias("users"),
        )
    elif union_per_label(snapshot):
        counts = union_all([_counts(snapshot, label_id, value, label_id in lists) for label_id, value in counted.items()])
    else:
        counts = exploded(snapshot, counted, [], lists).groupBy("label_id", "value").agg(F.count(F.lit(1)).alias("users"))
    total = snapshot.agg(F.count(F.lit(1)).alias("entities"))
    order = Window.partitionBy("label_id").orderBy(F.col("users").desc(), F.col("value").asc_nulls_last())
    # the one-row side first: Sail builds a cross join's left side in memory, on one thread
    return total.crossJoin(counts).select(
        "label_id",
        "value",
        "users",
        (F.col("users") / F.col("entities")).alias("proportion"),
        F.row_number().over(order).alias("rank"),
        F.lit(run_date).alias(DATE),
    )
