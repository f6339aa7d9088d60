"""Exact sums: the same inputs give the same bits, whatever the partitioning (contract,
"Idempotent and exact"). The oracle is the contract's definition, in Python's exact arithmetic:
each double to 6 places (half up), the rounded values summed exactly, the nearest double of the
total (a mean: that double over the count). The amounts are the worst case for a double sum:
thousands of rows per entity with 12 significant digits, whose floating-point sum changes with
the order of addition."""
from __future__ import annotations

import datetime as dt
import math
import random
from decimal import ROUND_HALF_UP, Decimal
from fractions import Fraction

import pyarrow as pa
import pytest
from pyspark.sql import functions as F

from labelspark.config import load_project
from labelspark.compute.run import run
from labelspark.udfs import fixed_point_parts, mean_of, sum_of_parts
from labelspark.warehouse.deltars import read_rows
from tests.support.projects import table_contents, write_parquet

D = dt.date(2026, 3, 31)
PARTITIONS = (1, 7, 200)
CONFIG = """\
version: 1
name: exact
timezone: UTC
entity: {key: member_id}
sources:
  orders: {format: parquet, path: data/orders, key: member_id}
outputs: {warehouse: warehouse}
indicators:
  spend: {source: orders, agg: sum, of: amount}
  mean_spend: {source: orders, agg: avg, of: amount}
  big_spend: {source: orders, agg: sum, of: amount, where: {field: amount, op: gte, value: 100}}
labels:
  - {id: spend, type: number, method: metric, indicator: spend, buckets: [0, 1000, 10000]}
  - {id: mean_spend, type: number, method: metric, indicator: mean_spend}
  - {id: big_spend, type: number, method: metric, indicator: big_spend}
  - {id: spend_tier, type: string, method: distribution, indicator: spend, tiers: {low: 0.5, mid: 0.9, high: 1.0}}
"""


def amounts(seed: int = 3) -> list[tuple[str, float]]:
    rng = random.Random(seed)
    rows = [(f"m{m:03d}", rng.uniform(0, 300) * 10 ** rng.randint(-3, 3)) for m in range(60) for _ in range(rng.randint(1, 400))]
    rng.shuffle(rows)
    return rows


def to_six_places(value: float) -> Fraction:
    return Fraction(Decimal(value).quantize(Decimal("0.000001"), rounding=ROUND_HALF_UP))


def contract_sums(rows: list[tuple[str, float]]) -> dict[str, tuple[float, float]]:
    """(sum, mean) per member by the contract's definition."""
    totals: dict[str, list[Fraction]] = {}
    for member, amount in rows:
        totals.setdefault(member, []).append(to_six_places(amount))
    return {member: (float(sum(parts)), float(sum(parts)) / len(parts)) for member, parts in totals.items()}


@pytest.mark.portable
@pytest.mark.parametrize("partitions", PARTITIONS)
def test_sums_and_means_of_doubles_are_the_contracts_whatever_the_partitioning(spark, partitions):
    rows = amounts()
    frame = spark.createDataFrame(rows, "member_id string, amount double").repartition(partitions)
    high, low = fixed_point_parts(F.col("amount"), "orders", "amount")
    total = sum_of_parts(F.col("high"), F.col("low"))
    exact = frame.withColumns({"high": high, "low": low}).groupBy("member_id").agg(
        total.alias("spend"), mean_of(total, F.count("amount")).alias("mean"))
    got = {row.member_id: (row.spend, row.mean) for row in exact.collect()}
    assert got == contract_sums(rows)


@pytest.mark.portable
def test_a_plain_double_sum_of_these_rows_depends_on_their_order():
    """The test data is able to tell: summed in another order, the floating-point totals differ."""
    rows = amounts()
    by_member: dict[str, list[float]] = {}
    for member, amount in rows:
        by_member.setdefault(member, []).append(amount)
    assert any(sum(values) != sum(sorted(values)) for values in by_member.values())


@pytest.fixture(scope="module")
def orders_project(tmp_path_factory):
    """Writes the project once per partition count (one warehouse each, the same files)."""
    rows = amounts()
    schema = pa.schema([("member_id", pa.string()), ("amount", pa.float64())])

    def make(partitions: int):
        root = tmp_path_factory.mktemp(f"exact_{partitions}")
        write_parquet(root, "orders", schema, rows)
        (root / "labelspark.yaml").write_text(CONFIG, encoding="utf-8")
        return load_project(root / "labelspark.yaml")

    return make


def run_with_partitions(spark, project, day: dt.date, partitions: int) -> None:
    before = spark.conf.get("spark.sql.shuffle.partitions")
    spark.conf.set("spark.sql.shuffle.partitions", str(partitions))
    try:
        run(spark, project, day, publish=False, allow_stale_sources=True)
    finally:
        spark.conf.set("spark.sql.shuffle.partitions", before)


def test_warehouses_built_on_different_partitionings_are_equal_bit_for_bit(spark, orders_project):
    contents = []
    for partitions in PARTITIONS:
        project = orders_project(partitions)
        run_with_partitions(spark, project, D, partitions)
        contents.append({path.rsplit("/", 1)[-1]: rows for path, rows in table_contents(project).items()})
        snapshot = read_rows(project.warehouse + "/label_snapshot").to_pylist()
        assert {row["member_id"]: (row["spend"], row["mean_spend"]) for row in snapshot} == contract_sums(amounts())
    assert contents[0] == contents[1] == contents[2]


def test_rerunning_a_date_and_ten_unchanged_days_change_no_row(spark, orders_project):
    """A re-run on another partitioning leaves every table's rows as they were; nine more days
    on which no source row changed (each on another partitioning) open no history version."""
    project = orders_project(3)
    run_with_partitions(spark, project, D, 3)
    first = table_contents(project)
    run_with_partitions(spark, project, D, 11)
    assert table_contents(project) == first
    for offset in range(1, 10):
        run_with_partitions(spark, project, D + dt.timedelta(days=offset), PARTITIONS[offset % 3])
    history = read_rows(project.warehouse + "/label_history").to_pylist()
    versions = {(row["member_id"], row["label_id"]) for row in history}
    assert len(history) == len(versions) == 60 * 4
    assert {(row["valid_from"], row["valid_to"]) for row in history} == {(D, None)}
    assert math.isfinite(sum(row["spend"] for row in read_rows(project.warehouse + "/label_snapshot").to_pylist()))
