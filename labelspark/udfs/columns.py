"""Column helpers: null-safe predicates, aggregates finished from lists, date windows, text forms."""
from __future__ import annotations

import datetime as dt

from pyspark.sql import Column
from pyspark.sql import functions as F


def null_false(condition: Column) -> Column:
    """A predicate that is false, never null, where its inputs are null."""
    return F.coalesce(condition, F.lit(False))


def mode_of(values: Column) -> Column:
    """The most frequent element of an array (ties: the smallest), null when it is empty.

    Applied to `collect_list` after the aggregation (engines keep a hash map per group for the
    `mode` aggregate: slow and memory-bound on Sail). One fold over the sorted elements counts
    each run; a later run must be strictly longer to win, so ties go to the smaller value.
    """
    ordered = F.array_sort(values)
    nothing = F.when(F.lit(False), F.get(ordered, 0))  # a null of the element type
    start = F.struct(nothing.alias("value"), F.lit(0).alias("run"), nothing.alias("best"), F.lit(0).alias("best_run"))

    def step(seen: Column, value: Column) -> Column:
        run = F.when(seen["value"] == value, seen["run"] + 1).otherwise(F.lit(1))
        longer = run > seen["best_run"]
        return F.struct(
            value.alias("value"),
            run.alias("run"),
            F.when(longer, value).otherwise(seen["best"]).alias("best"),
            F.when(longer, run).otherwise(seen["best_run"]).alias("best_run"),
        )

    return F.aggregate(ordered, start, step)["best"]


def sorted_distinct_of(values: Column) -> Column:
    """The sorted distinct elements of an array (of `collect_list`), null when it is empty."""
    distinct = F.array_sort(F.array_distinct(values))
    return F.when(F.size(distinct) > 0, distinct)


def distinct_count_of(values: Column) -> Column:
    """How many distinct elements an array (of `collect_list`) holds: `count_distinct` without
    the per-group hash set that made it the costliest aggregate on Sail."""
    return F.size(F.array_distinct(values)).cast("long")


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


def bucket_names(edges: list[float]) -> list[str]:
    """The buckets of `edges` in order: `(-inf,e0)`, `[e0,e1)`, …, `[en,+inf)`."""
    names = [_edge(e) for e in edges]
    inner = [f"[{low},{high})" for low, high in zip(names, names[1:])]
    return [f"(-inf,{names[0]})"] + inner + [f"[{names[-1]},+inf)"]


def bucket_name(value: Column, edges: list[float]) -> Column:
    """The bucket a number falls in (see `bucket_names`); null stays null."""
    names = bucket_names(edges)
    column = F.when(value.isNull(), F.lit(None)).when(value < F.lit(edges[0]), F.lit(names[0]))
    for name, edge in zip(names[1:], edges[1:]):
        column = column.when(value < F.lit(edge), F.lit(name))
    return column.otherwise(F.lit(names[-1]))


def _edge(edge: float) -> str:
    return str(int(edge)) if float(edge).is_integer() else repr(float(edge))
