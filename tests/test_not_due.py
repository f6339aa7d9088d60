"""A label that is not due on a day, while new entities arrive: the daily case of every
weekly or monthly label (issue 14).

On its due day a `count` indicator is never null, and an engine may mark the column NOT NULL
when it creates `label_snapshot`; the next day the label is carried over, new entities have
no value for it, and their null must still be written. Tables are read with delta-rs.
"""
from __future__ import annotations

import datetime as dt
import textwrap
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
from deltalake import DeltaTable, write_deltalake

from labelspark.config import load_project
from labelspark.compute.run import run
from labelspark.warehouse.deltars import read_rows

MONDAY, TUESDAY, WEDNESDAY = dt.date(2026, 3, 2), dt.date(2026, 3, 3), dt.date(2026, 3, 4)

CONFIG = """\
version: 1
name: weekly
timezone: UTC
entity: {key: member_id}
sources:
  orders: {format: parquet, path: data/orders, key: member_id, time: order_time}
indicators:
  orders_30d: {source: orders, agg: count, window: 30d}
labels:
  - {id: monday_orders_30d, type: number, method: metric, indicator: orders_30d, schedule: "weekly:MON"}
  - {id: orders_today, type: number, method: metric, indicator: orders_30d}
outputs: {warehouse: warehouse}
"""


def at(day: dt.date, hour: int) -> dt.datetime:
    return dt.datetime.combine(day, dt.time(hour), tzinfo=dt.timezone.utc)


def project_with_orders(root: Path):
    """m1 and m2 order on Monday; m3 first orders on Tuesday, m4 on Wednesday."""
    (root / "data" / "orders").mkdir(parents=True)
    orders = [("m1", at(MONDAY, 9)), ("m2", at(MONDAY, 10)), ("m1", at(MONDAY, 11)), ("m3", at(TUESDAY, 9)), ("m4", at(WEDNESDAY, 9))]
    pq.write_table(
        pa.table({
            "member_id": pa.array([o[0] for o in orders], pa.string()),
            "order_time": pa.array([o[1] for o in orders], pa.timestamp("us", tz="UTC")),
        }),
        root / "data" / "orders" / "part-0.parquet",
    )
    (root / "labelspark.yaml").write_text(textwrap.dedent(CONFIG), encoding="utf-8")
    return load_project(root / "labelspark.yaml")


def snapshot_of(root: Path, day: dt.date) -> dict[str, tuple]:
    rows = read_rows(str(root / "warehouse" / "label_snapshot")).to_pylist()
    return {r["member_id"]: (r["monday_orders_30d"], r["orders_today"]) for r in rows if r["snapshot_date"] == day}


def not_null_columns(path: Path) -> list[str]:
    return [f.name for f in DeltaTable(str(path)).schema().to_arrow() if not f.nullable]


def test_a_weekly_count_label_is_carried_over_to_entities_that_arrive_later(spark, tmp_path):
    project = project_with_orders(tmp_path)
    run(spark, project, MONDAY, publish=False)
    run(spark, project, TUESDAY, publish=False)
    run(spark, project, WEDNESDAY, publish=False)

    assert snapshot_of(tmp_path, MONDAY) == {"m1": (2.0, 2.0), "m2": (1.0, 1.0)}
    assert snapshot_of(tmp_path, TUESDAY) == {"m1": (2.0, 2.0), "m2": (1.0, 1.0), "m3": (None, 1.0)}
    assert snapshot_of(tmp_path, WEDNESDAY) == {"m1": (2.0, 2.0), "m2": (1.0, 1.0), "m3": (None, 1.0), "m4": (None, 1.0)}


def test_every_column_the_contract_allows_to_be_null_is_nullable_from_the_first_write(spark, tmp_path):
    project = project_with_orders(tmp_path)
    run(spark, project, MONDAY, publish=False)

    warehouse = tmp_path / "warehouse"
    assert not_null_columns(warehouse / "label_snapshot") in ([], ["snapshot_date"])
    for table in ("label_stats", "label_history", "label_catalog", "label_runs"):
        never_null = {"label_id", "snapshot_date", "users", "proportion", "rank", "member_id", "valid_from", "is_current",
                      "run_id", "status", "started_at", "definition", "definition_hash", "type", "method"}
        assert set(not_null_columns(warehouse / table)) <= never_null, table


def test_a_warehouse_written_with_not_null_label_columns_is_repaired_by_the_next_run(spark, tmp_path):
    """The state the earlier code left: label columns NOT NULL in label_snapshot's schema."""
    project = project_with_orders(tmp_path)
    snapshot = tmp_path / "warehouse" / "label_snapshot"
    schema = pa.schema([
        pa.field("member_id", pa.string()),
        pa.field("snapshot_date", pa.date32(), nullable=False),
        pa.field("monday_orders_30d", pa.float64(), nullable=False),
        pa.field("orders_today", pa.float64(), nullable=False),
    ])
    old = pa.table({"member_id": ["m1", "m2"], "snapshot_date": [MONDAY, MONDAY],
                    "monday_orders_30d": [2.0, 1.0], "orders_today": [2.0, 1.0]}, schema=schema)
    write_deltalake(str(snapshot), old, partition_by=["snapshot_date"])
    assert "monday_orders_30d" in not_null_columns(snapshot)

    run(spark, project, TUESDAY, publish=False)

    assert not_null_columns(snapshot) in ([], ["snapshot_date"])
    assert snapshot_of(tmp_path, MONDAY) == {"m1": (2.0, 2.0), "m2": (1.0, 1.0)}
    assert snapshot_of(tmp_path, TUESDAY) == {"m1": (2.0, 2.0), "m2": (1.0, 1.0), "m3": (None, 1.0)}
