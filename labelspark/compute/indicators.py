"""Indicator extraction: one aggregation per source, however many indicators read it.

Windows and `where` filters become conditional aggregates (`agg(when(cond, x))`) in the
same `groupBy`, never extra filters and joins; the per-source results are outer-joined
on the entity key, so every entity of any source has a row.
"""
from __future__ import annotations

import datetime as dt
import json
import math
from dataclasses import dataclass
from typing import Callable, Mapping

from pyspark.sql import Column, DataFrame
from pyspark.sql import functions as F
from pyspark.sql import types as T

from labelspark.config import Project
from labelspark.config.models import Indicator
from labelspark.errors import SourceError
from labelspark.compute.plan import indicators_by_source
from labelspark.rules import leaves
from labelspark.rules.spark import Field, RuleCompiler
from labelspark.compute.sources import on_or_after, require_columns
from labelspark.engine.spark_types import kind_of
from labelspark.udfs import distinct_count_of, fixed_point_parts, mean_of, mode_of, pick, sorted_distinct_of, sum_of_parts

ZERO_WHEN_EMPTY = ("count", "count_distinct")


@dataclass(frozen=True)
class Aggregate:
    """One aggregate of a source's `groupBy`, and how the indicator's value is read from it."""

    definition: str  # aggregates with equal definitions are computed once
    column: Column
    read: Callable[[Column], Column] = lambda result: result
    # a view of the result that several indicators read (one window of a dated list): its
    # definition and how it is made; computed once, in a projection before `read`
    view: tuple[str, Callable[[Column], Column]] | None = None


def aggregate_source(df: DataFrame, name: str, project: Project, indicators: list[str], run_date: dt.date, key_type: str) -> DataFrame:
    """One row per entity of the prepared source `name` with its `indicators`: one `groupBy`.

    Equal aggregates are computed once: `mode`, `collect_set` and `count_distinct` of one
    column (and `where`) all read one `collect_list`, whatever their windows.
    """
    source = project.sources[name]
    entity = F.col(source.key).cast(key_type).alias(project.key)
    if not indicators:
        return df.select(entity).distinct()
    rows_of = {}
    for indicator_name in indicators:
        indicator = project.indicators[indicator_name]
        require_columns(df, name, [c for c in (indicator.of, indicator.column) if c])
        _require_number(df, name, indicator)
        rows_of[indicator_name] = _rows(df, name, indicator_name, indicator, project, run_date)
    spans: dict[str, float] = {}  # dated list -> the longest window reading it (inf: all rows)
    for indicator_name, rows in rows_of.items():
        indicator = project.indicators[indicator_name]
        if indicator.agg in _LISTED:
            listed = _list_of(indicator.of, rows)
            spans[listed] = max(spans.get(listed, 0), rows.window_days or math.inf)
    # deduped by the key: each entity has one row, whose value is its latest, first and last
    one_row_each = source.clean.dedupe is not None and source.clean.dedupe.by == [source.key]
    fixed = _fixed_point_columns(df, [project.indicators[i] for i in rows_of])
    aliases: dict[str, str] = {}  # definition -> alias of its aggregate (or view)
    columns: list[Column] = []
    views: list[Column] = []
    outputs: list[Column] = []
    for indicator_name, rows in rows_of.items():
        indicator = project.indicators[indicator_name]
        aggregate = _aggregate(df, source.time, indicator, rows, run_date, spans, one_row_each, fixed, f"__agg{len(columns)}")
        if aggregate.definition not in aliases:
            aliases[aggregate.definition] = f"__agg{len(columns)}"
            columns.append(aggregate.column.alias(aliases[aggregate.definition]))
        result = F.col(aliases[aggregate.definition])
        if aggregate.view is not None:
            definition, make = aggregate.view
            if definition not in aliases:
                aliases[definition] = f"__view{len(views)}"
                views.append(make(result).alias(aliases[definition]))
            result = F.col(aliases[definition])
        outputs.append(aggregate.read(result).alias(indicator_name))
    rows = df if one_row_each else clustered_by(df, entity)
    if fixed:  # after the shuffle, which their columns would widen
        rows = rows.withColumns({part: made for column, names in fixed.items()
                                 for part, made in zip(names, fixed_point_parts(F.col(column), name, column))})
    aggregated = rows.groupBy(entity).agg(*columns)
    if views:
        aggregated = aggregated.select("*", *views)
    return aggregated.select(project.key, *outputs)


def clustered_by(df: DataFrame, entity: Column) -> DataFrame:
    """`df` hash-partitioned on the entity (`spark.sql.shuffle.partitions` parts) and sorted
    within each part, so that the aggregation streams over one entity at a time.

    Rows of a source are not stored by entity, so Sail's partial aggregation gave up and sent
    every row's aggregate states through the shuffle (5.9 GB at 10^6 users, and at 10^7 a
    final aggregation that spilled 38 GB and counting); a sort spills its input once, and
    the sorted aggregation holds one entity. Classic Spark shuffles the rows instead of
    their partial states, which its partial aggregation barely reduced either.
    """
    partitions = int(df.sparkSession.conf.get("spark.sql.shuffle.partitions"))
    return df.repartition(partitions, entity).sortWithinPartitions(entity)


def _require_number(df: DataFrame, source: str, indicator: Indicator) -> None:
    """sum and avg of text would be cast silently by some engines and fail on others: refuse it here."""
    if indicator.agg in ("sum", "avg") and kind_of(df.schema[indicator.of].dataType) != "number":
        found = df.schema[indicator.of].dataType.simpleString()
        raise SourceError(source, f"agg {indicator.agg} needs a number column, found {found}", indicator.of)


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


def _rows(df, name, indicator_name, indicator: Indicator, project, run_date) -> Rows:
    source = project.sources[name]
    window = None
    if indicator.window_days:
        first_day = run_date - dt.timedelta(days=indicator.window_days - 1)
        window = on_or_after(F.col(source.time), df.schema[source.time].dataType, first_day, project.timezone)
    where_rule, where = project.where_rules.get(indicator_name), None
    if where_rule is not None:
        refs = sorted({leaf.ref for leaf in leaves(where_rule)})
        require_columns(df, name, refs)
        fields = {ref: Field(F.col(ref), kind_of(df.schema[ref].dataType)) for ref in refs}
        where = RuleCompiler(fields, run_date, str(project.file)).compile(where_rule)
    return Rows(indicator.window_days, window, where, json.dumps(indicator.where, sort_keys=True, default=str))


_LISTED = ("mode", "collect_set", "count_distinct")
_DAYS_WIDTH = 6  # days before the run date, as the fixed-width head of a dated list element
_TEXT_ROUND_TRIP = (T.StringType, T.NumericType, T.BooleanType, T.DateType)


def _fixed_point_columns(df: DataFrame, indicators: list[Indicator]) -> dict[str, tuple[str, str]]:
    """The double columns that `sum` and `avg` read -> the names of their fixed-point parts
    (udfs/exact.py: the same bits whatever order the rows come in), made once per row."""
    summed = sorted({i.of for i in indicators if i.agg in ("sum", "avg") and isinstance(df.schema[i.of].dataType, (T.DoubleType, T.FloatType))})
    return {column: (f"__fixed_high{n}", f"__fixed_low{n}") for n, column in enumerate(summed)}


def _aggregate(df: DataFrame, time_column: str | None, indicator: Indicator, rows: Rows, run_date: dt.date,
               spans: dict[str, float], one_row_each: bool, fixed: dict[str, tuple[str, str]], name: str) -> Aggregate:
    agg, condition = indicator.agg, rows.condition
    if agg == "count" and indicator.of is None:
        return Aggregate(f"count rows {rows.definition}", F.count(F.lit(1) if condition is None else F.when(condition, F.lit(1))))
    of = indicator.of or indicator.column
    value = F.col(of)
    kept = value if condition is None else F.when(condition, value)
    if one_row_each and (agg is None or agg in ("first", "last")):
        return Aggregate(f"max {of} {rows.definition}", F.max(kept))  # the only row's value, where kept
    if (agg is None and time_column) or agg in ("first", "last"):
        how = agg or "latest"
        picked = pick(value, df.schema[of].dataType, F.col(time_column), df.schema[time_column].dataType, condition, how, name)
        return Aggregate(f"{how} {of} {rows.definition}", picked.aggregate, picked.read)
    if agg in _LISTED:
        finish = {"mode": mode_of, "collect_set": sorted_distinct_of, "count_distinct": distinct_count_of}[agg]
        if time_column and isinstance(df.schema[of].dataType, _TEXT_ROUND_TRIP):
            return _dated_list(df, time_column, of, rows, run_date, spans[_list_of(of, rows)], finish)
        return Aggregate(f"collect_list {of} {rows.definition}", F.collect_list(kept), finish)
    if agg in ("sum", "avg"):  # exact, so the same bits whatever order the rows come in
        if of in fixed:
            high, low = (F.col(part) if condition is None else F.when(condition, F.col(part)) for part in fixed[of])
            total = sum_of_parts(high, low)
        else:  # integers and decimals add up exactly as they are
            total = F.sum(kept)
        return Aggregate(f"{agg} {of} {rows.definition}", total if agg == "sum" else mean_of(total, F.count(kept)))
    simple = {"count": F.count, "min": F.min, "max": F.max, None: F.max}
    return Aggregate(f"{agg} {of} {rows.definition}", simple[agg](kept))


def _list_of(column: str, rows: Rows) -> str:
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

    definition = _list_of(of, rows)
    return Aggregate(definition, listed, finish, view=(f"{definition} window {rows.window_days}", window))


def extract(frames: Mapping[str, DataFrame], project: Project, indicators: set[str], run_date: dt.date) -> DataFrame:
    """Entity key plus the requested indicators (and the `expr` ones they need), one row per entity."""
    key = project.key
    by_source = indicators_by_source(project, indicators)  # the plan's passes
    key_type = _common_key_type(frames, project)
    per_source = [aggregate_source(df, name, project, by_source.get(name, []), run_date, key_type) for name, df in frames.items()]
    result = per_source[0]
    for frame in per_source[1:]:
        result = result.join(frame, on=key, how="full")
    zero_filled = {
        name: F.coalesce(F.col(name), F.lit(0))
        for name in indicators
        if project.indicators[name].agg in ZERO_WHEN_EMPTY
    }
    if zero_filled:
        result = result.withColumns(zero_filled)
    expressions = [name for name in project.expression_order if name in indicators]
    if expressions:
        result = result.withColumn("run_date", F.lit(run_date))
        for name in expressions:
            result = result.withColumn(name, F.expr(project.indicators[name].expr))
        result = result.drop("run_date")
    return result


def _common_key_type(frames: Mapping[str, DataFrame], project: Project) -> str:
    """The entity key's type: the sources' own when they agree, else string."""
    types = {df.schema[project.sources[name].key].dataType.simpleString() for name, df in frames.items()}
    return types.pop() if len(types) == 1 else "string"

