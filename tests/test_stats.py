"""label_stats: one row per label and value (bucket, list element; null its own row).

The portable tests run `label_stats` on a hand-made snapshot of six members and compare
with rows written out by hand below. `proportion` is users over all six members (list
elements too: over members, not elements); `rank` orders by users descending, then value
ascending, the null row after the values it ties with.

The Sail test runs the demo and checks `label_stats` against counts DuckDB computes
independently from the snapshot that delta-rs reads back (buckets written as a SQL CASE).
"""
from __future__ import annotations

import datetime as dt
import math
import textwrap

import duckdb
import pytest
from chispa import assert_column_equality, assert_df_equality
from deltalake import DeltaTable
from pyspark.sql import functions as F
from pyspark.sql import types as T

from labelspark.config import load_project
from labelspark.cli.demo import write_demo
from labelspark.compute.run import run
from labelspark.compute.derived.stats import label_stats
from labelspark.udfs import as_text, bucket_name
from labelspark.warehouse.deltars import read_rows

D = dt.date(2026, 3, 31)
STRING, DOUBLE, BOOLEAN, DATE, LIST = T.StringType(), T.DoubleType(), T.BooleanType(), T.DateType(), T.ArrayType(T.StringType())

CONFIG = """\
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
  score:  {source: members, column: score}
  visits: {source: members, column: visits}
  tags:   {source: members, column: tags}
labels:
  - {id: city,   type: string,  method: metric, indicator: city}
  - {id: vip,    type: boolean, method: metric, indicator: vip}
  - {id: joined, type: date,    method: metric, indicator: joined}
  - {id: spend,  type: number,  method: metric, indicator: spend, buckets: [0, 100, 1000]}
  - {id: score,  type: number,  method: metric, indicator: score, buckets: [-2.5, 0.5, 10]}
  - {id: visits, type: number,  method: metric, indicator: visits}
  - {id: tags,   type: list,    method: metric, indicator: tags}
outputs: {warehouse: warehouse}
"""

SNAPSHOT_SCHEMA = T.StructType(
    [
        T.StructField("member_id", STRING, False),
        T.StructField("city", STRING, True),
        T.StructField("vip", BOOLEAN, True),
        T.StructField("joined", DATE, True),
        T.StructField("spend", DOUBLE, True),
        T.StructField("score", DOUBLE, True),
        T.StructField("visits", DOUBLE, True),
        T.StructField("tags", LIST, True),
    ]
)

MAR_1, MAR_2, MAR_3 = dt.date(2026, 3, 1), dt.date(2026, 3, 2), dt.date(2026, 3, 3)
# member     city        vip    joined   spend   score    visits  tags
SNAPSHOT = [
    ("m1", "Shanghai", True,  MAR_1, -5.0,    -2.5,    3.0,     ["a", "b"]),
    ("m2", "Beijing",  True,  MAR_1, 0.0,     0.5,     2.5,     ["b", "c"]),
    ("m3", "Shanghai", False, MAR_2, 100.0,   -3.0,    1.0e7,   ["b"]),
    ("m4", None,       None,  None,  1000.0,  10.0,    None,    None),
    ("m5", "Beijing",  True,  MAR_2, 99.5,    9.99,    1.0e7,   ["c", "a"]),
    ("m6", "Wuhan",    False, MAR_3, None,    0.4999,  0.25,    ["d"]),
]

STATS_SCHEMA = T.StructType(
    [
        T.StructField("label_id", STRING),
        T.StructField("value", STRING),
        T.StructField("users", T.LongType()),
        T.StructField("proportion", DOUBLE),
        T.StructField("rank", T.IntegerType()),
        T.StructField("snapshot_date", DATE),
    ]
)

# (label_id, value, users, rank); proportion = users / 6
EXPECTED = {
    "city": [
        ("Beijing", 2, 1),
        ("Shanghai", 2, 2),  # tie: by value
        ("Wuhan", 1, 3),
        (None, 1, 4),  # null: a row of its own, after the value it ties with
    ],
    "vip": [("true", 3, 1), ("false", 2, 2), (None, 1, 3)],
    "joined": [("2026-03-01", 2, 1), ("2026-03-02", 2, 2), ("2026-03-03", 1, 3), (None, 1, 4)],
    "spend": [  # -5 below the first edge; 0, 100 and 1000 exactly on edges
        ("[0,100)", 2, 1),  # 0.0 and 99.5
        ("(-inf,0)", 1, 2),
        ("[100,1000)", 1, 3),
        ("[1000,+inf)", 1, 4),
        (None, 1, 5),
    ],
    "score": [  # fractional edges; no null score, so no null row
        ("[-2.5,0.5)", 2, 1),  # -2.5 (on the edge) and 0.4999
        ("[0.5,10)", 2, 2),  # 0.5 (on the edge) and 9.99
        ("(-inf,-2.5)", 1, 3),
        ("[10,+inf)", 1, 4),
    ],
    "visits": [  # whole numbers without a fraction, 1e7 not in exponent form
        ("10000000", 2, 1),
        ("0.25", 1, 2),
        ("2.5", 1, 3),
        ("3", 1, 4),
        (None, 1, 5),
    ],
    "tags": [  # elements counted per member, proportion over the six members
        ("b", 3, 1),
        ("a", 2, 2),
        ("c", 2, 3),
        ("d", 1, 4),
        (None, 1, 5),  # m4's null list
    ],
}


def expected_rows(label_ids):
    return [
        (label_id, value, users, users / 6, rank, D)
        for label_id in label_ids
        for value, users, rank in EXPECTED[label_id]
    ]


@pytest.fixture
def project(write_config):
    return load_project(write_config(CONFIG))


@pytest.fixture
def snapshot(spark):
    return spark.createDataFrame(SNAPSHOT, SNAPSHOT_SCHEMA)


@pytest.mark.portable
def test_label_stats_rows_by_hand(spark, project, snapshot):
    actual = label_stats(snapshot, project, list(project.enabled_labels), D)
    expected = spark.createDataFrame(expected_rows(EXPECTED), STATS_SCHEMA)
    assert_df_equality(actual, expected, ignore_row_order=True, ignore_nullable=True)


@pytest.mark.portable
@pytest.mark.parametrize("label_id", list(EXPECTED))
def test_label_stats_of_one_label(spark, project, snapshot, label_id):
    """Each label on its own gives the same rows as in the one pass over all labels."""
    rows = label_stats(snapshot, project, [project.label(label_id)], D).collect()
    actual = sorted((tuple(row) for row in rows), key=lambda row: row[4])
    assert actual == expected_rows([label_id])


@pytest.mark.portable
def test_only_the_given_labels_are_counted(project, snapshot):
    labels = [project.label("vip"), project.label("tags")]
    rows = label_stats(snapshot, project, labels, D).collect()
    assert {row["label_id"] for row in rows} == {"vip", "tags"}
    assert len(rows) == len(EXPECTED["vip"]) + len(EXPECTED["tags"])


@pytest.mark.portable
def test_proportions_of_a_scalar_label_sum_to_one_and_of_a_list_do_not(project, snapshot):
    rows = label_stats(snapshot, project, list(project.enabled_labels), D).collect()
    total = {}
    for row in rows:
        total[row["label_id"]] = total.get(row["label_id"], 0.0) + row["proportion"]
    for label_id in ("city", "vip", "joined", "spend", "score", "visits"):
        assert math.isclose(total[label_id], 1.0), label_id
    # elements: a 2, b 3, c 2, d 1, null list 1 = 9 over 6 members
    assert math.isclose(total["tags"], 9 / 6)


@pytest.mark.portable
def test_a_member_holding_an_element_twice_is_one_user(spark, project):
    """A list label filled from a source's array column keeps repeats (`['a', 'a']`);
    `users` counts members, so `a` has 2 users of 3 members, not 3 (a proportion of 1.0)."""
    rows = [("m1", ["a", "a"]), ("m2", ["a"]), ("m3", None)]
    snapshot = spark.createDataFrame(
        [(member, None, None, None, None, None, None, tags) for member, tags in rows], SNAPSHOT_SCHEMA
    )
    actual = sorted((tuple(row) for row in label_stats(snapshot, project, [project.label("tags")], D).collect()), key=lambda row: row[4])
    assert actual == [("tags", "a", 2, 2 / 3, 1, D), ("tags", None, 1, 1 / 3, 2, D)]


@pytest.mark.portable
def test_fractional_numbers_have_one_text_form_on_every_engine(spark, project):
    """`as_text` promises a stable string form; a fraction of 1e7 or more is plain decimal
    here as on Sail, as whole numbers are (`10000000`), not Spark's `1.23456785E7`."""
    rows = [("m1", 12345678.5), ("m2", -98765432.25)]
    snapshot = spark.createDataFrame(
        [(member, None, None, None, None, None, visits, None) for member, visits in rows], SNAPSHOT_SCHEMA
    )
    values = {row["value"] for row in label_stats(snapshot, project, [project.label("visits")], D).collect()}
    assert values == {"12345678.5", "-98765432.25"}


@pytest.mark.portable
def test_stats_of_an_empty_snapshot_have_no_rows(spark, project):
    empty = spark.createDataFrame([], SNAPSHOT_SCHEMA)
    assert label_stats(empty, project, list(project.enabled_labels), D).collect() == []


BUCKET_CASES = [
    # edges [0, 100, 1000]
    (-0.01, "(-inf,0)"),
    (-1e9, "(-inf,0)"),
    (0.0, "[0,100)"),
    (99.999, "[0,100)"),
    (100.0, "[100,1000)"),
    (999.5, "[100,1000)"),
    (1000.0, "[1000,+inf)"),
    (1e12, "[1000,+inf)"),
    (None, None),
]


@pytest.mark.portable
def test_bucket_name_on_and_between_edges(spark):
    schema = T.StructType([T.StructField("x", DOUBLE), T.StructField("expected", STRING)])
    df = spark.createDataFrame(BUCKET_CASES, schema).withColumn("bucket", bucket_name(F.col("x"), [0, 100, 1000]))
    assert_column_equality(df, "bucket", "expected")


@pytest.mark.portable
def test_bucket_name_of_fractional_and_single_edges(spark):
    schema = T.StructType([T.StructField("x", DOUBLE), T.StructField("fractional", STRING), T.StructField("single", STRING)])
    rows = [
        (-3.0, "(-inf,-2.5)", "(-inf,5)"),
        (-2.5, "[-2.5,0.5)", "(-inf,5)"),
        (0.5, "[0.5,10)", "(-inf,5)"),
        (5.0, "[0.5,10)", "[5,+inf)"),
        (10.0, "[10,+inf)", "[5,+inf)"),
        (None, None, None),
    ]
    df = (
        spark.createDataFrame(rows, schema)
        .withColumn("fractional_bucket", bucket_name(F.col("x"), [-2.5, 0.5, 10.0]))
        .withColumn("single_bucket", bucket_name(F.col("x"), [5]))
    )
    assert_column_equality(df, "fractional_bucket", "fractional")
    assert_column_equality(df, "single_bucket", "single")


@pytest.mark.portable
def test_as_text_of_numbers(spark):
    schema = T.StructType([T.StructField("x", DOUBLE), T.StructField("expected", STRING)])
    rows = [(3.0, "3"), (-7.0, "-7"), (0.0, "0"), (2.5, "2.5"), (0.25, "0.25"), (1.0e7, "10000000"), (None, None)]
    df = spark.createDataFrame(rows, schema).withColumn("text", as_text(F.col("x"), "number"))
    assert_column_equality(df, "text", "expected")


@pytest.mark.portable
def test_as_text_of_booleans_dates_and_lists(spark):
    schema = T.StructType(
        [
            T.StructField("flag", BOOLEAN),
            T.StructField("day", DATE),
            T.StructField("items", LIST),
            T.StructField("flag_text", STRING),
            T.StructField("day_text", STRING),
            T.StructField("items_text", STRING),
        ]
    )
    rows = [
        (True, MAR_1, ["b", "a"], "true", "2026-03-01", '["a","b"]'),
        (False, dt.date(2025, 12, 31), ["z"], "false", "2025-12-31", '["z"]'),
        (None, None, None, None, None, None),
    ]
    df = (
        spark.createDataFrame(rows, schema)
        .withColumn("flag_as", as_text(F.col("flag"), "boolean"))
        .withColumn("day_as", as_text(F.col("day"), "date"))
        .withColumn("items_as", as_text(F.col("items"), "list"))
    )
    assert_column_equality(df, "flag_as", "flag_text")
    assert_column_equality(df, "day_as", "day_text")
    assert_column_equality(df, "items_as", "items_text")


# -- Sail end to end: the demo's label_stats against DuckDB -----------------------------------

DEMO_DATE = dt.date(2026, 3, 31)

# one query per label: (value, users) of the snapshot `snap`, nulls as their own row
ORACLE = {
    "age_band": "SELECT age_band AS value, count(*) AS users FROM snap GROUP BY age_band",
    "spend_tier": "SELECT spend_tier AS value, count(*) AS users FROM snap GROUP BY spend_tier",
    "vip_list": """
        SELECT CASE WHEN vip_list IS NULL THEN NULL WHEN vip_list THEN 'true' ELSE 'false' END AS value, count(*) AS users
        FROM snap GROUP BY 1""",
    "spend_90d": """
        SELECT CASE WHEN spend_90d IS NULL THEN NULL
                    WHEN spend_90d < 0 THEN '(-inf,0)'
                    WHEN spend_90d < 100 THEN '[0,100)'
                    WHEN spend_90d < 1000 THEN '[100,1000)'
                    ELSE '[1000,+inf)' END AS value,
               count(*) AS users
        FROM snap GROUP BY 1""",
    "interests": """
        SELECT value, count(*) AS users FROM (SELECT unnest(interests) AS value FROM snap) GROUP BY value
        UNION ALL
        SELECT NULL AS value, count(*) AS users FROM snap WHERE interests IS NULL HAVING count(*) > 0""",
}


def delta_rows(path: str, day: dt.date) -> list[dict]:
    rows = read_rows(path).to_pylist()
    return [row for row in rows if row["snapshot_date"] == day]


def stats_rows(project, day: dt.date = DEMO_DATE) -> list[tuple]:
    rows = delta_rows(f"{project.warehouse}/label_stats", day)
    return sorted(
        ((r["label_id"], r["value"], r["users"], r["proportion"], r["rank"]) for r in rows),
        key=lambda row: (row[0], row[4]),
    )


@pytest.fixture(scope="module")
def demo_project(spark, tmp_path_factory):
    project = load_project(write_demo(tmp_path_factory.mktemp("stats") / "demo"))
    run(spark, project, DEMO_DATE)
    return project


@pytest.fixture(scope="module")
def demo_oracle(demo_project):
    """label id -> {value: (users, rank)} by DuckDB over the snapshot delta-rs reads."""
    snap = read_rows(f"{demo_project.warehouse}/label_snapshot")
    con = duckdb.connect()
    con.register("snap_all", snap)
    con.execute("CREATE VIEW snap AS SELECT * FROM snap_all WHERE snapshot_date = DATE '2026-03-31'")
    entities = con.execute("SELECT count(*) FROM snap").fetchone()[0]
    empty_lists = con.execute("SELECT count(*) FROM snap WHERE len(interests) = 0").fetchone()[0]
    oracle = {}
    for label_id, query in ORACLE.items():
        ranked = f"""
            SELECT value, users, row_number() OVER (ORDER BY users DESC, value ASC NULLS LAST) AS rank
            FROM ({textwrap.dedent(query)})"""
        oracle[label_id] = {value: (users, rank) for value, users, rank in con.execute(ranked).fetchall()}
    return entities, empty_lists, oracle


def test_demo_label_stats_match_duckdb(demo_project, demo_oracle):
    entities, empty_lists, oracle = demo_oracle
    assert entities == 500
    assert empty_lists == 0  # a multi label with no match is null, never []
    rows = stats_rows(demo_project)
    for label_id, expected in oracle.items():
        actual = {value: (users, rank) for lid, value, users, _, rank in rows if lid == label_id}
        assert actual == expected, label_id
        for lid, value, users, proportion, _ in rows:
            if lid == label_id:
                assert math.isclose(proportion, users / entities), (label_id, value)
    # the labels have the values this check is meant to cover
    assert {"minor", "adult", "senior"} <= set(oracle["age_band"])
    assert {"low", "mid", "high", None} <= set(oracle["spend_tier"])
    assert {"true", "false", None} <= set(oracle["vip_list"])
    assert {"[100,1000)", "[1000,+inf)", None} <= set(oracle["spend_90d"])
    assert {"fashion", "beauty", "family", None} <= set(oracle["interests"])


def test_demo_label_stats_cover_every_label_with_scalar_proportions_summing_to_one(demo_project):
    rows = stats_rows(demo_project)
    labels = {label.id: label for label in demo_project.enabled_labels}
    assert {row[0] for row in rows} == set(labels)
    table = DeltaTable(f"{demo_project.warehouse}/label_stats")
    assert table.metadata().partition_columns == ["snapshot_date"]
    for label_id, label in labels.items():
        proportions = [row[3] for row in rows if row[0] == label_id]
        ranks = [row[4] for row in rows if row[0] == label_id]
        assert ranks == list(range(1, len(ranks) + 1)), label_id
        if label.type != "list":
            assert math.isclose(sum(proportions), 1.0), label_id


def test_rerunning_the_date_leaves_the_same_label_stats(spark, demo_project):
    before = stats_rows(demo_project)
    run(spark, demo_project, DEMO_DATE)
    after = stats_rows(demo_project)
    assert after == before
    all_rows = read_rows(f"{demo_project.warehouse}/label_stats").to_pylist()
    assert len(all_rows) == len(before)  # one date, no duplicate rows
