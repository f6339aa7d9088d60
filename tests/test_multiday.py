"""38 consecutive daily runs (Friday 2026-03-27 to Sunday 2026-05-03: every weekday, two month
ends, `monthly:31` firing on April 30) over generated members and orders, checked every day
against an independent oracle (tests/support/oracle.py, plain Python from the contract).

Along the way the config changes (a label added on day 10, a threshold changed on day 15, a
label disabled on day 20 and enabled again on day 25), some days are run twice (day 15 first
with a typo in the new threshold, then with it fixed), day 22 fails
on a bad import file and is retried once the file is fixed, and day 8 is back-filled after
day 30 with the config of then. Each day's `label_snapshot` partition, `label_stats` and
`segment_members` must equal the oracle; at the end `label_history` must be the run-length
encoding of every entity's daily values and `label_catalog` one version per definition change.

A disabled label is not observed while disabled: its history versions stay open over days
20-24 and close on day 25 only where its value then differs (see the oracle's docstring).
All tables are read with delta-rs, not Spark.
"""
from __future__ import annotations

import datetime as dt
import json
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
import pytest
import yaml
from deltalake import DeltaTable

from labelspark.config import load_project
from labelspark.errors import SourceError
from labelspark.pipeline import run
from tests.support import multiday as scenario
from tests.support.multiday import Version
from tests.support.oracle import Warehouse, segment_rows, stats_rows

MEMBERS, ORDERS = scenario.generate()
DISABLED_ON, ENABLED_AGAIN_ON = 20, 25  # recent_orders
CONFIGS = {  # the config versions written on these day numbers
    1: Version(),
    10: Version(interests=True),
    15: Version(interests=True, threshold=2000),  # a typo for 200: fixed, and the day run again
    DISABLED_ON: Version(interests=True, threshold=200, recent_orders="disabled"),
    ENABLED_AGAIN_ON: Version(interests=True, threshold=200),
}
FIXED = (15, Version(interests=True, threshold=200))  # its run must first undo the typo's run
VIP_FILES = {  # the import file as rewritten on these day numbers (x99 is no entity)
    1: {"m03": "true", "m07": "false", "m11": "true", "x99": "true"},
    12: {"m03": "true", "m11": "false", "m20": "true", "m33": "true", "x99": "true"},
}
FAILING_DAY = 22  # its first run reads an import file with a value that is no boolean
RERUN_DAYS = (3, DISABLED_ON, ENABLED_AGAIN_ON)  # run again right away, nothing changed: the tables stay as they are
BACKFILL_AFTER, BACKFILLED = 30, 8  # after day 30, day 8 is run again with the config of day 30
PARTITIONED = ("label_snapshot", "label_stats", "segment_members")
COLUMNS = {  # the contract's columns, in its order
    "label_stats": ["label_id", "snapshot_date", "value", "users", "proportion", "rank"],
    "segment_members": ["segment_id", "member_id", "snapshot_date"],
    "label_history": ["member_id", "label_id", "value", "valid_from", "valid_to", "is_current"],
}


class Simulation:
    def __init__(self, spark, root: Path):
        self.spark, self.root = spark, root
        self.oracle = Warehouse()
        self.version = CONFIGS[1]
        self.vip: dict[str, str] = {}
        self._write_sources()

    def _write_sources(self) -> None:
        for name, rows in (("members", MEMBERS), ("orders", ORDERS)):
            directory = self.root / "data" / name
            directory.mkdir(parents=True)
            columns = {field: [getattr(row, field) for row in rows] for field in rows[0].__dataclass_fields__}
            pq.write_table(pa.table(columns), directory / "part-0.parquet")

    def write_config(self, version: Version) -> None:
        self.version = version
        (self.root / "labelspark.yaml").write_text(yaml.safe_dump(scenario.config(version), sort_keys=False), encoding="utf-8")

    def write_vip(self, values: dict[str, str]) -> None:
        self.vip = values
        lines = ["member_id,is_vip"] + [f"{key},{value}" for key, value in values.items()]
        (self.root / "data" / "vip.csv").write_text("\n".join(lines) + "\n", encoding="utf-8")

    def run_and_check(self, day: dt.date) -> None:
        """Runs `day` with the config and import file as they are, and checks it against the oracle."""
        run(self.spark, load_project(self.root / "labelspark.yaml"), day, publish=False)
        labels = scenario.labels(self.version, self.vip)
        expected = self.oracle.run(day, scenario.indicators(MEMBERS, ORDERS, day), labels)
        enabled = [label for label in labels if label.enabled]
        assert_snapshot(self.snapshot(day), expected, [label.id for label in enabled], day)
        assert_rows(self.rows("label_stats", day), stats_rows(expected, enabled, day), f"label_stats {day}")
        segments = [segment for _, segment in scenario.SEGMENTS]
        assert_rows(self.rows("segment_members", day), segment_rows(expected, segments, day), f"segment_members {day}")

    def table(self, name: str) -> DeltaTable:
        return DeltaTable(str(self.root / "warehouse" / name))

    def rows(self, name: str, day: dt.date | None = None, but: dt.date | None = None) -> list[tuple]:
        """The table's rows (of `day` only, or of every date `but` one) as sorted tuples."""
        partitions = [("snapshot_date", "=", day.isoformat())] if day else [("snapshot_date", "!=", but.isoformat())] if but else None
        table = self.table(name).to_pyarrow_table(partitions=partitions, columns=COLUMNS.get(name))
        return sorted((tuple(row.values()) for row in table.to_pylist()), key=repr)

    def snapshot(self, day: dt.date) -> tuple[list[str], dict[str, dict]]:
        """(column names, entity -> label values) of the date's partition."""
        table = self.table("label_snapshot").to_pyarrow_table(partitions=[("snapshot_date", "=", day.isoformat())])
        rows = {row.pop("member_id"): row for row in table.to_pylist()}
        assert all(row.pop("snapshot_date") == day for row in rows.values())
        return table.column_names, rows

    def state(self) -> dict[str, list[tuple]]:
        return {name: self.rows(name) for name in (*PARTITIONED, "label_history", "label_catalog")}


def assert_rows(actual: list[tuple], expected: list[tuple], what: str) -> None:
    missing = [row for row in expected if row not in actual]
    unexpected = [row for row in actual if row not in expected]
    assert not missing and not unexpected and len(actual) == len(expected), (
        f"{what}: {len(missing)} rows missing, e.g. {missing[:6]}; {len(unexpected)} unexpected, e.g. {unexpected[:6]}"
    )


def assert_snapshot(actual: tuple[list[str], dict], expected: dict[str, dict], label_ids: list[str], day: dt.date, skip=()) -> None:
    columns, rows = actual
    assert sorted(columns) == sorted(["member_id", "snapshot_date", *label_ids]), f"label_snapshot {day}: columns {columns}"
    assert sorted(rows) == sorted(expected), f"label_snapshot {day}: entities {sorted(set(rows) ^ set(expected))} differ"
    wrong = [
        (entity, label_id, rows[entity][label_id], expected[entity].get(label_id))
        for entity in sorted(rows) for label_id in label_ids
        if label_id not in skip and rows[entity][label_id] != expected[entity].get(label_id)
    ]
    assert not wrong, f"label_snapshot {day}: {len(wrong)} wrong values (entity, label, got, expected), e.g. {wrong[:8]}"


def test_thirty_eight_days_against_the_oracle(spark, tmp_path):
    sim = Simulation(spark, tmp_path)
    for number, day in enumerate(scenario.DAYS, 1):
        if number in CONFIGS:
            sim.write_config(CONFIGS[number])
        if number in VIP_FILES:
            sim.write_vip(VIP_FILES[number])
        if number == FAILING_DAY:
            fixed, before = sim.vip, sim.state()
            sim.write_vip({**fixed, "m05": "maybe"})
            with pytest.raises(SourceError, match="maybe"):
                run(spark, load_project(tmp_path / "labelspark.yaml"), day, publish=False)
            assert sim.state() == before, f"the failed run of {day} left a trace"
            sim.write_vip(fixed)
        sim.run_and_check(day)
        if number == FIXED[0]:  # this run must undo what the first did to history and catalog
            sim.write_config(FIXED[1])
            sim.run_and_check(day)
        if number in RERUN_DAYS:
            before = sim.state()
            sim.run_and_check(day)
            assert sim.state() == before, f"re-running {day} changed the tables"
        if number == BACKFILL_AFTER:
            backfilled = scenario.DAYS[BACKFILLED - 1]
            before, others = sim.state(), {name: sim.rows(name, but=backfilled) for name in PARTITIONED}
            sim.run_and_check(backfilled)
            after = sim.state()
            for name in ("label_history", "label_catalog"):
                assert after[name] == before[name], f"the back-fill of day {BACKFILLED} changed {name}"
            for name in PARTITIONED:
                assert sim.rows(name, but=backfilled) == others[name], f"the back-fill of day {BACKFILLED} changed other dates of {name}"

    assert_rows(sim.rows("label_history"), sim.oracle.history(), "label_history")
    assert_catalog(sim, sim.oracle.catalog())
    assert_every_date_kept(sim)
    runs = sorted((row["snapshot_date"], row["status"]) for row in sim.table("label_runs").to_pyarrow_table().to_pylist())
    assert [r for r in runs if r[1] != "succeeded"] == [(scenario.DAYS[FAILING_DAY - 1], "failed")]


def assert_catalog(sim: Simulation, expected: list[tuple]) -> None:
    """One row per definition version; its `definition` JSON holds what the config said."""
    table = sorted(sim.table("label_catalog").to_pyarrow_table().to_pylist(), key=lambda r: (r["label_id"], r["valid_from"]))
    got = [(r["label_id"], r["status"], r["valid_from"], r["valid_to"]) for r in table]
    want = [(label_id, d.get("status"), start, end) for label_id, d, start, end in expected]
    assert got == want, f"label_catalog (label, status, from, to): got {sorted(set(got) - set(want))}, missing {sorted(set(want) - set(got))}"
    for row, (_, definition, _, _) in zip(table, expected):
        stored = json.loads(row["definition"])
        assert {key: stored.get(key) for key in definition} == definition, row["label_id"]


def assert_every_date_kept(sim: Simulation) -> None:
    """After all the rewrites (label columns added, dropped, added back), every date's partition
    still holds its values; `recent_orders` only from its return on day 25: disabling it took
    its column, and with it its values of earlier dates, out of the table."""
    last_labels = [label.id for label in scenario.labels(sim.version, {}) if label.enabled]
    returned = scenario.DAYS[ENABLED_AGAIN_ON - 1]
    for day, expected in sim.oracle.snapshots.items():
        assert_snapshot(sim.snapshot(day), expected, last_labels, day, skip=("recent_orders",) if day < returned else ())
