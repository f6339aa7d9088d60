"""Label values as the tables show them, computed from Arrow data without Spark.

The text form is `udfs.as_text`'s (what `label_stats` holds): numbers in plain decimals,
booleans `true`/`false`, dates ISO. A label's *distribution* counts what `label_stats`
counts: a list label each element once per entity (an empty list with the nulls), a metric
with `buckets` its bucket, any other label its value.
"""
from __future__ import annotations

import collections
import datetime as dt
import re

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from labelspark.kinds import bucket_names

_TRAILING_ZEROS = re.compile(r"\.?0+$")


def text_of(value, kind: str):
    """One scalar value's text form, None for null (the Python twin of `udfs.as_text`)."""
    if value is None:
        return None
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (int, float)):
        if float(value).is_integer() and abs(value) < 1e15:
            return str(int(value))
        return _TRAILING_ZEROS.sub("", f"{value:.9f}")
    if isinstance(value, dt.date):
        return value.isoformat()
    return str(value)


def buckets_of(values: pa.Array, edges: list[float]) -> pa.Array:
    """The bucket name of each number; null stays null."""
    names = np.array(bucket_names(edges), dtype=object)
    numbers = values.to_numpy(zero_copy_only=False).astype(float)
    position = np.searchsorted(np.asarray(edges, dtype=float), np.nan_to_num(numbers), side="right")
    return pa.array(names[position], type=pa.string(), mask=np.asarray(values.is_null()))


def is_categorical(label) -> bool:
    """Whether a label's values are a few categories (rules, tiers, booleans, buckets, picked
    strings), not open numbers or dates whose every value is its own row."""
    return label.known_values is not None or label.bucketed or label.type in ("string", "list")


def value_counts(label, values: pa.Array) -> collections.Counter:
    """Entities per value (text form, None for null) of one batch of a label's column."""
    counts: collections.Counter = collections.Counter()
    if label.type == "list":
        lengths = pc.fill_null(pc.list_value_length(values), 0)
        empty = int(pc.sum(pc.equal(lengths, 0)).as_py() or 0)
        if empty:
            counts[None] = empty
        pairs = pa.table({"entity": pc.list_parent_indices(values), "element": pc.list_flatten(values)})
        elements = pairs.group_by(["entity", "element"]).aggregate([]).column("element")
        values, kind = elements.combine_chunks(), "string"
    elif label.bucketed:
        values, kind = buckets_of(values, label.buckets), "string"
    else:
        kind = label.type
    for entry in pc.value_counts(values).to_pylist():
        counts[text_of(entry["values"], kind)] += entry["counts"]
    return counts


def joined_elements(lists: pa.Array) -> pa.Array:
    """Each list's elements sorted and joined by ", ", null for a null or empty list: lists as
    values Arrow compares, groups and joins. One sort of all elements by (list, element)."""
    elements = pa.table({"list": pc.list_parent_indices(lists), "element": pc.list_flatten(lists)})
    ordered = elements.sort_by([("list", "ascending"), ("element", "ascending")]).column("element").combine_chunks()
    lengths = pc.fill_null(pc.list_value_length(lists), 0)
    offsets = np.concatenate([[0], np.cumsum(lengths.to_numpy())]).astype(np.int32)
    joined = pc.binary_join(pa.ListArray.from_arrays(pa.array(offsets), ordered), ", ")
    return pc.if_else(pc.greater(lengths, 0), joined, pa.scalar(None, pa.string()))
