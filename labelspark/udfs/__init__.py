"""Reusable `Column -> Column` helpers built only from Spark built-ins.

Every helper here works unchanged on classic Spark and on Spark Connect servers (Sail
included); none is a Python UDF, so none leaves the JVM/engine on a hot path.
"""
from labelspark.udfs.columns import (
    as_text,
    bucket_name,
    earliest_value,
    latest_value,
    mode_value,
    null_false,
    order_key,
    picked,
    sorted_distinct,
    strip_whitespace,
    within_last,
)

__all__ = [
    "as_text",
    "bucket_name",
    "earliest_value",
    "latest_value",
    "mode_value",
    "null_false",
    "order_key",
    "picked",
    "sorted_distinct",
    "strip_whitespace",
    "within_last",
]
