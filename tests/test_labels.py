"""Label evaluation through `compute_snapshot`: one typed column per enabled label.

Expected values are worked out by hand from the rows each test writes; distribution tiers
are checked against DuckDB's `quantile_cont` over the same values. The project's timezone
is Asia/Shanghai (UTC+8) and the run date 2026-03-31.
"""
from __future__ import annotations

import datetime as dt
import textwrap
from pathlib import Path
from zoneinfo import ZoneInfo

import duckdb
import pyarrow as pa
import pytest
from pyspark.sql import types as T

from labelspark.config import load_project
from labelspark.errors import ConfigError
from labelspark.compute.run import compute_snapshot
from labelspark.compute.plan import make_plan
from labelspark.engine.sessions import set_timezone
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
entity: {key: member_id}
outputs: {warehouse: warehouse}
"""

STRING, DOUBLE, BOOLEAN, DATE = T.StringType(), T.DoubleType(), T.BooleanType(), T.DateType()
LIST = T.ArrayType(T.StringType())


def local(text: str) -> dt.datetime:
    """A wall-clock time in the project's timezone."""
    return dt.datetime.fromisoformat(text).replace(tzinfo=ZoneInfo(TZ))


@pytest.fixture
def project_of(write_config):
    def load(body: str):
        return load_project(write_config(HEADER + textwrap.dedent(body)))

    return load


@pytest.fixture
def snapshot_of(spark):
    """The snapshot frame of a run on `day` with every enabled label due. Writes nothing.

    The session is in the project's timezone, as a run sets it; it is put back afterwards.
    """

    def compute(project, day: dt.date = D):
        set_timezone(spark, project.timezone)
        return compute_snapshot(spark, project, make_plan(project, day, computed=set()))

    yield compute
    spark.conf.set("spark.sql.session.timeZone", "UTC")


ORDERS = pa.schema([("member_id", pa.string()), ("ordered_at", TS), ("amount", pa.float64())])
MEMBERS = pa.schema([("member_id", pa.string()), ("updated_at", TS), ("city", pa.string())])
SOURCES = """\
sources:
  orders: {format: parquet, path: data/orders, key: member_id, time: ordered_at}
  members: {format: parquet, path: data/members, key: member_id, time: updated_at}
"""


def write_spend_data(root: Path) -> None:
    """m1 spends 150 in 2 orders, m2 60 in 1, m3 10 in 3, m4 -5 in 1 (a refund); m5 has no orders."""
    t = local("2026-03-20 10:00:00")
    write_parquet(root, "orders", ORDERS, [
        ("m1", t, 100.0), ("m1", t, 50.0),
        ("m2", t, 60.0),
        ("m3", t, 2.0), ("m3", t, 3.0), ("m3", t, 5.0),
        ("m4", t, -5.0),
    ])
    write_parquet(root, "members", MEMBERS, [("m5", t, "Wuhan")])


SPEND_INDICATORS = """\
indicators:
  spend: {source: orders, agg: sum, of: amount}
  orders: {source: orders, agg: count}
"""


# -- rules --------------------------------------------------------------------------------


def test_rules_label_first_match_wins_and_no_match_is_null(spark, tmp_path, project_of, snapshot_of):
    write_spend_data(tmp_path)
    project = project_of(SOURCES + SPEND_INDICATORS + """\
labels:
  - id: spend_band
    type: string
    method: rules
    values:
      - {value: big, when: {field: spend, op: gte, value: 100}}
      - {value: medium, when: {field: spend, op: gte, value: 50}}
      - {value: small, when: {any: [{field: spend, op: gt, value: 0}, {field: orders, op: gte, value: 3}]}}
""")
    # m1 matches all three values, m2 the last two: the first match wins. m4 (-5, one order)
    # matches none; m5's spend is null, and a null compares false.
    expected = expected_frame(
        spark,
        [("member_id", STRING), ("spend_band", STRING)],
        [("m1", "big"), ("m2", "medium"), ("m3", "small"), ("m4", None), ("m5", None)],
    )
    assert_rows(snapshot_of(project), expected)


def test_multi_rules_label_lists_every_match_in_the_order_of_values(spark, tmp_path, project_of, snapshot_of):
    write_spend_data(tmp_path)
    project = project_of(SOURCES + SPEND_INDICATORS + """\
labels:
  - id: traits
    type: list
    method: rules
    multi: true
    values:
      - {value: zeta_spender, when: {field: spend, op: gte, value: 100}}
      - {value: alpha_buyer, when: {field: orders, op: gte, value: 2}}
      - {value: mid, when: {field: spend, op: between, value: [50, 99]}}
""")
    # the order of `values`, not alphabetical; no match (m4, m5) is null, not an empty list
    expected = expected_frame(
        spark,
        [("member_id", STRING), ("traits", LIST)],
        [
            ("m1", ["zeta_spender", "alpha_buyer"]),
            ("m2", ["mid"]),
            ("m3", ["alpha_buyer"]),
            ("m4", None),
            ("m5", None),
        ],
    )
    assert_rows(snapshot_of(project), expected)


# -- metric, first_last, preference ---------------------------------------------------------


def test_metric_labels_hold_the_indicator_value_as_number_or_date(spark, tmp_path, project_of, snapshot_of):
    orders = pa.schema([("member_id", pa.string()), ("ordered_at", TS), ("order_day", pa.date32()), ("amount", pa.int64())])
    write_parquet(tmp_path, "orders", orders, [
        ("m1", local("2026-03-31 10:00:00"), dt.date(2026, 3, 31), 120),
        ("m1", local("2025-12-01 10:00:00"), dt.date(2025, 12, 1), 1000),  # D-120: outside 90d (D-89 = 2026-01-01)
        ("m2", local("2026-01-01 00:00:00"), dt.date(2026, 1, 1), 35),  # D-89: inside
    ])
    write_parquet(tmp_path, "members", MEMBERS, [("m3", local("2026-03-01 10:00:00"), "Wuhan")])
    project = project_of(SOURCES + """\
indicators:
  spend_90d: {source: orders, agg: sum, of: amount, window: 90d}
  last_order_day: {source: orders, agg: max, of: order_day}
labels:
  - {id: spend_90d, type: number, method: metric, indicator: spend_90d, buckets: [0, 100, 1000]}
  - {id: last_order_day, type: date, method: metric, indicator: last_order_day}
""")
    # an integer sum becomes the number type, double; buckets do not change the value
    expected = expected_frame(
        spark,
        [("member_id", STRING), ("spend_90d", DOUBLE), ("last_order_day", DATE)],
        [
            ("m1", 120.0, dt.date(2026, 3, 31)),
            ("m2", 35.0, dt.date(2026, 1, 1)),
            ("m3", None, None),
        ],
    )
    assert_rows(snapshot_of(project), expected)


def test_a_date_label_of_a_timestamp_is_its_day_in_the_config_timezone(spark, tmp_path, project_of, snapshot_of):
    write_parquet(tmp_path, "orders", ORDERS, [
        ("m1", local("2026-03-31 01:00:00"), 1.0),  # 2026-03-30T17:00Z: 2026-03-31 in Shanghai
        ("m2", local("2026-02-10 12:00:00"), 1.0),  # 04:00Z: the same day in both zones
    ])
    write_parquet(tmp_path, "members", MEMBERS, [("m3", local("2026-03-01 10:00:00"), "Wuhan")])
    project = project_of(SOURCES + """\
indicators:
  last_ordered_at: {source: orders, column: ordered_at}
labels:
  - {id: last_order_seen, type: date, method: metric, indicator: last_ordered_at}
""")
    expected = expected_frame(
        spark,
        [("member_id", STRING), ("last_order_seen", DATE)],
        [("m1", dt.date(2026, 3, 31)), ("m2", dt.date(2026, 2, 10)), ("m3", None)],
    )
    assert_rows(snapshot_of(project), expected)


def test_first_last_and_preference_labels(spark, tmp_path, project_of, snapshot_of):
    schema = pa.schema([("member_id", pa.string()), ("ordered_at", TS), ("channel", pa.string()), ("category", pa.string())])
    t1, t2, t3 = local("2026-03-01 10:00:00"), local("2026-03-10 10:00:00"), local("2026-03-20 10:00:00")
    write_parquet(tmp_path, "orders", schema, [
        ("m1", t1, "web", "food"), ("m1", t2, "app", "toys"), ("m1", t3, "app", "toys"),
        ("m2", t1, "store", "book"), ("m2", t1, "mini", "food"),  # ties: first smallest, last greatest; mode smallest
    ])
    write_parquet(tmp_path, "members", MEMBERS, [("m3", t1, "Wuhan")])
    project = project_of(SOURCES + """\
indicators:
  first_channel: {source: orders, agg: first, of: channel}
  last_channel: {source: orders, agg: last, of: channel}
  top_category: {source: orders, agg: mode, of: category, window: 180d}
labels:
  - {id: first_channel, type: string, method: first_last, indicator: first_channel}
  - {id: last_channel, type: string, method: first_last, indicator: last_channel}
  - {id: favourite_category, type: string, method: preference, indicator: top_category}
""")
    expected = expected_frame(
        spark,
        [("member_id", STRING), ("first_channel", STRING), ("last_channel", STRING), ("favourite_category", STRING)],
        [("m1", "web", "app", "toys"), ("m2", "mini", "store", "book"), ("m3", None, None, None)],
    )
    assert_rows(snapshot_of(project), expected)


# -- distribution -------------------------------------------------------------------------

SCORES = {
    "e1": 10.0, "e2": 20.0, "e3": 30.0, "e4": 30.0, "e5": 30.0, "e6": 40.0, "e7": 50.0, "e8": 90.0,
    "e9": None,  # a null score stays null
}
TIERS = {"low": 0.5, "mid": 0.9, "high": 1.0}
QUARTILES = {"bottom": 0.25, "middle": 0.75, "top": 1.0}

# By hand, linear interpolation over the 8 non-null values [10, 20, 30, 30, 30, 40, 50, 90]
# at position q * (8 - 1): q=0.25 -> 20 + 0.75 * 10 = 27.5; q=0.5 -> 30 (between two 30s);
# q=0.75 -> 40 + 0.25 * 10 = 42.5; q=0.9 -> 50 + 0.3 * 40 = 62; q=1.0 -> 90. The three 30s
# always share a tier. e10 is only in the orders source: no score, no tier.
BY_HAND = [
    ("e1", "low", "bottom"), ("e2", "low", "bottom"),
    ("e3", "low", "middle"), ("e4", "low", "middle"), ("e5", "low", "middle"), ("e6", "mid", "middle"),
    ("e7", "mid", "top"), ("e8", "high", "top"),
    ("e9", None, None), ("e10", None, None),
]


def duckdb_tiers() -> list[tuple]:
    """The tiers by DuckDB: quantile_cont (linear interpolation) over the non-null scores."""
    con = duckdb.connect()
    con.execute("CREATE TABLE scores (member_id VARCHAR, score DOUBLE)")
    con.executemany("INSERT INTO scores VALUES (?, ?)", [*SCORES.items(), ("e10", None)])

    def thresholds(prefix: str, tiers: dict[str, float]) -> str:
        return ", ".join(f"quantile_cont(score, {q}) AS {prefix}_{name}" for name, q in tiers.items())

    def tier(prefix: str, tiers: dict[str, float]) -> str:
        return "CASE " + " ".join(f"WHEN s.score <= q.{prefix}_{name} THEN '{name}'" for name in tiers) + " END"

    return con.execute(
        f"WITH q AS (SELECT {thresholds('t', TIERS)}, {thresholds('r', QUARTILES)} FROM scores) "
        f"SELECT s.member_id, {tier('t', TIERS)}, {tier('r', QUARTILES)} FROM scores AS s, q"
    ).fetchall()


def test_distribution_tiers_follow_population_quantiles(spark, tmp_path, project_of, snapshot_of):
    assert sorted(duckdb_tiers()) == sorted(BY_HAND)
    t = local("2026-03-20 10:00:00")
    scored = pa.schema([("member_id", pa.string()), ("updated_at", TS), ("score", pa.float64())])
    write_parquet(tmp_path, "members", scored, list((member, t, score) for member, score in SCORES.items()))
    write_parquet(tmp_path, "orders", ORDERS, [("e10", t, 1.0), ("e1", t, 1.0)])
    project = project_of(SOURCES + f"""\
indicators:
  score: {{source: members, column: score}}
labels:
  - {{id: score_tier, type: string, method: distribution, indicator: score, tiers: {TIERS}}}
  - {{id: score_quartile, type: string, method: distribution, indicator: score, tiers: {QUARTILES}}}
""")
    expected = expected_frame(spark, [("member_id", STRING), ("score_tier", STRING), ("score_quartile", STRING)], BY_HAND)
    assert_rows(snapshot_of(project), expected)


# -- import -------------------------------------------------------------------------------


def test_import_labels_join_a_file_on_the_entity_key(spark, tmp_path, project_of, snapshot_of):
    t = local("2026-03-20 10:00:00")
    write_parquet(tmp_path, "members", MEMBERS, [("m1", t, "A"), ("m2", t, "B"), ("m3", t, "C")])
    write_parquet(tmp_path, "orders", ORDERS, [("m1", t, 1.0)])
    (tmp_path / "data" / "vip.csv").write_text(
        "member_id,is_vip,points\n"
        "m1,true,120\n"
        "m2,false,\n"
        "x9,true,5\n",  # x9 is no entity: ignored
        encoding="utf-8",
    )
    project = project_of(SOURCES + """\
indicators:
  spend: {source: orders, agg: sum, of: amount}
labels:
  - {id: vip, type: boolean, method: import, path: data/vip.csv, key: member_id, value: is_vip}
  - {id: points, type: number, method: import, path: data/vip.csv, key: member_id, value: points}
""")
    # m3 has no row in the file: null
    expected = expected_frame(
        spark,
        [("member_id", STRING), ("vip", BOOLEAN), ("points", DOUBLE)],
        [("m1", True, 120.0), ("m2", False, None), ("m3", None, None)],
    )
    assert_rows(snapshot_of(project), expected)


# -- the snapshot frame -------------------------------------------------------------------


def test_snapshot_has_every_enabled_label_in_config_order_with_its_type(spark, tmp_path, project_of, snapshot_of):
    day = pa.schema([("member_id", pa.string()), ("ordered_at", TS), ("amount", pa.float64()), ("order_day", pa.date32())])
    t = local("2026-03-20 10:00:00")
    write_parquet(tmp_path, "orders", day, [("m1", t, 150.0, dt.date(2026, 3, 20)), ("m2", t, 20.0, dt.date(2026, 3, 19))])
    write_parquet(tmp_path, "members", MEMBERS, [("m3", t, "Wuhan")])
    project = project_of(SOURCES + """\
indicators:
  spend: {source: orders, agg: sum, of: amount}
  last_order_day: {source: orders, agg: max, of: order_day}
  city: {source: members, column: city}
labels:
  - id: spend_band
    type: string
    method: rules
    values: [{value: big, when: {field: spend, op: gte, value: 100}}]
  - {id: spend, type: number, method: metric, indicator: spend}
  - {id: old_city, type: string, method: metric, indicator: city, status: disabled}
  - id: big_spender
    type: boolean
    method: rules
    values: [{value: true, when: {field: spend, op: gte, value: 100}}, {value: false, when: {field: spend, op: lt, value: 100}}]
  - {id: last_order_day, type: date, method: metric, indicator: last_order_day}
  - id: tags
    type: list
    method: rules
    multi: true
    values: [{value: buyer, when: {field: spend, op: gt, value: 0}}, {value: local, when: {field: city, op: not_null}}]
""")
    expected = expected_frame(
        spark,
        [
            ("member_id", STRING),
            ("spend_band", STRING),
            ("spend", DOUBLE),
            ("big_spender", BOOLEAN),
            ("last_order_day", DATE),
            ("tags", LIST),
        ],
        [
            ("m1", "big", 150.0, True, dt.date(2026, 3, 20), ["buyer"]),
            ("m2", None, 20.0, False, dt.date(2026, 3, 19), ["buyer"]),
            ("m3", None, None, None, None, ["local"]),
        ],
    )
    actual = snapshot_of(project)
    assert actual.columns == expected.columns  # config order; the disabled label absent
    assert_rows(actual, expected)


def test_a_rule_that_does_not_fit_the_kind_read_from_the_data_is_a_config_error(spark, tmp_path, project_of, snapshot_of):
    coded = pa.schema([("member_id", pa.string()), ("updated_at", TS), ("code", pa.int64()), ("city", pa.string())])
    write_parquet(tmp_path, "members", coded, [("m1", local("2026-03-20 10:00:00"), 7, "Wuhan")])
    write_parquet(tmp_path, "orders", ORDERS, [("m1", local("2026-03-20 10:00:00"), 1.0)])
    # no `type:` on the indicators: their kinds are known only once the data is read
    project = project_of(SOURCES + """\
indicators:
  code: {source: members, column: code}
  city: {source: members, column: city}
labels:
  - id: lucky
    type: string
    method: rules
    values:
      - {value: lucky, when: {field: code, op: contains, value: "7"}}
  - {id: home, type: date, method: metric, indicator: city}
""")
    with pytest.raises(ConfigError) as raised:
        snapshot_of(project)
    problems = {problem.path: problem for problem in raised.value.problems}
    assert set(problems) == {"labels[0].values[0].when", "labels[1].indicator"}
    contains = problems["labels[0].values[0].when"]
    assert "contains" in contains.message and "number" in contains.message
    lines = project.file.read_text(encoding="utf-8").splitlines()
    assert "op: contains" in lines[contains.line - 1]  # located on its line of the file
    assert "string" in problems["labels[1].indicator"].message
    text = str(raised.value)
    assert str(project.file) in text
    assert "labels[0].values[0].when" in text and "labels[1].indicator" in text
