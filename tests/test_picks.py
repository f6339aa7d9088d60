"""The text-keyed picks (latest, first, last) for every value type, against Python's own order.

Each group holds rows that tie on time, so the pick falls to the value order: that is where a
text key that does not sort like its value would show. Expected answers come from Python
sorting the same rows by (time, value) with nulls lowest.
"""
from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest
from pyspark.sql import functions as F
from pyspark.sql import types as T

from labelspark.udfs import pick, sortable

pytestmark = pytest.mark.portable

T0 = dt.datetime(2026, 3, 1, 12, 0)
T1 = dt.datetime(2026, 3, 2, 8, 30)

VALUES = {
    "string": (T.StringType(), ["b", "ab", "a", "é", "B", "", None]),
    "double": (T.DoubleType(), [-1.5, 2.25, 10.0, 9.0, -100.0, 0.1, 1e20, -1e20, 1e30, None]),
    "bigint": (T.LongType(), [-(2**63), 2**63 - 1, -1, 0, 9, 10, None]),
    "int": (T.IntegerType(), [-5, 3, 12, 7, None]),
    "decimal": (T.DecimalType(10, 2), [Decimal("-3.10"), Decimal("2.05"), Decimal("10.00"), Decimal("9.99"), None]),
    "date": (T.DateType(), [dt.date(1969, 12, 31), dt.date(2026, 1, 9), dt.date(2026, 1, 10), dt.date(1900, 5, 1), None]),
    "timestamp": (T.TimestampType(), [dt.datetime(1960, 1, 1, 0, 0, 1), dt.datetime(2026, 3, 1, 0, 0, 0, 5), dt.datetime(2026, 3, 1), None]),
    "boolean": (T.BooleanType(), [True, False, None]),
}


def _sort_key(row):
    time, value = row
    return (time, value is not None, value if value is not None else 0)


def _expected(rows, how):
    if how == "latest":
        return max(rows, key=_sort_key)[1]
    present = [r for r in rows if r[1] is not None]
    if not present:
        return None
    return (min if how == "first" else max)(present, key=_sort_key)[1]


@pytest.mark.parametrize("kind", sorted(VALUES))
@pytest.mark.parametrize("how", ["latest", "first", "last"])
def test_pick_orders_by_time_then_value_nulls_lowest(spark, kind, how):
    value_type, values = VALUES[kind]
    assert sortable(value_type) is not None
    # group g holds every pair of values at one time (a tie) and, for half the groups, a later null
    groups = {}
    for i, a in enumerate(values):
        for j, b in enumerate(values):
            rows = [(T0, a), (T0, b)] + ([(T1, None)] if (i + j) % 2 else [])
            groups[f"g{i}_{j}"] = rows
    schema = T.StructType([T.StructField("g", T.StringType()), T.StructField("t", T.TimestampType()), T.StructField("v", value_type)])
    df = spark.createDataFrame([(g, t, v) for g, rows in groups.items() for t, v in rows], schema)
    picked = pick(F.col("v"), value_type, F.col("t"), T.TimestampType(), None, how, "v")
    result = {r["g"]: r["p"] for r in df.groupBy("g").agg(picked.aggregate.alias("a")).select("g", picked.read(F.col("a")).alias("p")).collect()}
    expected = {g: _expected(rows, how) for g, rows in groups.items()}
    assert result == expected


def test_pick_keeps_only_rows_the_condition_keeps(spark):
    df = spark.createDataFrame([("g", T0, 5), ("g", T1, 7), ("h", T1, 1)], "g string, t timestamp, v int")
    picked = pick(F.col("v"), T.IntegerType(), F.col("t"), T.TimestampType(), F.col("v") > 1, "latest", "v")
    result = df.groupBy("g").agg(picked.aggregate.alias("a")).select("g", picked.read(F.col("a")).alias("p"))
    assert sorted(tuple(r) for r in result.collect()) == [("g", 7), ("h", None)]
