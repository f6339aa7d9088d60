"""label_stats: label x date x value (or bucket, or list element), in two passes over the snapshot.

Labels whose values are known from the config (rules values, tiers, buckets, booleans) are
counted in one global aggregation: one `count(when(...))` per label and value, one row out
(`count_if` is 17x slower on Sail). Only
labels with open values (metrics, picks, imports) are unpivoted into (label, value) rows
and grouped. Each label method says which it is (`labelspark.methods`). Unpivoting every label made 10^8 rows at 10^6 entities and 100 labels.
"""
from __future__ import annotations

import datetime as dt
import functools

from pyspark.sql import Column, DataFrame, Window
from pyspark.sql import functions as F

from labelspark.config import Project
from labelspark.methods import KnownValues, OpenValues, method_of
from labelspark.udfs import stacked


def _known_counts(snapshot: DataFrame, labels: dict[str, KnownValues]) -> DataFrame:
    """(label_id, value, users) of labels with known values (and buckets): one aggregation."""
    counts: list[tuple[str, Column, Column]] = []  # label id, value text, count
    for label_id, known in labels.items():
        counts.append((label_id, F.lit(None).cast("string"), F.count(F.when(known.missing, F.lit(1)))))
        counts.extend((label_id, text, F.count(F.when(condition, F.lit(1)))) for text, condition in known.cases)
    row = snapshot.agg(*(count.alias(f"c{i}") for i, (_, _, count) in enumerate(counts)))
    unpivoted = F.array(*(
        F.struct(F.lit(label_id).alias("label_id"), text.alias("value"), F.col(f"c{i}").alias("users"))
        for i, (label_id, text, _) in enumerate(counts)
    ))
    return row.select(F.inline(unpivoted)).where(F.col("users") > 0)


def _open_counts(snapshot: DataFrame, values: dict[str, Column]) -> DataFrame:
    """(label_id, value, users) of labels with open values: unpivoted, then one groupBy."""
    return (
        snapshot.select(stacked(values, "values"))
        .select("label_id", F.explode("values").alias("value"))
        .groupBy("label_id", "value")
        .agg(F.count(F.lit(1)).alias("users"))
    )


def label_stats(snapshot: DataFrame, project: Project, labels: list, run_date: dt.date) -> DataFrame:
    """(label_id, value, users, proportion, rank, snapshot_date) of one date's snapshot (the
    partition column last, where Sail puts it and delta-spark keeps it, so both write one order).

    `proportion` is over all entities of the date; nulls are a row of their own (value null);
    list labels count each element; `rank` orders by users descending, then value.
    """
    counting = {label.id: method_of(label).counted(label, F.col(label.id)) for label in labels}
    known = {label_id: how for label_id, how in counting.items() if isinstance(how, KnownValues)}
    opened = {label_id: how.values for label_id, how in counting.items() if isinstance(how, OpenValues)}
    parts = ([_known_counts(snapshot, known)] if known else []) + ([_open_counts(snapshot, opened)] if opened else [])
    if not parts:  # every label disabled: no counts, and a re-run clears the date's old ones
        parts = [snapshot.limit(0).select(
            F.lit(None).cast("string").alias("label_id"), F.lit(None).cast("string").alias("value"), F.lit(0).cast("long").alias("users"),
        )]
    counted = functools.reduce(DataFrame.unionByName, parts)
    total = snapshot.agg(F.count(F.lit(1)).alias("entities"))
    order = Window.partitionBy("label_id").orderBy(F.col("users").desc(), F.col("value").asc_nulls_last())
    # the one-row side first: Sail builds a cross join's left side in memory, on one thread
    return total.crossJoin(counted).select(
        "label_id",
        "value",
        "users",
        (F.col("users") / F.col("entities")).alias("proportion"),
        F.row_number().over(order).alias("rank"),
        F.lit(run_date).alias("snapshot_date"),
    )
