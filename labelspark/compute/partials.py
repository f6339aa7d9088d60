"""Indicators as partial aggregates that merge exactly: what a tile keeps per entity and block
of days, how blocks merge, and how the indicator's value is read from the merged partials.

Every aggregate of `compute.aggregates` has such a form with the same bits: counts and the
fixed-point parts of sums add up as integers, min and max (and the text keys that pick
`first`, `last` and the latest row) are their own merge, and `mode`, `collect_set` and
`count_distinct` keep the block's values (distinct ones where the multiset does not matter).
A partial reads no window: windows choose blocks when they merge.
"""
from __future__ import annotations

import hashlib
from dataclasses import dataclass
from typing import Callable

from pyspark.sql import Column, DataFrame
from pyspark.sql import functions as F

from labelspark.config.models import Indicator
from labelspark.errors import UnknownReference
from labelspark.udfs import distinct_count_of, mean_of, mode_of, pick, sorted_distinct_of
from labelspark.udfs.exact import total_of_parts


@dataclass(frozen=True)
class Partial:
    """One column of a tile: its aggregate over rows, and over tiles."""

    definition: str
    over_rows: Column
    merge: Callable[[Column], Column]
    # the merge that reads an indicator, where the tiles' own would do needless work (sorting lists)
    final_merge: Callable[[Column], Column] | None = None

    def merge_for_reading(self, partial: Column) -> Column:
        return (self.final_merge or self.merge)(partial)

    @property
    def column(self) -> str:
        """Its name in the tile tables: the same for the same definition, run after run."""
        return "p_" + hashlib.sha1(self.definition.encode()).hexdigest()[:16]


@dataclass(frozen=True)
class Mergeable:
    """An indicator as partials and the way its value is read from them, merged."""

    partials: tuple[Partial, ...]
    finish: Callable[[list[Column]], Column]


@dataclass(frozen=True)
class _Reading:
    df: DataFrame
    time_column: str
    indicator: Indicator
    where: Column | None
    where_definition: str
    fixed: dict[str, tuple[str, str]]  # double columns -> their fixed-point parts

    @property
    def of(self) -> str:
        return self.indicator.of or self.indicator.column

    def kept(self, column: str) -> Column:
        return F.col(column) if self.where is None else F.when(self.where, F.col(column))

    def named(self, what: str) -> str:
        return f"{what} {self.of} {self.where_definition}"


def mergeable(df: DataFrame, time_column: str, indicator: Indicator, where: Column | None, where_definition: str,
              fixed: dict[str, tuple[str, str]]) -> Mergeable:
    """The indicator's partials: its `agg`'s entry in MERGEABLE (a `column` indicator: the latest row)."""
    reading = _Reading(df, time_column, indicator, where, where_definition, fixed)
    agg = indicator.agg or "latest"
    if agg not in MERGEABLE:
        raise UnknownReference.among("aggregate", agg, MERGEABLE)
    return MERGEABLE[agg](reading)


def _summed_up(merged: Column) -> Column:
    return F.sum(merged)


def _values_up(merged: Column) -> Column:
    """A block's values from its parts' (sorted: tiles hold the same bits whatever the row order)."""
    return F.array_sort(F.flatten(F.collect_list(merged)))


def _distinct_up(merged: Column) -> Column:
    return F.array_sort(F.array_distinct(F.flatten(F.collect_list(merged))))


def _concatenated(merged: Column) -> Column:
    """The blocks' values together, unsorted: `mode_of` and the distinct finishers sort them."""
    return F.flatten(F.collect_list(merged))


def _count(r: _Reading) -> Mergeable:
    if r.indicator.of is None:
        counted = F.lit(1) if r.where is None else F.when(r.where, F.lit(1))
        partial = Partial(f"count rows {r.where_definition}", F.count(counted), _summed_up)
    else:
        partial = Partial(r.named("count"), F.count(r.kept(r.of)), _summed_up)
    return Mergeable((partial,), lambda m: F.coalesce(m[0], F.lit(0).cast("long")))


def _summed(r: _Reading) -> Mergeable:
    if r.of in r.fixed:
        high, low = (Partial(r.named(f"sum {part}"), F.sum(r.kept(name)), _summed_up) for part, name in zip(("high", "low"), r.fixed[r.of]))
        parts, total = (high, low), (lambda m: total_of_parts(m[0], m[1]))
    else:  # integers and decimals add up exactly as they are, in the type a sum of the rows has
        sum_type = r.df.select(F.sum(F.col(r.of))).schema[0].dataType
        parts, total = (Partial(r.named("sum"), F.sum(r.kept(r.of)), _summed_up),), (lambda m: m[0].cast(sum_type))
    if r.indicator.agg == "sum":
        return Mergeable(parts, total)
    count = Partial(r.named("count"), F.count(r.kept(r.of)), _summed_up)
    return Mergeable((*parts, count), lambda m: mean_of(total(m), m[-1]))


def _least(r: _Reading) -> Mergeable:
    return Mergeable((Partial(r.named("min"), F.min(r.kept(r.of)), F.min),), lambda m: m[0])


def _greatest(r: _Reading) -> Mergeable:
    return Mergeable((Partial(r.named("max"), F.max(r.kept(r.of)), F.max),), lambda m: m[0])


def _picked(r: _Reading) -> Mergeable:
    """`first`, `last` and the latest value: the least or greatest text key (udfs/picks.py) of
    the rows, which is the least or greatest of the blocks' keys."""
    how = r.indicator.agg or "latest"
    definition = r.named(how)
    name = "k_" + hashlib.sha1(definition.encode()).hexdigest()[:16]
    df = r.df
    picked = pick(F.col(r.of), df.schema[r.of].dataType, F.col(r.time_column), df.schema[r.time_column].dataType, r.where, how, name)
    merge = F.min if how == "first" else F.max
    return Mergeable((Partial(definition, picked.aggregate, merge),), lambda m: picked.read(m[0]))


def _listed(r: _Reading) -> Mergeable:
    """`mode` keeps every value of a block; `collect_set` and `count_distinct` its distinct ones."""
    agg = r.indicator.agg
    if agg == "mode":
        values = Partial(r.named("values"), F.array_sort(F.collect_list(r.kept(r.of))), _values_up, _concatenated)
        return Mergeable((values,), lambda m: mode_of(m[0]))
    distinct = Partial(r.named("distinct values"), F.array_sort(F.array_distinct(F.collect_list(r.kept(r.of)))), _distinct_up,
                       _concatenated)
    finish = sorted_distinct_of if agg == "collect_set" else distinct_count_of
    return Mergeable((distinct,), lambda m: finish(m[0]))


# one entry per `Agg` and `latest` (a `column` indicator); a test checks it covers the config's aggregates
MERGEABLE: dict[str, Callable[[_Reading], Mergeable]] = {
    "count": _count, "count_distinct": _listed, "sum": _summed, "avg": _summed, "min": _least, "max": _greatest,
    "first": _picked, "last": _picked, "latest": _picked, "mode": _listed, "collect_set": _listed,
}

