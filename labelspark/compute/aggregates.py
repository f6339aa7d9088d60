"""The aggregates of a source's `groupBy`: one builder per `agg` (the `AGGREGATES` table), each
returning the aggregate column and how the indicator's value is read from it. Equal aggregates
share a definition, so `compute.indicators` computes them once."""
from __future__ import annotations

import datetime as dt
import math
from dataclasses import dataclass
from typing import Callable

from pyspark.sql import Column, DataFrame
from pyspark.sql import functions as F
from pyspark.sql import types as T

from labelspark.config.models import Indicator
from labelspark.errors import UnknownReference
from labelspark.udfs import distinct_count_of, mean_of, mode_of, pick, sorted_distinct_of, sum_of_parts


@dataclass(frozen=True)
class Aggregate:
    """One aggregate of a source's `groupBy`, and how the indicator's value is read from it."""

    definition: str  # aggregates with equal definitions are computed once
    column: Column
    read: Callable[[Column], Column] = lambda result: result
    # a view of the result that several indicators read (one window of a dated list): its
    # definition and how it is made; computed once, in a projection before `read`
    view: tuple[str, Callable[[Column], Column]] | None = None


@dataclass(frozen=True)
class Rows:
    """The rows an indicator reads: those in its window and matching its `where`."""

    window_days: int | None
    window: Column | None
    where: Column | None
    where_definition: str

    @property
    def condition(self) -> Column | None:
        parts = [c for c in (self.window, self.where) if c is not None]
        return parts[0] & parts[1] if len(parts) == 2 else (parts[0] if parts else None)

    @property
    def definition(self) -> str:
        return f"{self.window_days} {self.where_definition}"


# the aggregates that read a list of the column's values, and how each finishes it
LISTED: dict[str, Callable[[Column], Column]] = {"mode": mode_of, "collect_set": sorted_distinct_of, "count_distinct": distinct_count_of}
_DAYS_WIDTH = 6  # days before the run date, as the fixed-width head of a dated list element
_TEXT_ROUND_TRIP = (T.StringType, T.NumericType, T.BooleanType, T.DateType)


@dataclass(frozen=True)
class _Reading:
    """What an aggregate builder is given: the prepared source, one indicator and the rows it reads."""

    df: DataFrame
    time_column: str | None
    indicator: Indicator
    rows: Rows
    run_date: dt.date
    spans: dict[str, float]  # dated list -> the longest window reading it
    one_row_each: bool  # deduped by the entity key
    fixed: dict[str, tuple[str, str]]  # double columns -> their fixed-point parts
    name: str  # the aggregate's alias, a prefix for its helper columns

    @property
    def of(self) -> str:
        return self.indicator.of or self.indicator.column

    @property
    def kept(self) -> Column:
        """The column's value in the indicator's rows, null in the others."""
        condition = self.rows.condition
        return F.col(self.of) if condition is None else F.when(condition, F.col(self.of))


def aggregate_of(df: DataFrame, time_column: str | None, indicator: Indicator, rows: Rows, run_date: dt.date,
                 spans: dict[str, float], one_row_each: bool, fixed: dict[str, tuple[str, str]], name: str) -> Aggregate:
    """The indicator's aggregate: its `agg`'s entry in AGGREGATES (a `column` indicator: the latest row's value)."""
    reading = _Reading(df, time_column, indicator, rows, run_date, spans, one_row_each, fixed, name)
    if indicator.agg is None:
        return _latest(reading)
    if indicator.agg not in AGGREGATES:
        raise UnknownReference.among("aggregate", indicator.agg, AGGREGATES)
    return AGGREGATES[indicator.agg](reading)


def _latest(r: _Reading) -> Aggregate:
    """A `column` indicator: the value of the latest row (no `time`: the greatest value)."""
    if r.one_row_each or not r.time_column:  # deduped by the key: the only row's value, where kept
        return Aggregate(f"max {r.of} {r.rows.definition}", F.max(r.kept))
    return _picked(r)


def _picked(r: _Reading) -> Aggregate:
    """`first`, `last` and the latest value: the row with the least or greatest time."""
    if r.one_row_each:
        return Aggregate(f"max {r.of} {r.rows.definition}", F.max(r.kept))  # the only row's value, where kept
    how = r.indicator.agg or "latest"
    df, of, time_column = r.df, r.of, r.time_column
    picked = pick(F.col(of), df.schema[of].dataType, F.col(time_column), df.schema[time_column].dataType, r.rows.condition, how, r.name)
    return Aggregate(f"{how} {of} {r.rows.definition}", picked.aggregate, picked.read)


def _count(r: _Reading) -> Aggregate:
    if r.indicator.of is None:
        condition = r.rows.condition
        return Aggregate(f"count rows {r.rows.definition}", F.count(F.lit(1) if condition is None else F.when(condition, F.lit(1))))
    return Aggregate(f"count {r.of} {r.rows.definition}", F.count(r.kept))


def _listed(r: _Reading) -> Aggregate:
    """`mode`, `collect_set` and `count_distinct`: a list of the values, finished per aggregate."""
    finish = LISTED[r.indicator.agg]
    if r.time_column and isinstance(r.df.schema[r.of].dataType, _TEXT_ROUND_TRIP):
        return _dated_list(r.df, r.time_column, r.of, r.rows, r.run_date, r.spans[list_of(r.of, r.rows)], finish)
    return Aggregate(f"collect_list {r.of} {r.rows.definition}", F.collect_list(r.kept), finish)


def _summed(r: _Reading) -> Aggregate:
    """`sum` and `avg`: exact, so the same bits whatever order the rows come in."""
    agg, of, condition = r.indicator.agg, r.of, r.rows.condition
    if of in r.fixed:
        high, low = (F.col(part) if condition is None else F.when(condition, F.col(part)) for part in r.fixed[of])
        total = sum_of_parts(high, low)
    else:  # integers and decimals add up exactly as they are
        total = F.sum(r.kept)
    return Aggregate(f"{agg} {of} {r.rows.definition}", total if agg == "sum" else mean_of(total, F.count(r.kept)))


def _least(r: _Reading) -> Aggregate:
    return Aggregate(f"min {r.of} {r.rows.definition}", F.min(r.kept))


def _greatest(r: _Reading) -> Aggregate:
    return Aggregate(f"max {r.of} {r.rows.definition}", F.max(r.kept))


# one builder per `Agg`; a test checks the table covers the config's aggregates
AGGREGATES: dict[str, Callable[[_Reading], Aggregate]] = {
    "count": _count, "count_distinct": _listed, "sum": _summed, "avg": _summed, "min": _least, "max": _greatest,
    "first": _picked, "last": _picked, "mode": _listed, "collect_set": _listed,
}


def list_of(column: str, rows: Rows) -> str:
    """The dated list a list indicator reads: one per column and `where`, whatever the window."""
    return f"dated list {column} {rows.where_definition}"


def _dated_list(df: DataFrame, time_column: str, of: str, rows: Rows, run_date: dt.date, span: float,
                finish: Callable[[Column], Column]) -> Aggregate:
    """One `collect_list` of a column for all windows: each element is the row's age in days
    (fixed width) and its value as text; a window keeps the elements young enough. The list
    holds only rows of the longest window reading it (`span` days).

    Lists are the dearest aggregates (a few seconds per 10^7 rows each); labels over one column
    in several windows (favourite category this week, this month, this year) share one.
    """
    day = F.col(time_column) if isinstance(df.schema[time_column].dataType, T.DateType) else F.to_date(F.col(time_column))
    age = F.least(F.datediff(F.lit(run_date), day), F.lit(10**_DAYS_WIDTH - 1))
    value_type = df.schema[of].dataType
    element = F.concat(F.lpad(age.cast("string"), _DAYS_WIDTH, "0"), F.col(of).cast("string"))
    keep = rows.where
    if span != math.inf:
        recent = age < F.lit(int(span))
        keep = recent if keep is None else keep & recent
    listed = F.collect_list(element if keep is None else F.when(keep, element))

    def window(elements: Column) -> Column:
        """The values of the elements in the indicator's window, typed again."""
        if rows.window_days:
            # an element sorts below the window's length as text exactly when its age is below it
            too_old = F.lit(f"{rows.window_days:0{_DAYS_WIDTH}d}")
            elements = F.filter(elements, lambda e: e < too_old)
        values = F.transform(elements, lambda e: F.substring(e, _DAYS_WIDTH + 1, 1 << 30))
        return values if isinstance(value_type, T.StringType) else F.transform(values, lambda v: v.cast(value_type))

    definition = list_of(of, rows)
    return Aggregate(definition, listed, finish, view=(f"{definition} window {rows.window_days}", window))
