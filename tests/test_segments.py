"""segment_members: the entities each segment's rule selects over the label columns of a date.

The portable tests run `segment_members` on a hand-made snapshot of six members with
segments over string, number, boolean, date and list labels, and compare with members
picked out by hand below. A comparison with a null label is false; `not` of it is true.

The Sail tests run the demo and check `young_big_spenders` against the same filter
written in DuckDB over the snapshot that delta-rs reads back.
"""
from __future__ import annotations

import datetime as dt

import duckdb
import pytest
from chispa import assert_df_equality
from deltalake import DeltaTable
from pyspark.sql import types as T

from labelspark.config import load_project
from labelspark.cli.demo import write_demo
from labelspark.compute.run import run
from labelspark.compute.derived.segments import segment_members
from labelspark.warehouse.deltars import read_rows

D = dt.date(2026, 3, 31)  # within_last 30d = 2026-03-02 .. 2026-03-31
STRING, DOUBLE, BOOLEAN, DATE, LIST = T.StringType(), T.DoubleType(), T.BooleanType(), T.DateType(), T.ArrayType(T.StringType())

HEADER = """\
version: 1
name: shop
timezone: UTC
entity: {key: member_id}
sources:
  members: {format: parquet, path: data/members, key: member_id}
indicators:
  city:   {source: members, column: city}
  vip:    {source: members, column: vip}
  joined: {source: members, column: joined}
  spend:  {source: members, column: spend}
  tags:   {source: members, column: tags}
labels:
  - {id: city,   type: string,  method: metric, indicator: city}
  - {id: vip,    type: boolean, method: metric, indicator: vip}
  - {id: joined, type: date,    method: metric, indicator: joined}
  - {id: spend,  type: number,  method: metric, indicator: spend}
  - {id: tags,   type: list,    method: metric, indicator: tags}
outputs: {warehouse: warehouse}
"""

SEGMENTS = """\
segments:
  - {id: shanghai_spenders, when: {all: [{label: city, op: eq, value: Shanghai}, {label: spend, op: gte, value: 0}]}}
  - {id: vip_or_d, when: {any: [{label: vip, op: eq, value: true}, {label: tags, op: contains, value: d}]}}
  - {id: outside_big_cities, when: {not: {label: city, op: in, value: [Shanghai, Beijing]}}}
  - {id: not_vip, when: {not: {label: vip, op: eq, value: true}}}
  - {id: early_ab, when: {all: [{label: joined, op: before, value: 2026-03-02}, {label: tags, op: has_all, value: [a, b]}]}}
  - {id: recent, when: {label: joined, op: within_last, value: 30d}}
  - {id: mid_spend, when: {label: spend, op: between, value: [0, 100]}}
  - id: cheap_or_plain_without_c
    when:
      all:
        - {any: [{label: spend, op: lt, value: 100}, {label: vip, op: eq, value: false}]}
        - {not: {label: tags, op: has_any, value: [c]}}
  - {id: unknown_spend, when: {label: spend, op: is_null}}
  - {id: nobody, when: {all: [{label: city, op: eq, value: Wuhan}, {label: vip, op: eq, value: true}]}}
  - id: wuhan_or_whale
    when: {"combinator": "or", "not": false, "rules": [{"field": "city", "operator": "=", "value": "Wuhan"},
                                                       {"field": "spend", "operator": ">=", "value": "1000"}]}
"""

SNAPSHOT_SCHEMA = T.StructType(
    [
        T.StructField("member_id", STRING, False),
        T.StructField("city", STRING, True),
        T.StructField("vip", BOOLEAN, True),
        T.StructField("joined", DATE, True),
        T.StructField("spend", DOUBLE, True),
        T.StructField("tags", LIST, True),
    ]
)

MAR_1, MAR_2, MAR_3 = dt.date(2026, 3, 1), dt.date(2026, 3, 2), dt.date(2026, 3, 3)
SNAPSHOT = [
    ("m1", "Shanghai", True,  MAR_1, -5.0,   ["a", "b"]),
    ("m2", "Beijing",  True,  MAR_1, 0.0,    ["b", "c"]),
    ("m3", "Shanghai", False, MAR_2, 100.0,  ["b"]),
    ("m4", None,       None,  None,  1000.0, None),
    ("m5", "Beijing",  True,  MAR_2, 99.5,   ["c", "a"]),
    ("m6", "Wuhan",    False, MAR_3, None,   ["d"]),
]

EXPECTED = {
    "shanghai_spenders": ["m3"],  # m1 is in Shanghai but spent -5
    "vip_or_d": ["m1", "m2", "m5", "m6"],
    "outside_big_cities": ["m4", "m6"],  # m4's null city: `in` is false, `not` of it true
    "not_vip": ["m3", "m4", "m6"],
    "early_ab": ["m1"],  # m2 joined early but has no `a`
    "recent": ["m3", "m5", "m6"],  # 2026-03-02 is the window's first day; 03-01 is out
    "mid_spend": ["m2", "m3", "m5"],  # both ends included
    "cheap_or_plain_without_c": ["m1", "m3", "m6"],  # m2, m5 hold c; m4 is neither cheap nor plain
    "unknown_spend": ["m6"],
    "nobody": [],
    "wuhan_or_whale": ["m4", "m6"],
}

MEMBERS_SCHEMA = T.StructType(
    [T.StructField("segment_id", STRING), T.StructField("member_id", STRING), T.StructField("snapshot_date", DATE)]
)


@pytest.fixture
def project(write_config):
    return load_project(write_config(HEADER + SEGMENTS))


@pytest.fixture
def snapshot(spark):
    return spark.createDataFrame(SNAPSHOT, SNAPSHOT_SCHEMA)


@pytest.mark.portable
def test_segment_members_by_hand(spark, project, snapshot):
    actual = segment_members(snapshot, project, D)
    rows = [(segment_id, member, D) for segment_id, members in EXPECTED.items() for member in members]
    expected = spark.createDataFrame(rows, MEMBERS_SCHEMA)
    assert_df_equality(actual, expected, ignore_row_order=True, ignore_nullable=True)


@pytest.mark.portable
def test_an_entity_in_several_segments_has_one_row_each(project, snapshot):
    rows = segment_members(snapshot, project, D).where("member_id = 'm6'").collect()
    assert sorted(row["segment_id"] for row in rows) == sorted(s for s, members in EXPECTED.items() if "m6" in members)


@pytest.mark.portable
def test_a_project_without_matches_gives_no_rows(write_config, snapshot):
    project = load_project(write_config(HEADER + "segments:\n  - {id: nobody, when: {label: city, op: eq, value: Paris}}\n"))
    assert segment_members(snapshot, project, D).collect() == []


@pytest.mark.portable
def test_relative_dates_follow_the_run_date(project, snapshot):
    """within_last 30d on 2026-04-01 covers 03-03 .. 04-01: only m6 joined then."""
    rows = segment_members(snapshot, project, dt.date(2026, 4, 1)).where("segment_id = 'recent'").collect()
    assert [(row["member_id"], row["snapshot_date"]) for row in rows] == [("m6", dt.date(2026, 4, 1))]


# -- Sail end to end: the demo's segment_members against DuckDB -------------------------------

TUESDAY, MONDAY = dt.date(2026, 3, 31), dt.date(2026, 3, 30)


def members_rows(project, day: dt.date) -> list[tuple]:
    rows = read_rows(f"{project.warehouse}/segment_members").to_pylist()
    return sorted((r["segment_id"], r["member_id"], r["snapshot_date"]) for r in rows if r["snapshot_date"] == day)


def oracle(project, day: dt.date) -> list[tuple]:
    """young_big_spenders by DuckDB over the snapshot of `day` as delta-rs reads it."""
    con = duckdb.connect()
    con.register("snap", read_rows(f"{project.warehouse}/label_snapshot"))
    rows = con.execute(
        "SELECT member_id FROM snap WHERE snapshot_date = ? AND age_band = 'adult' AND spend_90d >= 1000",
        [day],
    ).fetchall()
    return sorted(("young_big_spenders", member, day) for (member,) in rows)


@pytest.fixture(scope="module")
def demo_project(spark, tmp_path_factory):
    project = load_project(write_demo(tmp_path_factory.mktemp("segments") / "demo"))
    run(spark, project, TUESDAY)
    return project


def test_demo_segment_members_match_duckdb(demo_project):
    expected = oracle(demo_project, TUESDAY)
    assert len(expected) > 10  # the filter selects a real share of the 500 members
    assert members_rows(demo_project, TUESDAY) == expected
    path = f"{demo_project.warehouse}/segment_members"
    assert DeltaTable(path).metadata().partition_columns == ["snapshot_date"]
    assert len(read_rows(path)) == len(expected)  # no other rows, no duplicates


def test_rerunning_the_date_leaves_the_same_segment_members(spark, demo_project):
    before = members_rows(demo_project, TUESDAY)
    run(spark, demo_project, TUESDAY)
    assert members_rows(demo_project, TUESDAY) == before
    assert len(read_rows(f"{demo_project.warehouse}/segment_members")) == len(before)


def test_a_second_date_adds_its_own_partition(spark, tmp_path):
    project = load_project(write_demo(tmp_path / "demo"))
    run(spark, project, TUESDAY)
    tuesday = members_rows(project, TUESDAY)
    run(spark, project, MONDAY)
    monday = members_rows(project, MONDAY)
    assert monday == oracle(project, MONDAY) and monday
    assert members_rows(project, TUESDAY) == tuesday
    all_rows = read_rows(f"{project.warehouse}/segment_members").to_pylist()
    assert {row["snapshot_date"] for row in all_rows} == {MONDAY, TUESDAY}
    assert len(all_rows) == len(monday) + len(tuesday)
