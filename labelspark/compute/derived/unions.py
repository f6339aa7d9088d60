"""The rows of many labels as one DataFrame, for the stats and history of a day, in the form
each engine runs best.

On Sail, one narrow select per label, unioned: its unpivot of every label (`stack`) made all
entities x labels rows before anything else and took 2.9x the CPU of the union (10^6 entities
x 50 labels). On classic Spark every branch of such a union plans its own scan of the
snapshot's Delta log, a job each: a run of 200 labels at 2*10^4 entities made 670 Spark jobs.
There one select explodes an array of (label_id, value) per entity instead: one scan, and a
run makes 73 jobs at 20, 200 or 600 labels.
"""
from __future__ import annotations

from typing import Callable

from pyspark.sql import Column, DataFrame
from pyspark.sql import functions as F

from labelspark.engine.facts import engine_of


def union_per_label(df: DataFrame) -> bool:
    """Whether the labels of `df` are best read one select each (Sail) rather than in one scan."""
    return engine_of(df.sparkSession).name == "sail"


def union_all(frames: list[DataFrame]) -> DataFrame:
    """The rows of every frame (same columns, by position), unioned as a balanced tree: a chain
    of 600 unions nested 600 plans deep, and Sail's planner overflowed its stack (SIGSEGV)."""
    if len(frames) == 1:
        return frames[0]
    middle = len(frames) // 2
    return union_all(frames[:middle]).unionAll(union_all(frames[middle:]))


def exploded(df: DataFrame, values: dict[str, Column], keep: list[str], elements: frozenset[str] = frozenset()) -> DataFrame:
    """(*keep, label_id, value) in one select: a row per label of each row of `df`, `values` giving
    each label's value; a label in `elements` has an array, and a row per element of it."""
    entries = [
        F.transform(value, _entry_of(label_id)) if label_id in elements
        else F.array(_entry(label_id, value))
        for label_id, value in values.items()
    ]
    return df.select(*keep, F.explode(F.flatten(F.array(*entries))).alias("entry")).select(*keep, "entry.label_id", "entry.value")


def _entry(label_id: str, value: Column) -> Column:
    return F.struct(F.lit(label_id).alias("label_id"), value.alias("value"))


def _entry_of(label_id: str) -> Callable[[Column], Column]:
    """The entry of one element (a function of one argument: `transform` passes two to a function of two)."""
    return lambda element: _entry(label_id, element)
