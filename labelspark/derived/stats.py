"""label_stats: label x date x value (or bucket, or list element), unpivoted from the snapshot.

Every label's value, as text, is unpivoted into (label_id, value) rows with `stack`, and counted
by a groupBy, a hundred labels at a time: the plan grows with the labels, the work with
entities x labels. Counting known values with one `count(when(...))` per label and value in a single
aggregation made the plan grow with labels x values, and Sail's planning with its square:
52 s for 600 labels at 2*10^4 entities (benchmarks/RESULTS.md).
"""
from __future__ import annotations

import datetime as dt
import functools

from pyspark.sql import Column, DataFrame, Window
from pyspark.sql import functions as F

from labelspark.config import Project
from labelspark.methods import method_of

GROUP = 100  # labels unpivoted together (`_groups`)


def _counts(snapshot: DataFrame, values: dict[str, Column], elements: bool = False) -> DataFrame:
    """(label_id, value, users): the labels unpivoted (list labels' `elements` exploded), one
    groupBy on each label's position, mapped back to its id after (grouping on an int instead of
    the id's text took a fifth less CPU at 10^6 entities)."""
    pairs = (part for position, column in enumerate(values.values()) for part in (F.lit(position), column))
    unpivoted = snapshot.select(F.stack(F.lit(len(values)), *pairs).alias("position", "value"))
    if elements:
        unpivoted = unpivoted.select("position", F.explode("value").alias("value"))
    label_id = F.element_at(F.array(*map(F.lit, values)), F.col("position") + 1)
    counted = unpivoted.groupBy("position", "value").agg(F.count(F.lit(1)).alias("users"))
    return counted.select(label_id.alias("label_id"), "value", "users")


def _groups(values: dict[str, Column]) -> list[dict[str, Column]]:
    """`values` in groups of at most GROUP labels, each unpivoted and counted on its own: a
    group's scan reads only its columns and each row stacks at most GROUP values (one group of
    600 labels took 3.4x the CPU of one of 200, groups of 100 took 3.3x and 40% less in all)."""
    ids = list(values)
    return [{label_id: values[label_id] for label_id in ids[i:i + GROUP]} for i in range(0, len(ids), GROUP)]


def label_stats(snapshot: DataFrame, project: Project, labels: list, run_date: dt.date) -> DataFrame:
    """(label_id, value, users, proportion, rank, snapshot_date) of one date's snapshot (the
    partition column last, where Sail puts it and delta-spark keeps it, so both write one order).

    `proportion` is over all entities of the date; nulls are a row of their own (value null);
    list labels count each element; `rank` orders by users descending, then value.
    """
    counted = {label.id: method_of(label).counted(label, F.col(label.id)) for label in labels}
    scalars = {label.id: counted[label.id] for label in labels if label.type != "list"}
    lists = {label.id: counted[label.id] for label in labels if label.type == "list"}
    parts = [*(_counts(snapshot, group) for group in _groups(scalars)), *(_counts(snapshot, group, elements=True) for group in _groups(lists))]
    if not parts:  # every label disabled: no counts, and a re-run clears the date's old ones
        parts = [snapshot.limit(0).select(
            F.lit(None).cast("string").alias("label_id"), F.lit(None).cast("string").alias("value"), F.lit(0).cast("long").alias("users"),
        )]
    counts = functools.reduce(DataFrame.unionByName, parts)
    total = snapshot.agg(F.count(F.lit(1)).alias("entities"))
    order = Window.partitionBy("label_id").orderBy(F.col("users").desc(), F.col("value").asc_nulls_last())
    # the one-row side first: Sail builds a cross join's left side in memory, on one thread
    return total.crossJoin(counts).select(
        "label_id",
        "value",
        "users",
        (F.col("users") / F.col("entities")).alias("proportion"),
        F.row_number().over(order).alias("rank"),
        F.lit(run_date).alias("snapshot_date"),
    )
