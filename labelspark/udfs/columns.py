"""Column helpers: null-safe predicates, aggregates finished from lists, date windows, text forms."""
from __future__ import annotations

import datetime as dt

from pyspark.sql import Column
from pyspark.sql import functions as F

from labelspark.kinds import bucket_names


def null_false(condition: Column) -> Column:
    """A predicate that is false, never null, where its inputs are null."""
    return F.coalesce(condition, F.lit(False))


_RANK = 10**9  # list positions stay below this; a run's score is length * _RANK + (_RANK - 1 - end)


def mode_of(values: Column) -> Column:
    """The most frequent element of an array (ties: the smallest), null when it is empty.

    Applied to `collect_list` after the aggregation (engines keep a hash map per group for the
    `mode` aggregate: slow and memory-bound on Sail). In the sorted elements, an element that
    differs from its successor ends a run; a run scores its length, then how early it ends, and
    the best score's position names the value. Each step is one vectorised pass over all
    elements, where a fold (`aggregate`) steps through a batch as often as its longest list is
    long: that took twice as long on Sail.
    """
    ordered = F.array_sort(values)
    # engines name the fields of a zip of unnamed arrays by position: "0", "1"
    successors = F.arrays_zip(ordered, F.slice(ordered, 2, F.greatest(F.size(ordered), F.lit(1))))
    ends = F.filter(
        F.transform(successors, lambda pair, i: F.when(pair["1"].isNull() | (pair["0"] != pair["1"]), i)),
        lambda end: end.isNotNull(),
    )
    # (end, previous run's end); the zip's extra last pair scores null, which array_max skips
    runs = F.arrays_zip(ends, F.concat(F.array(F.lit(-1)), ends))
    scores = F.transform(runs, lambda run: (run["0"] - run["1"]).cast("long") * F.lit(_RANK) + (F.lit(_RANK - 1) - run["0"]))
    return F.get(ordered, (F.lit(_RANK - 1) - F.array_max(scores) % F.lit(_RANK)).cast("int"))


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


def from_text(text: Column, kind: str) -> Column:
    """A label value back from its `as_text` form, typed as the snapshot types it."""
    if kind == "list":
        return F.from_json(text, "array<string>")
    return text.cast({"number": "double", "boolean": "boolean", "date": "date"}.get(kind, "string"))


def bucket_name(value: Column, edges: list[float]) -> Column:
    """The bucket a number falls in (see `bucket_names`); null stays null."""
    names = bucket_names(edges)
    column = F.when(value.isNull(), F.lit(None)).when(value < F.lit(edges[0]), F.lit(names[0]))
    for name, edge in zip(names[1:], edges[1:]):
        column = column.when(value < F.lit(edge), F.lit(name))
    return column.otherwise(F.lit(names[-1]))
