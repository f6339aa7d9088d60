"""Column helpers: null-safe predicates, deterministic picks, date windows.

Ordering keys put an `IS NOT NULL` flag before each nullable value because engines
disagree on where a null struct field sorts (Spark: lowest, Sail: highest); with the flag
a null is lowest on both.
"""
from __future__ import annotations

import datetime as dt

from pyspark.sql import Column
from pyspark.sql import functions as F


def null_false(condition: Column) -> Column:
    """A predicate that is false, never null, where its inputs are null."""
    return F.coalesce(condition, F.lit(False))


def order_key(*columns: Column) -> Column:
    """A struct that orders rows by `columns` in turn, nulls lowest on every engine."""
    fields: list[Column] = []
    for i, column in enumerate(columns):
        fields.append(column.isNotNull().alias(f"k{i}_set"))
        fields.append(column.alias(f"k{i}"))
    return F.struct(*fields)


def latest_value(value: Column, time: Column, keep: Column | None = None, name: str = "value") -> Column:
    """Aggregate: a struct whose field `name` holds the value of the latest row (ties: greatest value).

    The latest row's value is taken even when it is null: that is the latest fact. Unwrap it
    with `picked` in a projection after the aggregation. `name` must differ between
    aggregates of one `groupBy`: Sail confuses aggregates whose display names are equal.
    """
    row = F.struct(order_key(time, value).alias(f"{name}_key"), value.alias(name))
    return F.max(row if keep is None else F.when(keep, row))


def earliest_value(value: Column, time: Column, keep: Column | None = None, last: bool = False, name: str = "value") -> Column:
    """Aggregate: a struct holding the first (with `last`, the last) non-null value by time, ties by value.

    Unwrap it with `picked` after the aggregation, as for `latest_value`.
    """
    present = value.isNotNull() if keep is None else keep & value.isNotNull()
    row = F.when(present, F.struct(order_key(time, value).alias(f"{name}_key"), value.alias(name)))
    return F.max(row) if last else F.min(row)


def picked(aggregated: Column, name: str = "value") -> Column:
    """The value inside the struct of `latest_value` or `earliest_value`."""
    return aggregated.getField(name)


def mode_value(value: Column) -> Column:
    """Aggregate: the most frequent non-null value; ties go to the smallest value."""
    return F.mode(value, deterministic=True)


def sorted_distinct(value: Column) -> Column:
    """Aggregate: the sorted distinct non-null values, or null when there are none."""
    values = F.array_sort(F.collect_set(value))
    return F.when(F.size(values) > 0, values)


def strip_whitespace(value: Column) -> Column:
    """Strips leading and trailing whitespace, tabs and newlines too (`trim` strips only spaces)."""
    return F.regexp_replace(value, r"^\s+|\s+$", "")


def within_last(day: Column, run_date: dt.date, days: int) -> Column:
    """True where `day` is one of the `days` calendar days ending with `run_date`, inclusive."""
    start = run_date - dt.timedelta(days=days - 1)
    return day.between(F.lit(start), F.lit(run_date))


def as_text(value: Column, kind: str) -> Column:
    """A label value's stable string form, the same on every engine (their casts of doubles
    differ: `1.0E7` or `10000000.0`): lists as sorted JSON arrays, numbers in plain decimals
    (`3`, `848.56`, at most 9 places), others cast to string."""
    if kind == "list":
        return F.to_json(F.array_sort(value))
    if kind == "number":
        whole = (value == F.floor(value)) & (F.abs(value) < F.lit(1e15))
        fraction = F.regexp_replace(F.format_string("%.9f", value), r"\.?0+$", "")
        return F.when(whole, value.cast("bigint").cast("string")).when(value.isNotNull(), fraction)
    return value.cast("string")


def bucket_name(value: Column, edges: list[float]) -> Column:
    """The bucket of a number: `(-inf,e0)`, `[e0,e1)`, …, `[en,+inf)`; null stays null."""
    names = [_edge(e) for e in edges]
    column = F.when(value.isNull(), F.lit(None)).when(value < F.lit(edges[0]), F.lit(f"(-inf,{names[0]})"))
    for low, high, edge in zip(names, names[1:], edges[1:]):
        column = column.when(value < F.lit(edge), F.lit(f"[{low},{high})"))
    return column.otherwise(F.lit(f"[{names[-1]},+inf)"))


def _edge(edge: float) -> str:
    return str(int(edge)) if float(edge).is_integer() else repr(float(edge))
