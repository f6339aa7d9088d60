"""Indicator extraction: sources prepared as of a date, then one row per entity.

Every expected value is worked out by hand from the rows written in the test. Times are
written as instants (parquet timestamps adjusted to UTC); the project's timezone is
Asia/Shanghai (UTC+8, no daylight saving), so 2026-03-31T20:00Z is 2026-04-01 04:00 local
and lies after the end of run date 2026-03-31.
"""
from __future__ import annotations

import datetime as dt
import textwrap
from zoneinfo import ZoneInfo

import pyarrow as pa
import pytest
from pyspark.sql import functions as F
from pyspark.sql import types as T

from labelspark.config import load_project
from labelspark.compute.indicators import extract
from labelspark.compute.sources import prepared_sources
from labelspark.compute.plan import needed_indicators
from tests.support.frames import assert_rows, expected_frame
from tests.support.projects import write_parquet

pytestmark = pytest.mark.portable

TZ = "Asia/Shanghai"
D = dt.date(2026, 3, 31)
TS = pa.timestamp("us", tz="UTC")

HEADER = """\
version: 1
name: shop
timezone: Asia/Shanghai
entity: {entity}
outputs: {{warehouse: warehouse}}
"""


def local(text: str) -> dt.datetime:
    """A wall-clock time in the project's timezone."""
    return dt.datetime.fromisoformat(text).replace(tzinfo=ZoneInfo(TZ))


def utc(text: str) -> dt.datetime:
    return dt.datetime.fromisoformat(text).replace(tzinfo=dt.timezone.utc)


@pytest.fixture
def project_of(write_config):
    def load(body: str, entity: str = "{key: member_id}"):
        return load_project(write_config(HEADER.format(entity=entity) + textwrap.dedent(body)))

    return load


@pytest.fixture
def indicators_of(spark):
    """The indicator frame of a project on a date, days taken in the project's timezone as a run does."""

    def compute(project, day: dt.date = D, names: set[str] | None = None):
        spark.conf.set("spark.sql.session.timeZone", project.timezone)
        frames = prepared_sources(spark, project, day)
        wanted = needed_indicators(project, set(project.indicators) if names is None else names)
        return extract(frames, project, wanted, day)

    yield compute
    spark.conf.set("spark.sql.session.timeZone", "UTC")


ORDERS = pa.schema([("member_id", pa.string()), ("ordered_at", TS), ("amount", pa.float64())])
ORDERS_SOURCE = """\
  orders: {format: parquet, path: data/orders, key: member_id, time: ordered_at}
"""


# -- as of the run date -------------------------------------------------------------------


@pytest.mark.parametrize(
    ("day", "rows"),
    [
        # back-fill: only m1's first row and m3's row existed by the end of 2026-03-30
        (dt.date(2026, 3, 30), [("m1", 1, 10.0, 10.0), ("m3", 1, 1.0, 1.0)]),
        # 23:59:59 local on D counts; 2026-03-31T20:00Z is 2026-04-01 local and does not
        (D, [("m1", 2, 30.0, 20.0), ("m3", 1, 1.0, 1.0)]),
        (dt.date(2026, 4, 1), [("m1", 3, 70.0, 40.0), ("m2", 1, 5.0, 5.0), ("m3", 1, 1.0, 1.0)]),
    ],
)
def test_as_of_cut_ignores_rows_after_the_end_of_the_run_date_in_the_config_timezone(
    spark, tmp_path, project_of, indicators_of, day, rows
):
    write_parquet(tmp_path, "orders", ORDERS, [
        ("m1", local("2026-03-30 10:00:00"), 10.0),
        ("m1", utc("2026-03-31 15:59:59"), 20.0),  # 2026-03-31 23:59:59 local
        ("m1", utc("2026-03-31 20:00:00"), 40.0),  # 2026-04-01 04:00 local
        ("m2", utc("2026-03-31 20:00:00"), 5.0),  # m2 exists only from 2026-04-01 on
        ("m3", local("2026-03-29 12:00:00"), 1.0),
    ])
    project = project_of(f"""\
        sources:
        {ORDERS_SOURCE}
        indicators:
          orders: {{source: orders, agg: count}}
          spend: {{source: orders, agg: sum, of: amount}}
          last_amount: {{source: orders, column: amount}}
        """)
    expected = expected_frame(
        spark,
        [("member_id", T.StringType()), ("orders", T.LongType()), ("spend", T.DoubleType()), ("last_amount", T.DoubleType())],
        rows,
    )
    assert_rows(indicators_of(project, day), expected)


def test_a_text_time_is_a_wall_clock_time_in_the_config_timezone(spark, tmp_path, project_of, indicators_of):
    text_times = pa.schema([("member_id", pa.string()), ("ordered_at", pa.string()), ("amount", pa.float64())])
    write_parquet(tmp_path, "orders", text_times, [
        ("m1", "2026-03-31 23:59:59", 1.0),  # the last second of D, local
        ("m1", "2026-04-01 00:00:00", 2.0),  # the first second after D, local
        ("m2", "2026-03-02 00:00:00", 4.0),  # D-29: inside 30d
        ("m2", "2026-03-01 23:59:59", 8.0),  # D-30: outside
    ])
    project = project_of(f"""\
        sources:
        {ORDERS_SOURCE}
        indicators:
          spend: {{source: orders, agg: sum, of: amount}}
          spend_30d: {{source: orders, agg: sum, of: amount, window: 30d}}
        """)
    expected = expected_frame(
        spark,
        [("member_id", T.StringType()), ("spend", T.DoubleType()), ("spend_30d", T.DoubleType())],
        [("m1", 1.0, 1.0), ("m2", 12.0, 4.0)],
    )
    assert_rows(indicators_of(project), expected)


# -- windows ------------------------------------------------------------------------------


def test_window_covers_the_n_days_ending_with_the_run_date_in_local_days(spark, tmp_path, project_of, indicators_of):
    # D = 2026-03-31: 30d is 2026-03-02 .. 2026-03-31, 1d is 2026-03-31 only
    write_parquet(tmp_path, "orders", ORDERS, [
        ("m1", local("2026-03-01 23:59:59"), 1.0),  # D-30: out (2026-03-01T15:59:59Z)
        ("m1", local("2026-03-02 00:00:00"), 2.0),  # D-29: in (2026-03-01T16:00Z, D-30 in UTC)
        ("m1", local("2026-03-30 23:59:59"), 8.0),  # D-1
        ("m1", local("2026-03-31 00:00:00"), 4.0),  # D
        ("m2", local("2026-03-01 12:00:00"), 16.0),  # D-30 only
    ])
    visits = pa.schema([("member_id", pa.string()), ("visit_day", pa.date32())])
    write_parquet(tmp_path, "visits", visits, [
        ("m1", dt.date(2026, 3, 1)),  # D-30: out
        ("m1", dt.date(2026, 3, 2)),  # D-29: in
        ("m1", dt.date(2026, 3, 31)),  # D: in
        ("m1", dt.date(2026, 4, 1)),  # after D: cut
        ("m3", dt.date(2026, 3, 1)),
    ])
    project = project_of(f"""\
        sources:
        {ORDERS_SOURCE}
          visits: {{format: parquet, path: data/visits, key: member_id, time: visit_day}}
        indicators:
          orders_all: {{source: orders, agg: count}}
          orders_30d: {{source: orders, agg: count, window: 30d}}
          spend_30d: {{source: orders, agg: sum, of: amount, window: 30d}}
          orders_1d: {{source: orders, agg: count, window: 1d}}
          visits_30d: {{source: visits, agg: count, window: 30d}}
          visits_all: {{source: visits, agg: count}}
        """)
    expected = expected_frame(
        spark,
        [
            ("member_id", T.StringType()),
            ("orders_all", T.LongType()),
            ("orders_30d", T.LongType()),
            ("spend_30d", T.DoubleType()),
            ("orders_1d", T.LongType()),
            ("visits_30d", T.LongType()),
            ("visits_all", T.LongType()),
        ],
        [
            ("m1", 4, 3, 14.0, 1, 2, 3),
            ("m2", 1, 0, None, 0, 0, 0),
            ("m3", 0, 0, None, 0, 0, 1),
        ],
    )
    assert_rows(indicators_of(project), expected)


# -- latest value, first / last, mode, collect_set ------------------------------------------

MEMBERS = pa.schema([("member_id", pa.string()), ("updated_at", TS), ("city", pa.string()), ("level", pa.int64())])
MEMBERS_SOURCE = """\
  members: {format: parquet, path: data/members, key: member_id, time: updated_at}
"""


def test_column_indicator_takes_the_latest_row_ties_by_greatest_value(spark, tmp_path, project_of, indicators_of):
    t1, t2 = local("2026-03-10 09:00:00"), local("2026-03-20 09:00:00")
    write_parquet(tmp_path, "members", MEMBERS, [
        ("m1", t1, "Shanghai", 9),
        ("m1", t1, "Beijing", 10),  # same time: greatest city Shanghai, greatest level 10 (not "9" > "10")
        ("m2", t1, "Zhuhai", 5),
        ("m2", t2, "Anshan", 1),  # later beats greater
        ("m3", t1, "Wuhan", 3),
        ("m3", t2, None, 2),  # the latest row's city is null: that is the latest fact
        ("m4", t1, "Dalian", 7),
        ("m4", local("2026-04-01 08:00:00"), "Xian", 8),  # after D
    ])
    project = project_of(f"""\
        sources:
        {MEMBERS_SOURCE}
        indicators:
          city: {{source: members, column: city}}
          level: {{source: members, column: level}}
        """)
    expected = expected_frame(
        spark,
        [("member_id", T.StringType()), ("city", T.StringType()), ("level", T.LongType())],
        [("m1", "Shanghai", 10), ("m2", "Anshan", 1), ("m3", None, 2), ("m4", "Dalian", 7)],
    )
    assert_rows(indicators_of(project), expected)


CHANNELS = pa.schema([("member_id", pa.string()), ("ordered_at", TS), ("channel", pa.string()), ("category", pa.string())])


def test_first_and_last_order_by_time_then_value(spark, tmp_path, project_of, indicators_of):
    t1, t2 = local("2026-03-10 09:00:00"), local("2026-03-20 09:00:00")
    write_parquet(tmp_path, "orders", CHANNELS, [
        ("m1", t1, "web", "a"),
        ("m1", t2, "store", "a"),
        ("m1", t2, "app", "a"),  # last: tie at t2 -> greatest value, store
        ("m2", t1, "web", "a"),
        ("m2", t1, "app", "a"),  # first: tie at t1 -> smallest value, app
        ("m2", t2, "mini", "a"),
        ("m3", t1, "app", "a"),
        ("m4", local("2026-02-01 10:00:00"), "web", "a"),  # D-58: outside 30d
    ])
    project = project_of(f"""\
        sources:
        {ORDERS_SOURCE}
        indicators:
          first_channel: {{source: orders, agg: first, of: channel}}
          last_channel: {{source: orders, agg: last, of: channel}}
          first_channel_30d: {{source: orders, agg: first, of: channel, window: 30d}}
        """)
    expected = expected_frame(
        spark,
        [("member_id", T.StringType()), ("first_channel", T.StringType()), ("last_channel", T.StringType()), ("first_channel_30d", T.StringType())],
        [
            ("m1", "web", "store", "web"),
            ("m2", "app", "mini", "app"),
            ("m3", "app", "app", "app"),
            ("m4", "web", "web", None),
        ],
    )
    assert_rows(indicators_of(project), expected)


def test_mode_takes_the_most_frequent_value_ties_to_the_smallest(spark, tmp_path, project_of, indicators_of):
    t = local("2026-03-20 09:00:00")
    old = local("2026-02-01 09:00:00")  # D-58
    write_parquet(tmp_path, "orders", CHANNELS, [
        ("m1", t, "web", "b"), ("m1", t, "web", "a"), ("m1", t, "web", "b"), ("m1", t, "web", "c"),
        ("m2", t, "web", "y"), ("m2", t, "web", "x"), ("m2", t, "web", "y"), ("m2", t, "web", "x"),
        ("m3", t, "web", "z"),
        ("m4", old, "web", "q"),
    ])
    project = project_of(f"""\
        sources:
        {ORDERS_SOURCE}
        indicators:
          top_category: {{source: orders, agg: mode, of: category}}
          top_category_30d: {{source: orders, agg: mode, of: category, window: 30d}}
        """)
    expected = expected_frame(
        spark,
        [("member_id", T.StringType()), ("top_category", T.StringType()), ("top_category_30d", T.StringType())],
        [("m1", "b", "b"), ("m2", "x", "x"), ("m3", "z", "z"), ("m4", "q", None)],
    )
    assert_rows(indicators_of(project), expected)


def test_collect_set_is_sorted_distinct_and_null_without_matching_rows(spark, tmp_path, project_of, indicators_of):
    t = local("2026-03-20 09:00:00")
    old = local("2026-02-01 09:00:00")  # D-58
    write_parquet(tmp_path, "orders", CHANNELS, [
        ("m1", t, "web", "b"), ("m1", t, "web", "c"), ("m1", t, "web", "a"), ("m1", t, "web", "b"),
        ("m2", old, "web", "q"), ("m2", old, "web", "p"),
    ])
    write_parquet(tmp_path, "members", MEMBERS, [("m3", t, "Wuhan", 1)])
    project = project_of(f"""\
        sources:
        {ORDERS_SOURCE}
        {MEMBERS_SOURCE}
        indicators:
          categories: {{source: orders, agg: collect_set, of: category}}
          categories_30d: {{source: orders, agg: collect_set, of: category, window: 30d}}
        """)
    expected = expected_frame(
        spark,
        [("member_id", T.StringType()), ("categories", T.ArrayType(T.StringType())), ("categories_30d", T.ArrayType(T.StringType()))],
        [("m1", ["a", "b", "c"], ["a", "b", "c"]), ("m2", ["p", "q"], None), ("m3", None, None)],
    )
    assert_rows(indicators_of(project), expected)


def test_list_aggregates_of_numbers_and_dates_keep_their_order_in_every_window(spark, tmp_path, project_of, indicators_of):
    """mode, collect_set and count_distinct of one column share one list across windows and
    `where`s: values that sort differently as text (9 < 10, 2026-01-09 < 2026-01-10) must come
    back typed and in value order; a window's edge (local days) must hold."""
    schema = pa.schema([("member_id", pa.string()), ("ordered_at", TS), ("amount", pa.float64()), ("due", pa.date32())])
    edge = local("2026-03-25 00:00:00")  # first moment of the 7-day window
    before = local("2026-03-24 23:59:59")
    jan9, jan10 = dt.date(2026, 1, 9), dt.date(2026, 1, 10)
    write_parquet(tmp_path, "orders", schema, [
        ("m1", edge, 10.0, jan10), ("m1", edge, 9.0, jan9), ("m1", before, 9.0, jan9), ("m1", before, 100.0, jan9),
        ("m2", before, 5.0, None), ("m2", before, None, jan10),
    ])
    project = project_of(f"""\
        sources:
        {ORDERS_SOURCE}
        indicators:
          top_amount:     {{source: orders, agg: mode, of: amount}}
          top_amount_7d:  {{source: orders, agg: mode, of: amount, window: 7d}}
          amounts:        {{source: orders, agg: collect_set, of: amount}}
          amounts_7d:     {{source: orders, agg: collect_set, of: amount, window: 7d}}
          small_amounts:  {{source: orders, agg: collect_set, of: amount, where: {{field: amount, op: lt, value: 50}}}}
          dues:           {{source: orders, agg: collect_set, of: due}}
          due_count_7d:   {{source: orders, agg: count_distinct, of: due, window: 7d}}
        """)
    expected = expected_frame(
        spark,
        [("member_id", T.StringType()), ("top_amount", T.DoubleType()), ("top_amount_7d", T.DoubleType()),
         ("amounts", T.ArrayType(T.DoubleType())), ("amounts_7d", T.ArrayType(T.DoubleType())),
         ("small_amounts", T.ArrayType(T.DoubleType())), ("dues", T.ArrayType(T.DateType())), ("due_count_7d", T.LongType())],
        [
            ("m1", 9.0, 9.0, [9.0, 10.0, 100.0], [9.0, 10.0], [9.0, 10.0], [jan9, jan10], 2),
            ("m2", 5.0, None, [5.0], None, [5.0], [jan10], 0),
        ],
    )
    assert_rows(indicators_of(project), expected)


# -- counts, conditional aggregates, shared definitions --------------------------------------


def test_counts_are_zero_and_other_aggregates_null_for_an_entity_only_in_another_source(spark, tmp_path, project_of, indicators_of):
    t = local("2026-03-20 09:00:00")
    write_parquet(tmp_path, "orders", CHANNELS, [("m1", t, "web", "a"), ("m1", t, "web", "b")])
    amounts = pa.schema([("member_id", pa.string()), ("ordered_at", TS), ("amount", pa.float64())])
    write_parquet(tmp_path, "payments", amounts, [("m1", t, 10.0), ("m1", t, 30.0)])
    write_parquet(tmp_path, "members", MEMBERS, [("m1", t, "Wuhan", 1), ("m9", t, "Dalian", 2)])
    project = project_of(f"""\
        sources:
        {ORDERS_SOURCE}
          payments: {{format: parquet, path: data/payments, key: member_id, time: ordered_at}}
        {MEMBERS_SOURCE}
        indicators:
          orders: {{source: orders, agg: count}}
          channels: {{source: orders, agg: count_distinct, of: channel}}
          spend: {{source: payments, agg: sum, of: amount}}
          biggest: {{source: payments, agg: max, of: amount}}
          smallest: {{source: payments, agg: min, of: amount}}
          average: {{source: payments, agg: avg, of: amount}}
          categories: {{source: orders, agg: collect_set, of: category}}
        """)
    expected = expected_frame(
        spark,
        [
            ("member_id", T.StringType()),
            ("orders", T.LongType()),
            ("channels", T.LongType()),
            ("spend", T.DoubleType()),
            ("biggest", T.DoubleType()),
            ("smallest", T.DoubleType()),
            ("average", T.DoubleType()),
            ("categories", T.ArrayType(T.StringType())),
        ],
        [
            ("m1", 2, 1, 40.0, 30.0, 10.0, 20.0, ["a", "b"]),
            ("m9", 0, 0, None, None, None, None, None),
        ],
    )
    assert_rows(indicators_of(project), expected)


def test_where_makes_conditional_aggregates(spark, tmp_path, project_of, indicators_of):
    schema = pa.schema([("member_id", pa.string()), ("ordered_at", TS), ("amount", pa.float64()), ("channel", pa.string())])
    write_parquet(tmp_path, "orders", schema, [
        ("m1", local("2026-03-30 10:00:00"), 100.0, "app"),
        ("m1", local("2026-03-29 10:00:00"), 500.0, "web"),
        ("m1", local("2026-02-19 10:00:00"), 700.0, "web"),  # D-40
        ("m1", local("2026-03-28 10:00:00"), 50.0, "web"),
        ("m2", local("2026-03-30 10:00:00"), 20.0, "web"),
        ("m2", local("2026-03-30 11:00:00"), None, "app"),  # a null amount never compares true
    ])
    project = project_of(f"""\
        sources:
        {ORDERS_SOURCE}
        indicators:
          big_orders: {{source: orders, agg: count, where: {{field: amount, op: gte, value: 500}}}}
          big_orders_30d: {{source: orders, agg: count, window: 30d, where: {{field: amount, op: gte, value: 500}}}}
          app_spend: {{source: orders, agg: sum, of: amount, where: {{field: channel, op: eq, value: app}}}}
          app_or_big: {{source: orders, agg: count,
                       where: {{any: [{{field: channel, op: eq, value: app}}, {{field: amount, op: gte, value: 500}}]}}}}
          small_web: {{source: orders, agg: count,
                      where: {{all: [{{field: channel, op: eq, value: web}}, {{field: amount, op: lt, value: 500}}]}}}}
        """)
    expected = expected_frame(
        spark,
        [
            ("member_id", T.StringType()),
            ("big_orders", T.LongType()),
            ("big_orders_30d", T.LongType()),
            ("app_spend", T.DoubleType()),
            ("app_or_big", T.LongType()),
            ("small_web", T.LongType()),
        ],
        [("m1", 2, 1, 100.0, 3, 1), ("m2", 0, 0, None, 1, 1)],
    )
    assert_rows(indicators_of(project), expected)


def test_indicators_with_identical_definitions_both_get_their_values(spark, tmp_path, project_of, indicators_of):
    schema = pa.schema([("member_id", pa.string()), ("ordered_at", TS), ("amount", pa.float64()), ("channel", pa.string())])
    write_parquet(tmp_path, "orders", schema, [
        ("m1", local("2026-03-30 10:00:00"), 10.0, "web"),
        ("m1", local("2026-02-19 10:00:00"), 5.0, "app"),  # D-40
        ("m2", local("2026-03-29 10:00:00"), 7.0, "app"),
    ])
    project = project_of(f"""\
        sources:
        {ORDERS_SOURCE}
        indicators:
          spend_a: {{source: orders, agg: sum, of: amount}}
          spend_b: {{source: orders, agg: sum, of: amount}}
          spend_30d: {{source: orders, agg: sum, of: amount, window: 30d}}
          channel_a: {{source: orders, column: channel}}
          channel_b: {{source: orders, column: channel}}
          first_a: {{source: orders, agg: first, of: channel}}
          first_b: {{source: orders, agg: first, of: channel}}
        """)
    expected = expected_frame(
        spark,
        [
            ("member_id", T.StringType()),
            ("spend_a", T.DoubleType()),
            ("spend_b", T.DoubleType()),
            ("spend_30d", T.DoubleType()),
            ("channel_a", T.StringType()),
            ("channel_b", T.StringType()),
            ("first_a", T.StringType()),
            ("first_b", T.StringType()),
        ],
        [("m1", 15.0, 15.0, 10.0, "web", "web", "app", "app"), ("m2", 7.0, 7.0, 7.0, "app", "app", "app", "app")],
    )
    assert_rows(indicators_of(project), expected)


# -- expressions --------------------------------------------------------------------------


def test_expr_indicators_read_other_indicators_run_date_and_other_exprs(spark, tmp_path, project_of, indicators_of):
    people = pa.schema([("member_id", pa.string()), ("updated_at", TS), ("birthday", pa.date32())])
    write_parquet(tmp_path, "members", people, [
        ("m1", local("2026-01-01 09:00:00"), dt.date(2000, 4, 1)),  # turns 26 the day after D
        ("m2", local("2026-01-01 09:00:00"), dt.date(2000, 3, 31)),  # turns 26 on D
    ])
    orders = pa.schema([("member_id", pa.string()), ("ordered_at", TS), ("amount", pa.float64()), ("order_day", pa.date32())])
    write_parquet(tmp_path, "orders", orders, [
        ("m1", local("2026-03-20 10:00:00"), 30.0, dt.date(2026, 3, 20)),
        ("m1", local("2026-03-25 10:00:00"), 50.0, dt.date(2026, 3, 25)),
    ])
    # the expr over an expr comes first: order in the file does not matter
    project = project_of(f"""\
        sources:
        {ORDERS_SOURCE}
          members: {{format: parquet, path: data/members, key: member_id, time: updated_at}}
        indicators:
          score_x2: {{expr: "score * 2"}}
          score: {{expr: "spend + orders * 10"}}
          spend: {{source: orders, agg: sum, of: amount}}
          orders: {{source: orders, agg: count}}
          last_order_day: {{source: orders, agg: max, of: order_day}}
          days_since_order: {{expr: "datediff(run_date, last_order_day)"}}
          birthday: {{source: members, column: birthday}}
          age: {{expr: "floor(months_between(run_date, birthday) / 12)"}}
        """)
    # m1: 80 + 2 * 10 = 100; 2026-03-31 - 2026-03-25 = 6 days; months_between(2026-03-31,
    # 2000-04-01) = 311 + 30/31, so 25 years; m2: exactly 312 months, 26 years; no orders, so
    # spend is null and so is everything computed from it.
    expected = expected_frame(
        spark,
        [
            ("member_id", T.StringType()),
            ("score", T.DoubleType()),
            ("score_x2", T.DoubleType()),
            ("days_since_order", T.DoubleType()),
            ("age", T.DoubleType()),
        ],
        [("m1", 100.0, 200.0, 6.0, 25.0), ("m2", None, None, None, 26.0)],
    )
    # an expr's integer width is the engine's (datediff: int on Spark, bigint on Sail);
    # numbers are one kind to labels, so compare them as doubles
    actual = indicators_of(project)
    assert_rows(actual.select("member_id", *(F.col(c).cast("double").alias(c) for c in expected.columns[1:])), expected)


def test_expr_ratio_is_null_for_an_entity_without_rows(spark, tmp_path, project_of, indicators_of):
    # m2 is only in members: its count is 0 and its sum null. Ratios guard the divisor with
    # nullif (README): Sail raises on `null / 0` where Spark gives null.
    write_parquet(tmp_path, "orders", ORDERS, [("m1", local("2026-03-20 10:00:00"), 30.0), ("m1", local("2026-03-21 10:00:00"), 50.0)])
    write_parquet(tmp_path, "members", MEMBERS, [("m2", local("2026-03-20 10:00:00"), "Wuhan", 1)])
    project = project_of(f"""\
        sources:
        {ORDERS_SOURCE}
        {MEMBERS_SOURCE}
        indicators:
          per_order: {{expr: "spend / nullif(orders, 0)"}}
          spend: {{source: orders, agg: sum, of: amount}}
          orders: {{source: orders, agg: count}}
        """)
    expected = expected_frame(spark, [("member_id", T.StringType()), ("per_order", T.DoubleType())], [("m1", 40.0), ("m2", None)])
    assert_rows(indicators_of(project), expected)


def test_expr_indicators_are_computed_when_only_they_are_asked_for(spark, tmp_path, project_of, indicators_of):
    write_parquet(tmp_path, "orders", ORDERS, [("m1", local("2026-03-20 10:00:00"), 30.0), ("m1", local("2026-03-21 10:00:00"), 50.0)])
    project = project_of(f"""\
        sources:
        {ORDERS_SOURCE}
        indicators:
          doubled: {{expr: "per_order * 2"}}
          per_order: {{expr: "spend / orders"}}
          spend: {{source: orders, agg: sum, of: amount}}
          orders: {{source: orders, agg: count}}
        """)
    expected = expected_frame(spark, [("member_id", T.StringType()), ("doubled", T.DoubleType())], [("m1", 80.0)])
    assert_rows(indicators_of(project, names={"doubled"}), expected)


# -- cleaning -----------------------------------------------------------------------------

PROFILES = pa.schema([
    ("member_id", pa.string()),
    ("updated_at", TS),
    ("city", pa.string()),
    ("email", pa.string()),
    ("status", pa.string()),
])


@pytest.mark.parametrize(
    ("steps", "rows"),
    [
        pytest.param(
            "drop_null: [email], trim: [city, status], lower: [email], "
            "dedupe: {by: [member_id], keep: latest}, filter: \"status != 'deleted'\"",
            # m2: its latest row is deleted (once trimmed): a deleted latest row removes the entity
            [("m1", "Beijing", "a@x.com", 1), ("m3", "Wuhan", "c@x.com", 1)],
            id="dedupe-then-filter",
        ),
        pytest.param(
            "drop_null: [email], trim: [city, status], lower: [email], "
            "filter: \"status != 'deleted'\", dedupe: {by: [member_id], keep: latest}",
            # filtering first leaves m2's older, active row
            [("m1", "Beijing", "a@x.com", 1), ("m2", "Shanghai", "b@x.com", 1), ("m3", "Wuhan", "c@x.com", 1)],
            id="filter-then-dedupe",
        ),
        pytest.param(
            "drop_null: [email], dedupe: {by: [member_id], keep: latest}, filter: \"status != 'deleted'\", "
            "trim: [city, status], lower: [email]",
            # filtering before trimming: 'deleted<TAB>' is no 'deleted', so m2 stays with its latest row
            [("m1", "Beijing", "a@x.com", 1), ("m2", "Guangzhou", "b2@x.com", 1), ("m3", "Wuhan", "c@x.com", 1)],
            id="filter-before-trim",
        ),
    ],
)
def test_cleaning_steps_apply_in_config_order(spark, tmp_path, project_of, indicators_of, steps, rows):
    t1, t2 = local("2026-03-10 09:00:00"), local("2026-03-20 09:00:00")
    write_parquet(tmp_path, "members", PROFILES, [
        ("m1", t1, " \tBeijing\n", "A@X.COM", "active"),
        ("m1", t2, "Nanjing", None, "active"),  # no email: dropped before dedupe
        ("m2", t1, "Shanghai", "B@x.com", "active"),
        ("m2", t2, "Guangzhou", "b2@x.com", "deleted\t"),
        ("m3", t1, "Hangzhou", "c@x.com", "deleted"),
        ("m3", t2, "Wuhan\t", "C@X.com", " active "),
        ("m4", t1, "Dalian", None, "active"),  # only rows without email: gone
    ])
    project = project_of(f"""\
        sources:
          members:
            format: parquet
            path: data/members
            key: member_id
            time: updated_at
            clean: {{{steps}}}
        indicators:
          city: {{source: members, column: city}}
          email: {{source: members, column: email}}
          rows: {{source: members, agg: count}}
        """)
    expected = expected_frame(
        spark,
        [("member_id", T.StringType()), ("city", T.StringType()), ("email", T.StringType()), ("rows", T.LongType())],
        rows,
    )
    assert_rows(indicators_of(project), expected)


def test_dedupe_keeps_the_latest_row_ties_to_the_greatest_row(spark, tmp_path, project_of, indicators_of):
    t1, t2 = local("2026-03-10 09:00:00"), local("2026-03-20 09:00:00")
    write_parquet(tmp_path, "members", MEMBERS, [
        # same time: rows compare column by column (city, then level): ('B', 1) > ('A', 10);
        # the whole row is kept, never a mix of fields from different rows
        ("m1", t1, "A", 10),
        ("m1", t1, "B", 1),
        ("m2", t1, "C", 9),
        ("m2", t1, "C", 10),  # numeric order: 10 > 9
        ("m3", t1, "Z", 100),
        ("m3", t2, "A", 1),  # later beats greater
    ])
    project = project_of("""\
        sources:
          members:
            format: parquet
            path: data/members
            key: member_id
            time: updated_at
            clean: {dedupe: {by: [member_id], keep: latest}}
        indicators:
          city: {source: members, column: city}
          level: {source: members, column: level}
          smallest_level: {source: members, agg: min, of: level}
          rows: {source: members, agg: count}
        """)
    expected = expected_frame(
        spark,
        [("member_id", T.StringType()), ("city", T.StringType()), ("level", T.LongType()), ("smallest_level", T.LongType()), ("rows", T.LongType())],
        [("m1", "B", 1, 1, 1), ("m2", "C", 10, 10, 1), ("m3", "A", 1, 1, 1)],
    )
    assert_rows(indicators_of(project), expected)


# -- ids and entities -----------------------------------------------------------------------


def test_id_map_maps_every_source_before_anything_else_and_drops_unmapped_rows(spark, tmp_path, project_of, indicators_of):
    t1, t2 = local("2026-03-10 09:00:00"), local("2026-03-20 09:00:00")
    id_map = pa.schema([("source_id", pa.string()), ("member_id", pa.string())])
    write_parquet(tmp_path, "id_map", id_map, [("u1", "M1"), ("u2", "M1"), ("42", "M2"), ("M3", "M3")])
    profiles = pa.schema([("uid", pa.string()), ("updated_at", TS), ("city", pa.string())])
    write_parquet(tmp_path, "profiles", profiles, [
        ("u1", t2, "A"),
        ("u2", t1, "B"),  # u1 and u2 are one member: dedupe by uid sees both as M1, keeps the latest
        ("u3", t1, "C"),  # unmapped
        ("M3", t1, "D"),  # target ids are mapped too (M3 -> M3)
    ])
    orders = pa.schema([("user_no", pa.int64()), ("ordered_at", TS), ("amount", pa.float64())])
    write_parquet(tmp_path, "orders", orders, [(42, t1, 10.0), (7, t1, 99.0)])  # 7: unmapped
    project = project_of(
        """\
        sources:
          id_map: {format: parquet, path: data/id_map, key: member_id}
          profiles:
            format: parquet
            path: data/profiles
            key: uid
            time: updated_at
            clean: {dedupe: {by: [uid], keep: latest}}
          orders: {format: parquet, path: data/orders, key: user_no, time: ordered_at}
        indicators:
          city: {source: profiles, column: city}
          profile_rows: {source: profiles, agg: count}
          spend: {source: orders, agg: sum, of: amount}
        """,
        entity="{key: member_id, id_map: {source: id_map}}",
    )
    expected = expected_frame(
        spark,
        [("member_id", T.StringType()), ("city", T.StringType()), ("profile_rows", T.LongType()), ("spend", T.DoubleType())],
        [("M1", "A", 1, None), ("M2", None, 0, 10.0), ("M3", "D", 1, None)],
    )
    assert_rows(indicators_of(project), expected)


def test_every_entity_of_any_source_has_a_row(spark, tmp_path, project_of, indicators_of):
    t = local("2026-03-20 09:00:00")
    write_parquet(tmp_path, "members", MEMBERS, [("m1", t, "X", 1), ("m3", t, "Y", 2)])
    write_parquet(tmp_path, "orders", ORDERS, [("m1", t, 5.0), ("m2", t, 7.0), (None, t, 9.0)])
    logins = pa.schema([("member_id", pa.string()), ("login_at", TS)])
    write_parquet(tmp_path, "logins", logins, [("m4", t), ("m1", t)])
    project = project_of(f"""\
        sources:
        {MEMBERS_SOURCE}
        {ORDERS_SOURCE}
          logins: {{format: parquet, path: data/logins, key: member_id, time: login_at}}
        indicators:
          city: {{source: members, column: city}}
          spend: {{source: orders, agg: sum, of: amount}}
          orders: {{source: orders, agg: count}}
        """)
    expected = expected_frame(
        spark,
        [("member_id", T.StringType()), ("city", T.StringType()), ("spend", T.DoubleType()), ("orders", T.LongType())],
        [("m1", "X", 5.0, 1), ("m2", None, 7.0, 1), ("m3", "Y", None, 0), ("m4", None, None, 0)],
    )
    assert_rows(indicators_of(project), expected)
    # only the members' indicator asked for: entities of the other sources still have rows
    only_city = expected_frame(
        spark,
        [("member_id", T.StringType()), ("city", T.StringType())],
        [("m1", "X"), ("m2", None), ("m3", "Y"), ("m4", None)],
    )
    assert_rows(indicators_of(project, names={"city"}), only_city)


def test_a_key_of_different_types_in_two_sources_still_joins(spark, tmp_path, project_of, indicators_of):
    t = local("2026-03-20 09:00:00")
    orders = pa.schema([("member_id", pa.int64()), ("ordered_at", TS), ("amount", pa.float64())])
    write_parquet(tmp_path, "orders", orders, [(1, t, 5.0), (1, t, 6.0), (2, t, 7.0)])
    write_parquet(tmp_path, "members", MEMBERS, [("1", t, "A", 1), ("3", t, "C", 3)])
    project = project_of(f"""\
        sources:
        {ORDERS_SOURCE}
        {MEMBERS_SOURCE}
        indicators:
          city: {{source: members, column: city}}
          spend: {{source: orders, agg: sum, of: amount}}
          orders: {{source: orders, agg: count}}
        """)
    expected = expected_frame(
        spark,
        [("member_id", T.StringType()), ("city", T.StringType()), ("spend", T.DoubleType()), ("orders", T.LongType())],
        [("1", "A", 11.0, 2), ("2", None, 7.0, 1), ("3", "C", None, 0)],
    )
    actual = indicators_of(project)
    assert actual.columns[0] == "member_id"
    assert_rows(actual, expected)
