"""label_history (SCD2), label_catalog and label_runs across runs over changing data, on Sail.

A small hand-made project: members (tier) and orders (amount, category), four labels
(a string rules label, a number metric, a list label, a boolean). The parquet files are
rewritten between runs; expected rows are written out by hand, and the tables are read back
with delta-rs (an independent reader).
"""
from __future__ import annotations

import datetime as dt
import json
import logging
import shutil
from collections import Counter
from dataclasses import dataclass
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from deltalake import DeltaTable

from labelspark.config import load_project
from labelspark.errors import SourceError
from labelspark.compute.run import rewind, run
from labelspark.warehouse.deltars import read_rows
from tests.conftest import ENGINE

D1, D2, D3 = dt.date(2026, 3, 2), dt.date(2026, 3, 3), dt.date(2026, 3, 4)
LABELS = ["level", "spend", "interests", "big_spender"]

CONFIG = """\
version: 1
name: history_test
timezone: UTC
entity:
  key: member_id
sources:
  members:
    format: parquet
    path: data/members
    key: member_id
  orders:
    format: parquet
    path: data/orders
    key: member_id
    time: order_time
indicators:
  tier:        {{source: members, column: tier}}
  spend_total: {{source: orders, agg: sum, of: amount}}
  categories:  {{source: orders, agg: collect_set, of: category}}
labels:
  - id: level
    name: Level
    type: string
    method: rules
    status: {status}
    values:
      - {{value: gold, when: {{field: tier, op: eq, value: G}}}}
      - {{value: basic, when: {{field: tier, op: eq, value: B}}}}
  - {{id: spend, name: Spend, type: number, method: metric, indicator: spend_total, status: {status}}}
  - id: interests
    name: Interests
    type: list
    method: rules
    multi: true
    status: {interests_status}
    values:
      - {{value: home, when: {{field: categories, op: contains, value: home}}}}
      - {{value: fashion, when: {{field: categories, op: has_any, value: [shoes, apparel]}}}}
  - id: big_spender
    name: Big spender
    type: boolean
    method: rules
    status: {status}
    values:
      - {{value: true, when: {{field: spend_total, op: gte, value: {threshold}}}}}
      - {{value: false, when: {{field: spend_total, op: lt, value: {threshold}}}}}
outputs:
  warehouse: warehouse
"""


def at(day: dt.date, hour: int) -> dt.datetime:
    return dt.datetime.combine(day, dt.time(hour), tzinfo=dt.timezone.utc)


# Data states. Members carry no time (the file is the current state); orders are time-stamped,
# each at or before the date of the state that introduces it.
MEMBERS_1 = [("m1", "G"), ("m2", "B"), ("m3", "G"), ("m4", "B")]
ORDERS_1 = [
    ("o1", "m1", at(D1, 9), 80.0, "shoes"),
    ("o2", "m1", at(D1, 10), 40.0, "home"),
    ("o3", "m2", at(D1, 11), 30.0, "apparel"),
    ("o4", "m3", at(D1, 12), 5.0, "kids"),
    ("o5", "m4", at(D1, 13), 50.0, "home"),
]
# D2: m2 moves up and buys more; m3 leaves (member row and its order deleted);
# m4's tier becomes null; m5 joins without orders.
MEMBERS_2 = [("m1", "G"), ("m2", "G"), ("m4", None), ("m5", "B")]
ORDERS_2 = [o for o in ORDERS_1 if o[1] != "m3"] + [("o6", "m2", at(D2, 9), 90.0, "shoes")]
# D3: m3 comes back (no orders); m4 and m5 order.
MEMBERS_3 = [("m1", "G"), ("m2", "G"), ("m3", "G"), ("m4", None), ("m5", "B")]
ORDERS_3 = ORDERS_2 + [("o7", "m4", at(D3, 9), 10.5, "kids"), ("o8", "m5", at(D3, 10), 200.0, "apparel")]
# Another D3: m1 turns basic and its shoes order is gone; m4's new order is gone; m5 spent 20.
MEMBERS_3B = [("m1", "B"), ("m2", "G"), ("m3", "G"), ("m4", None), ("m5", "B")]
ORDERS_3B = [o for o in ORDERS_2 if o[0] != "o1"] + [("o8", "m5", at(D3, 10), 20.0, "apparel")]


@dataclass
class Workspace:
    root: Path

    @property
    def config(self) -> Path:
        return self.root / "labelspark.yaml"

    @property
    def warehouse(self) -> Path:
        return self.root / "warehouse"

    def configure(self, interests_status: str = "enabled", threshold: int = 100, status: str = "enabled"):
        self.root.mkdir(parents=True, exist_ok=True)
        self.config.write_text(
            CONFIG.format(interests_status=interests_status, threshold=threshold, status=status), encoding="utf-8"
        )
        return load_project(self.config)

    def data(self, members: list[tuple], orders: list[tuple]) -> None:
        for table in ("members", "orders"):
            shutil.rmtree(self.root / "data" / table, ignore_errors=True)
            (self.root / "data" / table).mkdir(parents=True)
        pq.write_table(
            pa.table(
                {
                    "member_id": pa.array([m[0] for m in members], pa.string()),
                    "tier": pa.array([m[1] for m in members], pa.string()),
                }
            ),
            self.root / "data" / "members" / "part-0.parquet",
        )
        pq.write_table(
            pa.table(
                {
                    "order_id": pa.array([o[0] for o in orders], pa.string()),
                    "member_id": pa.array([o[1] for o in orders], pa.string()),
                    "order_time": pa.array([o[2] for o in orders], pa.timestamp("us", tz="UTC")),
                    "amount": pa.array([o[3] for o in orders], pa.float64()),
                    "category": pa.array([o[4] for o in orders], pa.string()),
                }
            ),
            self.root / "data" / "orders" / "part-0.parquet",
        )

    def rows(self, table: str) -> list[dict]:
        return read_rows(str(self.warehouse / table)).to_pylist()

    def columns(self, table: str) -> list[str]:
        return DeltaTable(str(self.warehouse / table)).schema().to_arrow().names

    def version(self, table: str) -> int:
        return DeltaTable(str(self.warehouse / table)).version()

    def history(self) -> list[tuple]:
        return sorted(
            (r["member_id"], r["label_id"], r["value"], r["valid_from"], r["valid_to"], r["is_current"])
            for r in self.rows("label_history")
        )

    def snapshot(self, day: dt.date | None = None) -> list[dict]:
        rows = [r for r in self.rows("label_snapshot") if day is None or r["snapshot_date"] == day]
        return sorted(rows, key=lambda r: (r["snapshot_date"], r["member_id"]))

    def catalog(self) -> list[tuple]:
        return sorted((r["label_id"], r["status"], r["valid_from"], r["valid_to"]) for r in self.rows("label_catalog"))

    def runs(self) -> list[dict]:
        return sorted(self.rows("label_runs"), key=lambda r: r["started_at"])


@pytest.fixture
def ws(tmp_path):
    return Workspace(tmp_path / "project")


def step(spark, ws: Workspace, day: dt.date, members, orders, **config):
    project = ws.configure(**config)
    ws.data(members, orders)
    return run(spark, project, day)


def assert_well_formed(history: list[tuple]) -> None:
    """At most one current version per entity x label; no zero-length or inverted versions."""
    current = Counter((member, label) for member, label, _, _, _, is_current in history if is_current)
    assert [pair for pair, n in current.items() if n > 1] == []
    for member, label, value, valid_from, valid_to, is_current in history:
        assert is_current == (valid_to is None), (member, label, value)
        assert valid_to is None or valid_from < valid_to, (member, label, value, valid_from, valid_to)


def snap(member, day, level, spend, interests, big):
    return {"member_id": member, "snapshot_date": day, "level": level, "spend": spend, "interests": interests, "big_spender": big}


HISTORY_D1 = [
    ("m1", "big_spender", "true", D1, None, True),
    ("m1", "interests", '["fashion","home"]', D1, None, True),
    ("m1", "level", "gold", D1, None, True),
    ("m1", "spend", "120", D1, None, True),
    ("m2", "big_spender", "false", D1, None, True),
    ("m2", "interests", '["fashion"]', D1, None, True),
    ("m2", "level", "basic", D1, None, True),
    ("m2", "spend", "30", D1, None, True),
    ("m3", "big_spender", "false", D1, None, True),
    ("m3", "level", "gold", D1, None, True),
    ("m3", "spend", "5", D1, None, True),
    ("m4", "big_spender", "false", D1, None, True),
    ("m4", "interests", '["home"]', D1, None, True),
    ("m4", "level", "basic", D1, None, True),
    ("m4", "spend", "50", D1, None, True),
]

HISTORY_D2 = sorted(
    [
        ("m1", "big_spender", "true", D1, None, True),
        ("m1", "interests", '["fashion","home"]', D1, None, True),
        ("m1", "level", "gold", D1, None, True),
        ("m1", "spend", "120", D1, None, True),
        ("m2", "big_spender", "false", D1, D2, False),
        ("m2", "big_spender", "true", D2, None, True),
        ("m2", "interests", '["fashion"]', D1, None, True),
        ("m2", "level", "basic", D1, D2, False),
        ("m2", "level", "gold", D2, None, True),
        ("m2", "spend", "30", D1, D2, False),
        ("m2", "spend", "120", D2, None, True),
        ("m3", "big_spender", "false", D1, D2, False),
        ("m3", "level", "gold", D1, D2, False),
        ("m3", "spend", "5", D1, D2, False),
        ("m4", "big_spender", "false", D1, None, True),
        ("m4", "interests", '["home"]', D1, None, True),
        ("m4", "level", "basic", D1, D2, False),
        ("m4", "spend", "50", D1, None, True),
        ("m5", "level", "basic", D2, None, True),
    ]
)

HISTORY_D3 = sorted(
    [
        ("m1", "big_spender", "true", D1, None, True),
        ("m1", "interests", '["fashion","home"]', D1, None, True),
        ("m1", "level", "gold", D1, None, True),
        ("m1", "spend", "120", D1, None, True),
        ("m2", "big_spender", "false", D1, D2, False),
        ("m2", "big_spender", "true", D2, None, True),
        ("m2", "interests", '["fashion"]', D1, None, True),
        ("m2", "level", "basic", D1, D2, False),
        ("m2", "level", "gold", D2, None, True),
        ("m2", "spend", "30", D1, D2, False),
        ("m2", "spend", "120", D2, None, True),
        ("m3", "big_spender", "false", D1, D2, False),
        ("m3", "level", "gold", D1, D2, False),
        ("m3", "level", "gold", D3, None, True),
        ("m3", "spend", "5", D1, D2, False),
        ("m4", "big_spender", "false", D1, None, True),
        ("m4", "interests", '["home"]', D1, None, True),
        ("m4", "level", "basic", D1, D2, False),
        ("m4", "spend", "50", D1, D3, False),
        ("m4", "spend", "60.5", D3, None, True),
        ("m5", "big_spender", "true", D3, None, True),
        ("m5", "interests", '["fashion"]', D3, None, True),
        ("m5", "level", "basic", D2, None, True),
        ("m5", "spend", "200", D3, None, True),
    ]
)

# After D1, D2 and then D3 with MEMBERS_3B / ORDERS_3B.
HISTORY_D3B = sorted(
    [
        ("m1", "big_spender", "true", D1, D3, False),
        ("m1", "big_spender", "false", D3, None, True),
        ("m1", "interests", '["fashion","home"]', D1, D3, False),
        ("m1", "interests", '["home"]', D3, None, True),
        ("m1", "level", "gold", D1, D3, False),
        ("m1", "level", "basic", D3, None, True),
        ("m1", "spend", "120", D1, D3, False),
        ("m1", "spend", "40", D3, None, True),
        ("m2", "big_spender", "false", D1, D2, False),
        ("m2", "big_spender", "true", D2, None, True),
        ("m2", "interests", '["fashion"]', D1, None, True),
        ("m2", "level", "basic", D1, D2, False),
        ("m2", "level", "gold", D2, None, True),
        ("m2", "spend", "30", D1, D2, False),
        ("m2", "spend", "120", D2, None, True),
        ("m3", "big_spender", "false", D1, D2, False),
        ("m3", "level", "gold", D1, D2, False),
        ("m3", "level", "gold", D3, None, True),
        ("m3", "spend", "5", D1, D2, False),
        ("m4", "big_spender", "false", D1, None, True),
        ("m4", "interests", '["home"]', D1, None, True),
        ("m4", "level", "basic", D1, D2, False),
        ("m4", "spend", "50", D1, None, True),
        ("m5", "big_spender", "false", D3, None, True),
        ("m5", "interests", '["fashion"]', D3, None, True),
        ("m5", "level", "basic", D2, None, True),
        ("m5", "spend", "20", D3, None, True),
    ]
)

SNAPSHOT_D1 = [
    snap("m1", D1, "gold", 120.0, ["home", "fashion"], True),
    snap("m2", D1, "basic", 30.0, ["fashion"], False),
    snap("m3", D1, "gold", 5.0, None, False),
    snap("m4", D1, "basic", 50.0, ["home"], False),
]


def test_history_follows_three_runs_in_date_order(spark, ws):
    step(spark, ws, D1, MEMBERS_1, ORDERS_1)
    assert ws.columns("label_history") == ["member_id", "label_id", "value", "valid_from", "valid_to", "is_current"]
    assert ws.snapshot(D1) == SNAPSHOT_D1
    assert ws.history() == HISTORY_D1

    step(spark, ws, D2, MEMBERS_2, ORDERS_2)
    assert ws.snapshot(D2) == [
        snap("m1", D2, "gold", 120.0, ["home", "fashion"], True),
        snap("m2", D2, "gold", 120.0, ["fashion"], True),
        snap("m4", D2, None, 50.0, ["home"], False),
        snap("m5", D2, "basic", None, None, None),
    ]
    assert ws.history() == HISTORY_D2
    assert_well_formed(ws.history())

    step(spark, ws, D3, MEMBERS_3, ORDERS_3)
    assert ws.snapshot(D3) == [
        snap("m1", D3, "gold", 120.0, ["home", "fashion"], True),
        snap("m2", D3, "gold", 120.0, ["fashion"], True),
        snap("m3", D3, "gold", None, None, None),
        snap("m4", D3, None, 60.5, ["home"], False),
        snap("m5", D3, "basic", 200.0, ["fashion"], True),
    ]
    assert ws.history() == HISTORY_D3
    assert_well_formed(ws.history())
    assert ws.snapshot(D1) == SNAPSHOT_D1  # earlier partitions kept


@pytest.mark.portable
def test_an_ordinary_day_writes_what_changed_and_masks_the_versions_it_closes(spark, ws, caplog):
    """A history written before deletion vectors gets them on classic Spark by its next day;
    then every file of history before D2 is still the table's after it (a closed version's old
    row is masked by a deletion vector, not rewritten) and D2's files hold the versions it
    closed and opened, no more. Sail replaces the current partition instead. Closed versions
    are a partition of their own either way; a rewind and a back-fill work over the masks."""
    caplog.set_level(logging.INFO, logger="labelspark.warehouse.history")
    step(spark, ws, D1, MEMBERS_1, ORDERS_1)
    path = str(ws.warehouse / "label_history")
    spark.read.format("delta").load(path).write.format("delta").partitionBy("is_current").save(path + "_plain")
    shutil.rmtree(path)
    shutil.move(path + "_plain", path)
    assert "enableDeletionVectors" not in str(DeltaTable(path).metadata().configuration)
    before = file_names(DeltaTable(path).file_uris())
    step(spark, ws, D2, MEMBERS_2, ORDERS_2)

    table = DeltaTable(path)
    assert table.metadata().partition_columns == ["is_current"]
    if ENGINE == "sail":
        assert not before & file_names(uri for uri in table.file_uris() if "is_current=true" in uri)
    else:
        assert "deletion vectors enabled, once" in caplog.text
        masked = file_names(pa.RecordBatchReader.from_stream(table.deletion_vectors()).read_all().column("filepath").to_pylist())
        assert masked and masked <= before <= file_names(table.file_uris())
        actions = pa.table(table.get_add_actions(flatten=True)).to_pylist()
        written = sum(action["num_records"] for action in actions if file_names([action["path"]]) - before)
        assert written == sum(1 for row in HISTORY_D2 if D2 in (row[3], row[4]))
    assert ws.history() == HISTORY_D2
    step(spark, ws, D3, MEMBERS_3, ORDERS_3)
    assert ws.history() == HISTORY_D3

    # a rewind undoes D3 over the masked table, a back-fill of D1 then leaves it as it is
    project = load_project(ws.config)
    assert rewind(spark, project, D2) == [D3]
    assert ws.history() == HISTORY_D2
    run(spark, project, D1)
    assert ws.history() == HISTORY_D2


def file_names(uris) -> set[str]:
    return {uri.rsplit("/", 1)[1] for uri in uris}


def test_a_history_written_before_the_partitioning_is_partitioned_by_its_next_day(spark, ws):
    step(spark, ws, D1, MEMBERS_1, ORDERS_1)
    path = str(ws.warehouse / "label_history")
    spark.read.format("delta").load(path).write.format("delta").save(path + "_flat")
    shutil.rmtree(path)
    shutil.move(path + "_flat", path)
    assert DeltaTable(path).metadata().partition_columns == []

    step(spark, ws, D2, MEMBERS_2, ORDERS_2)
    assert DeltaTable(path).metadata().partition_columns == ["is_current"]
    assert ws.history() == HISTORY_D2
    step(spark, ws, D3, MEMBERS_3, ORDERS_3)

    assert ws.history() == HISTORY_D3


def test_rerunning_the_latest_date_with_the_same_data_changes_nothing(spark, ws):
    step(spark, ws, D1, MEMBERS_1, ORDERS_1)
    step(spark, ws, D2, MEMBERS_2, ORDERS_2)
    step(spark, ws, D3, MEMBERS_3, ORDERS_3)
    snapshot, history, stats, catalog = ws.snapshot(), ws.history(), ws.rows("label_stats"), ws.catalog()

    run(spark, load_project(ws.config), D3)

    assert ws.history() == history == HISTORY_D3
    assert ws.snapshot() == snapshot
    assert sorted(ws.rows("label_stats"), key=repr) == sorted(stats, key=repr)
    assert ws.catalog() == catalog


def test_rerunning_the_latest_date_after_the_data_changed_equals_a_single_run(spark, ws, tmp_path):
    step(spark, ws, D1, MEMBERS_1, ORDERS_1)
    step(spark, ws, D2, MEMBERS_2, ORDERS_2)
    step(spark, ws, D3, MEMBERS_3, ORDERS_3)
    assert ws.history() == HISTORY_D3

    step(spark, ws, D3, MEMBERS_3B, ORDERS_3B)

    assert ws.history() == HISTORY_D3B
    assert_well_formed(ws.history())  # m4's spend 60.5 of the first D3 run left no trace
    assert ws.snapshot(D3) == [
        snap("m1", D3, "basic", 40.0, ["home"], False),
        snap("m2", D3, "gold", 120.0, ["fashion"], True),
        snap("m3", D3, "gold", None, None, None),
        snap("m4", D3, None, 50.0, ["home"], False),
        snap("m5", D3, "basic", 20.0, ["fashion"], False),
    ]

    # the same dates run once each, D3 only with the new data
    once = Workspace(tmp_path / "once")
    step(spark, once, D1, MEMBERS_1, ORDERS_1)
    step(spark, once, D2, MEMBERS_2, ORDERS_2)
    step(spark, once, D3, MEMBERS_3B, ORDERS_3B)
    assert once.history() == ws.history()
    assert once.snapshot() == ws.snapshot()


def test_backfill_of_an_earlier_date_rewrites_its_snapshot_and_leaves_history(spark, ws):
    step(spark, ws, D1, MEMBERS_1, ORDERS_1)
    step(spark, ws, D2, MEMBERS_2, ORDERS_2)
    step(spark, ws, D3, MEMBERS_3, ORDERS_3)
    later = ws.snapshot(D2) + ws.snapshot(D3)
    history, catalog = ws.history(), ws.catalog()

    # back-fill D1 over today's files: members as they are now, orders as of D1
    # (o6, o7, o8 came later; o4 of m3 is deleted)
    result = run(spark, load_project(ws.config), D1)

    assert result.rows == 5
    assert ws.snapshot(D1) == [
        snap("m1", D1, "gold", 120.0, ["home", "fashion"], True),
        snap("m2", D1, "gold", 30.0, ["fashion"], False),
        snap("m3", D1, "gold", None, None, None),
        snap("m4", D1, None, 50.0, ["home"], False),
        snap("m5", D1, "basic", None, None, None),
    ]
    assert ws.snapshot(D2) + ws.snapshot(D3) == later
    level_stats = sorted(
        ((r["value"] or ""), r["users"]) for r in ws.rows("label_stats") if r["snapshot_date"] == D1 and r["label_id"] == "level"
    )
    assert level_stats == [("", 1), ("basic", 1), ("gold", 3)]
    assert ws.history() == history == HISTORY_D3
    assert ws.catalog() == catalog

    # history is still at D3: a run of D3 is a re-run there, not a new version
    run(spark, load_project(ws.config), D3)
    assert ws.history() == HISTORY_D3


def test_a_disabled_label_keeps_its_history_and_continues_when_enabled(spark, ws):
    step(spark, ws, D1, MEMBERS_1, ORDERS_1)
    interests_d1 = [row for row in HISTORY_D1 if row[1] == "interests"]

    step(spark, ws, D2, MEMBERS_2, ORDERS_2, interests_status="disabled")
    table = DeltaTable(str(ws.warehouse / "label_snapshot"))
    assert "interests" not in table.schema().to_arrow().names
    assert all("interests" not in row for row in ws.snapshot())
    history = ws.history()
    assert [row for row in history if row[1] == "interests"] == interests_d1  # not closed
    assert [row for row in history if row[1] != "interests"] == [row for row in HISTORY_D2 if row[1] != "interests"]

    result = step(spark, ws, D3, MEMBERS_3B, ORDERS_3B)
    assert "interests" in result.labels
    assert [row for row in ws.history() if row[1] == "interests"] == [
        ("m1", "interests", '["fashion","home"]', D1, D3, False),
        ("m1", "interests", '["home"]', D3, None, True),
        ("m2", "interests", '["fashion"]', D1, None, True),
        ("m4", "interests", '["home"]', D1, None, True),
        ("m5", "interests", '["fashion"]', D3, None, True),
    ]
    assert_well_formed(ws.history())
    # the definition's status is part of it: disabled from D2, enabled again from D3
    assert [row for row in ws.catalog() if row[0] == "interests"] == [
        ("interests", "disabled", D2, D3),
        ("interests", "enabled", D1, D2),
        ("interests", "enabled", D3, None),
    ]


def test_a_run_with_every_label_disabled_counts_nothing_and_leaves_history_as_it_is(spark, ws):
    step(spark, ws, D1, MEMBERS_1, ORDERS_1)
    result = step(spark, ws, D2, MEMBERS_2, ORDERS_2, interests_status="disabled", status="disabled")
    assert result.labels == []
    assert ws.columns("label_snapshot") == ["member_id", "snapshot_date"]
    assert [r for r in ws.rows("label_stats") if r["snapshot_date"] == D2] == []
    assert ws.history() == HISTORY_D1


def test_a_changed_definition_opens_a_catalog_version(spark, ws):
    step(spark, ws, D1, MEMBERS_1, ORDERS_1)
    step(spark, ws, D2, MEMBERS_2, ORDERS_2)
    assert ws.catalog() == sorted((label, "enabled", D1, None) for label in LABELS)

    assert set(ws.columns("label_catalog")) >= {
        "label_id", "name", "group", "type", "method", "definition", "definition_hash", "status", "valid_from", "valid_to",
    }

    step(spark, ws, D3, MEMBERS_3, ORDERS_3, threshold=50)
    expected = sorted(
        [(label, "enabled", D1, None) for label in ("level", "spend", "interests")]
        + [("big_spender", "enabled", D1, D3), ("big_spender", "enabled", D3, None)]
    )
    assert ws.catalog() == expected
    versions = sorted((r for r in ws.rows("label_catalog") if r["label_id"] == "big_spender"), key=lambda r: r["valid_from"])
    thresholds = [[v["when"]["value"] for v in json.loads(r["definition"])["values"]] for r in versions]
    assert thresholds == [[100, 100], [50, 50]]
    assert versions[0]["definition_hash"] != versions[1]["definition_hash"]
    # with the new threshold m4 (spend 60.5) becomes a big spender on D3
    assert [row for row in ws.history() if row[:2] == ("m4", "big_spender")] == [
        ("m4", "big_spender", "false", D1, D3, False),
        ("m4", "big_spender", "true", D3, None, True),
    ]

    run(spark, load_project(ws.config), D3)  # a re-run: no new versions
    assert ws.catalog() == expected

    # a re-run with the old definition back equals never having changed it
    step(spark, ws, D3, MEMBERS_3, ORDERS_3, threshold=100)
    assert ws.catalog() == sorted((label, "enabled", D1, None) for label in LABELS)
    assert ws.history() == HISTORY_D3


def test_label_runs_records_each_run_and_a_failure(spark, ws):
    step(spark, ws, D1, MEMBERS_1, ORDERS_1)
    step(spark, ws, D2, MEMBERS_2, ORDERS_2)
    step(spark, ws, D3, MEMBERS_3, ORDERS_3)
    assert set(ws.columns("label_runs")) >= {
        "run_id", "snapshot_date", "status", "labels", "rows", "started_at", "finished_at", "index", "error",
    }
    runs = ws.runs()
    assert [(r["snapshot_date"], r["status"], sorted(r["labels"]), r["rows"], r["error"]) for r in runs] == [
        (D1, "succeeded", sorted(LABELS), 4, None),
        (D2, "succeeded", sorted(LABELS), 4, None),
        (D3, "succeeded", sorted(LABELS), 5, None),
    ]
    assert len({r["run_id"] for r in runs}) == 3
    assert all(r["started_at"] <= r["finished_at"] for r in runs)

    tables = ("label_snapshot", "label_history", "label_stats", "label_catalog")
    before = {t: (ws.version(t), sorted(ws.rows(t), key=repr)) for t in tables}
    shutil.rmtree(ws.root / "data" / "orders")
    with pytest.raises(SourceError, match="orders"):
        run(spark, load_project(ws.config), dt.date(2026, 3, 5))

    runs = ws.runs()
    assert len(runs) == 4
    failed = runs[-1]
    assert (failed["snapshot_date"], failed["status"], failed["rows"]) == (dt.date(2026, 3, 5), "failed", None)
    assert "source 'orders'" in failed["error"]
    assert failed["finished_at"] is not None and failed["started_at"] <= failed["finished_at"]
    assert [r["status"] for r in runs[:3]] == ["succeeded"] * 3
    assert {t: (ws.version(t), sorted(ws.rows(t), key=repr)) for t in tables} == before

    # the failed date did not move history on: once the source is back, that date runs as a new one
    ws.data(MEMBERS_3, ORDERS_3)
    run(spark, load_project(ws.config), dt.date(2026, 3, 5))
    assert [r["status"] for r in ws.runs()] == ["succeeded"] * 3 + ["failed", "succeeded"]
    assert ws.history() == HISTORY_D3  # same data: every version stays open
