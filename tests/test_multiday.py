"""38 consecutive daily runs (Friday 2026-03-27 to Sunday 2026-05-03: every weekday, two month
ends, `monthly:31` firing on April 30) over generated members and orders, checked every day
against an independent oracle (tests/support/oracle.py, plain Python from the contract).

Along the way the config changes (a label added on day 10, a threshold changed on day 15, a
label disabled on day 20 and enabled again on day 25), some days are run twice (day 15 first
with a typo in the new threshold, then with it fixed), day 22 fails on a bad import file and
is retried once the file is fixed, the warehouse is rewound from day 27 to day 23 (across the
label's return) and runs on from there, and day 8 is back-filled after day 30 with the
config of then. Each day's `label_snapshot` partition, `label_stats` and
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

from labelspark.config import load_project
from labelspark.errors import SourceError
from labelspark.compute.run import rewind, run
from labelspark.warehouse.deltars import read_rows, sql_literal
from tests.support import multiday as scenario
from tests.support.multiday import Version
from tests.support.oracle import Warehouse, segment_rows, stats_rows

MEMBERS, ORDERS = scenario.generate()
DISABLED_ON, ENABLED_AGAIN_ON = 20, 25  # recent_orders
CONFIGS = {  # the config version in force from these day numbers on
    1: Version(),
    10: Version(interests=True),
    15: Version(interests=True, threshold=200),
    DISABLED_ON: Version(interests=True, threshold=200, recent_orders="disabled"),
    ENABLED_AGAIN_ON: Version(interests=True, threshold=200),
}
TYPO = (15, Version(interests=True, threshold=2000))  # day 15 first runs with a typo for 200
VIP_FILES = {  # the import file from these day numbers on (x99 is no entity)
    1: {"m03": "true", "m07": "false", "m11": "true", "x99": "true"},
    12: {"m03": "true", "m11": "false", "m20": "true", "m33": "true", "x99": "true"},
}
FAILING_DAY = 22  # its first run reads an import file with a value that is no boolean
RERUN_DAYS = (3, DISABLED_ON, ENABLED_AGAIN_ON)  # run again right away, nothing changed: the tables stay as they are
BACKFILL_AFTER, BACKFILLED = 30, 8  # after day 30, day 8 is run again with the config of day 30
REWIND = (27, 23)  # after day 27, the warehouse is rewound to day 23 and days 24-27 run again
TIMELINE = [*range(1, REWIND[0] + 1), "rewind", *range(REWIND[1] + 1, len(scenario.DAYS) + 1)]
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
        self.version: Version | None = None
        self.vip: dict[str, str] = {}
        self._write_sources()

    def _write_sources(self) -> None:
        for name, rows in (("members", MEMBERS), ("orders", ORDERS)):
            directory = self.root / "data" / name
            directory.mkdir(parents=True)
            columns = {field: [getattr(row, field) for row in rows] for field in rows[0].__dataclass_fields__}
            pq.write_table(pa.table(columns), directory / "part-0.parquet")

    def in_force(self, number: int) -> None:
        """Writes the config and import file of day `number` where they differ from the last."""
        version = CONFIGS[max(n for n in CONFIGS if n <= number)]
        if version != self.version:
            self.write_config(version)
        vip = VIP_FILES[max(n for n in VIP_FILES if n <= number)]
        if vip != self.vip:
            self.write_vip(vip)

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

    def table(self, name: str, columns: list[str] | None = None, where: str | None = None) -> pa.Table:
        return read_rows(str(self.root / "warehouse" / name), columns, where)

    def rows(self, name: str, day: dt.date | None = None, but: dt.date | None = None) -> list[tuple]:
        """The table's rows (of `day` only, or of every date `but` one) as sorted tuples."""
        where = f"snapshot_date = {sql_literal(day)}" if day else f"snapshot_date <> {sql_literal(but)}" if but else None
        table = self.table(name, COLUMNS.get(name), where)
        return sorted((tuple(row.values()) for row in table.to_pylist()), key=repr)

    def snapshot(self, day: dt.date) -> tuple[list[str], dict[str, dict]]:
        """(column names, entity -> label values) of the date's partition."""
        table = self.table("label_snapshot", where=f"snapshot_date = {sql_literal(day)}")
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
    for number in TIMELINE:
        if number == "rewind":
            rewind_and_check(sim, scenario.DAYS[REWIND[1] - 1])
            continue
        day = scenario.DAYS[number - 1]
        if number == TYPO[0]:  # the run with the fix must first undo this one's history and catalog
            sim.write_config(TYPO[1])
            sim.run_and_check(day)
        sim.in_force(number)
        if number == FAILING_DAY:
            fail_and_check(sim, day)
        sim.run_and_check(day)
        if number in RERUN_DAYS:
            before = sim.state()
            sim.run_and_check(day)
            assert sim.state() == before, f"re-running {day} changed the tables"
        if number == BACKFILL_AFTER:
            backfill_and_check(sim, scenario.DAYS[BACKFILLED - 1])

    assert_rows(sim.rows("label_history"), sim.oracle.history(), "label_history")
    assert_catalog(sim, sim.oracle.catalog())
    assert_every_date_kept(sim)
    runs = sorted((row["snapshot_date"], row["status"]) for row in sim.table("label_runs").to_pylist())
    rewound = [scenario.DAYS[n - 1] for n in range(REWIND[1] + 1, REWIND[0] + 1) for _ in range(1 + (n in RERUN_DAYS))]
    assert [r for r in runs if r[1] != "succeeded"] == [(scenario.DAYS[FAILING_DAY - 1], "failed")] + [(d, "rewound") for d in rewound]


def fail_and_check(sim: Simulation, day: dt.date) -> None:
    """A run over an import file with a value that is no boolean fails and leaves no trace."""
    fixed, before = sim.vip, sim.state()
    sim.write_vip({**fixed, "m05": "maybe"})
    with pytest.raises(SourceError, match="maybe"):
        run(sim.spark, load_project(sim.root / "labelspark.yaml"), day, publish=False)
    assert sim.state() == before, f"the failed run of {day} left a trace"
    sim.write_vip(fixed)


def backfill_and_check(sim: Simulation, day: dt.date) -> None:
    """A back-fill rewrites the date's snapshot, stats and segments, and records in the catalog
    the definitions it computed with for that date; it leaves history as it is."""
    before, others = sim.state(), {name: sim.rows(name, but=day) for name in PARTITIONED}
    sim.run_and_check(day)
    assert sim.state()["label_history"] == before["label_history"], f"the back-fill of {day} changed label_history"
    assert_catalog(sim, sim.oracle.catalog())
    for name in PARTITIONED:
        assert sim.rows(name, but=day) == others[name], f"the back-fill of {day} changed other dates of {name}"


def rewind_and_check(sim: Simulation, to: dt.date) -> None:
    """After `rewind --to`, no later date is left and history and catalog are as they were after it."""
    rewind(sim.spark, load_project(sim.root / "labelspark.yaml"), to)
    sim.oracle.rewind(to)
    for name in PARTITIONED:
        later = [row for row in sim.table(name, ["snapshot_date"]).to_pylist() if row["snapshot_date"] > to]
        assert not later, f"{name} keeps dates after {to}"
    assert_rows(sim.rows("label_history"), sim.oracle.history(), f"label_history rewound to {to}")
    assert_catalog(sim, sim.oracle.catalog())


def assert_catalog(sim: Simulation, expected: list[tuple]) -> None:
    """One row per definition version; its `definition` JSON holds what the config said."""
    table = sorted(sim.table("label_catalog").to_pylist(), key=lambda r: (r["label_id"], r["valid_from"]))
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
