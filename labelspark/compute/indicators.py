"""Indicator extraction: one aggregation per source, however many indicators read it.

Windows and `where` filters become conditional aggregates (`agg(when(cond, x))`) in the
same `groupBy`, never extra filters and joins; the per-source results are outer-joined
on the entity key, so every entity of any source has a row.
"""
from __future__ import annotations

import datetime as dt
import json
import math
from typing import Callable, Mapping

from pyspark.sql import Column, DataFrame
from pyspark.sql import functions as F
from pyspark.sql import types as T

from labelspark.config import Project
from labelspark.config.models import Indicator
from labelspark.errors import SourceError
from labelspark.compute.aggregates import LISTED, Rows, aggregate_of, list_of
from labelspark.compute.plan import indicators_by_source
from labelspark.rules import leaves
from labelspark.rules.spark import Field, RuleCompiler
from labelspark.compute.sources import on_or_after, require_columns
from labelspark.engine.spark_types import kind_of
from labelspark.udfs import fixed_point_parts

ZERO_WHEN_EMPTY = ("count", "count_distinct")


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
        require_number(df, name, indicator)
        rows_of[indicator_name] = _rows(df, name, indicator_name, indicator, project, run_date)
    spans: dict[str, float] = {}  # dated list -> the longest window reading it (inf: all rows)
    for indicator_name, rows in rows_of.items():
        indicator = project.indicators[indicator_name]
        if indicator.agg in LISTED:
            listed = list_of(indicator.of, rows)
            spans[listed] = max(spans.get(listed, 0), rows.window_days or math.inf)
    # deduped by the key: each entity has one row, whose value is its latest, first and last
    one_row_each = source.clean.dedupe is not None and source.clean.dedupe.by == [source.key]
    fixed = fixed_point_columns(df, [project.indicators[i] for i in rows_of])
    aliases: dict[str, str] = {}  # definition -> alias of its aggregate (or view)
    columns: list[Column] = []
    views: list[Column] = []
    outputs: list[Column] = []
    for indicator_name, rows in rows_of.items():
        indicator = project.indicators[indicator_name]
        aggregate = aggregate_of(df, source.time, indicator, rows, run_date, spans, one_row_each, fixed, f"__agg{len(columns)}")
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
    their partial states, which are wider: aggregating first, its orders pass shuffled 894 MB
    against the rows' 685 MB (10^6 users x 20 orders, local cluster).
    """
    partitions = int(df.sparkSession.conf.get("spark.sql.shuffle.partitions"))
    return df.repartition(partitions, entity).sortWithinPartitions(entity)


def require_number(df: DataFrame, source: str, indicator: Indicator) -> None:
    """sum and avg of text would be cast silently by some engines and fail on others: refuse it here."""
    if indicator.agg in ("sum", "avg") and kind_of(df.schema[indicator.of].dataType) != "number":
        found = df.schema[indicator.of].dataType.simpleString()
        raise SourceError(source, f"agg {indicator.agg} needs a number column, found {found}", indicator.of)


def _rows(df, name, indicator_name, indicator: Indicator, project, run_date) -> Rows:
    source = project.sources[name]
    window = None
    if indicator.window_days:
        first_day = run_date - dt.timedelta(days=indicator.window_days - 1)
        window = on_or_after(F.col(source.time), df.schema[source.time].dataType, first_day, project.timezone)
    return Rows(indicator.window_days, window, *where_of(df, name, indicator_name, project, run_date))


def where_of(df: DataFrame, name: str, indicator_name: str, project: Project, run_date: dt.date) -> tuple[Column | None, str]:
    """The indicator's `where` as a condition on the rows of source `name` (None: every row), and its definition."""
    where_rule, where = project.where_rules.get(indicator_name), None
    if where_rule is not None:
        refs = sorted({leaf.ref for leaf in leaves(where_rule)})
        require_columns(df, name, refs)
        fields = {ref: Field(F.col(ref), kind_of(df.schema[ref].dataType)) for ref in refs}
        where = RuleCompiler(fields, run_date, str(project.file)).compile(where_rule)
    return where, json.dumps(project.indicators[indicator_name].where, sort_keys=True, default=str)


def fixed_point_columns(df: DataFrame, indicators: list[Indicator]) -> dict[str, tuple[str, str]]:
    """The double columns that `sum` and `avg` read -> the names of their fixed-point parts
    (udfs/exact.py: the same bits whatever order the rows come in), made once per row."""
    summed = sorted({i.of for i in indicators if i.agg in ("sum", "avg") and isinstance(df.schema[i.of].dataType, (T.DoubleType, T.FloatType))})
    return {column: (f"__fixed_high{n}", f"__fixed_low{n}") for n, column in enumerate(summed)}



def extract(frames: Mapping[str, DataFrame], project: Project, indicators: set[str], run_date: dt.date,
            merged: Callable[[str, DataFrame, list[str], str], DataFrame | None] | None = None) -> DataFrame:
    """Entity key plus the requested indicators (and the `expr` ones they need), one row per entity.

    `merged(source, prepared, indicators, key type)`: a source's indicators merged from its
    tiles, or None where it takes the full pass (`compute.incremental`)."""
    key = project.key
    by_source = indicators_by_source(project, indicators)  # the plan's passes
    key_type = common_key_type(frames, project)
    per_source = []
    for name, df in frames.items():
        due = by_source.get(name, [])
        from_tiles = merged(name, df, due, key_type) if merged else None
        per_source.append(from_tiles if from_tiles is not None else aggregate_source(df, name, project, due, run_date, key_type))
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


def common_key_type(frames: Mapping[str, DataFrame], project: Project) -> str:
    """The entity key's type: the sources' own when they agree, else string."""
    types = {df.schema[project.sources[name].key].dataType.simpleString() for name, df in frames.items()}
    return types.pop() if len(types) == 1 else "string"

