"""One source's aggregation on an in-memory frame (no files): every indicator of the source in
one `groupBy`, checked against values worked out by hand from the contract (windows of N days
ending with D, D included; latest by time, ties by value; mode ties to the smallest; count 0
where no row matches, other aggregates null)."""
from __future__ import annotations

import datetime as dt

import pytest
from pyspark.sql import types as T

from labelspark.config import load_project
from labelspark.compute.indicators import aggregate_source
from tests.support.frames import assert_rows, expected_frame

pytestmark = pytest.mark.portable

D = dt.date(2026, 3, 31)
CONFIG = """\
version: 1
name: shop
timezone: UTC
entity: {key: member_id}
sources:
  orders: {format: parquet, path: data/orders, key: member_id, time: order_time}
indicators:
  orders_7d:    {source: orders, agg: count, window: 7d}
  spend_all:    {source: orders, agg: sum, of: amount}
  big_7d:       {source: orders, agg: count, window: 7d, where: {field: amount, op: gte, value: 100}}
  last_channel: {source: orders, agg: last, of: channel}
  top_category: {source: orders, agg: mode, of: category}
  categories:   {source: orders, agg: collect_set, of: category}
labels:
  - {id: spend, type: number, method: metric, indicator: spend_all}
outputs: {warehouse: warehouse}
"""
ORDERS = T.StructType([
    T.StructField("member_id", T.StringType()),
    T.StructField("order_time", T.TimestampType()),
    T.StructField("amount", T.DoubleType()),
    T.StructField("channel", T.StringType()),
    T.StructField("category", T.StringType()),
])


def at(day: int, hour: int = 12) -> dt.datetime:
    return dt.datetime(2026, 3, day, hour, tzinfo=dt.timezone.utc)


def test_every_indicator_of_a_source_from_one_in_memory_frame(spark, write_config):
    project = load_project(write_config(CONFIG))
    orders = spark.createDataFrame([
        ("m1", at(31), 120.0, "app", "shoes"),   # in the 7-day window, big
        ("m1", at(25), 30.0, "web", "home"),     # D-6: the window's first day
        ("m1", at(24), 10.0, "store", "home"),   # D-7: outside the window
        ("m2", at(10), 5.0, "app", "kids"),      # long ago: counts for totals only
        ("m2", at(10), 7.0, "web", "beauty"),    # same time: `last` breaks the tie by value (web > app)
    ], ORDERS)
    names = list(project.indicators)

    result = aggregate_source(orders, "orders", project, names, D, "string")

    expected = expected_frame(spark, [
        ("member_id", T.StringType()), ("orders_7d", T.LongType()), ("spend_all", T.DoubleType()),
        ("big_7d", T.LongType()), ("last_channel", T.StringType()), ("top_category", T.StringType()),
        ("categories", T.ArrayType(T.StringType())),
    ], [
        ("m1", 2, 160.0, 1, "app", "home", ["home", "shoes"]),
        ("m2", 0, 12.0, 0, "web", "beauty", ["beauty", "kids"]),  # mode tie: the smallest value
    ])
    assert_rows(result, expected)
