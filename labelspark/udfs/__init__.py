"""Reusable `Column -> Column` helpers built only from Spark built-ins.

Every helper here works unchanged on classic Spark and on Spark Connect servers (Sail
included); none is a Python UDF, so none leaves the JVM/engine on a hot path.
"""
from labelspark.udfs.columns import (
    as_text,
    bucket_name,
    bucket_names,
    distinct_count_of,
    from_text,
    mode_of,
    null_false,
    sorted_distinct_of,
    strip_whitespace,
    within_last,
)
from labelspark.udfs.casts import try_cast
from labelspark.udfs.exact import fixed_point_parts, mean_of, sum_of_parts
from labelspark.udfs.picks import Pick, pick, sortable

__all__ = [
    "as_text",
    "bucket_name",
    "bucket_names",
    "Pick",
    "distinct_count_of",
    "fixed_point_parts",
    "from_text",
    "mean_of",
    "mode_of",
    "null_false",
    "pick",
    "sortable",
    "sorted_distinct_of",
    "sum_of_parts",
    "strip_whitespace",
    "try_cast",
    "within_last",
]
