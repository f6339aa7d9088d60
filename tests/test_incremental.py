"""Incremental source passes (issue 29) against an independent DuckDB oracle, over 60 simulated
days whose orders arrive day by day, some late inside the lookback and some outside it
(tests/support/incremental_oracle.py: the scenario, and the oracle written from the contract).

After each run, the date's `label_snapshot` partition must equal, cell for cell (doubles
exactly), the oracle's answer over the rows present that day that the tiles hold; on days rows
arrived late outside the lookback, a full recompute (`run(full=True)`, into a second warehouse)
must equal the oracle over every present row. Then a back-fill of day 20 takes the full pass,
and (Sail, through the CLI) the late rows are reported and `retile` takes them.

Sail runs 31 of the 60 days (~1 s a run here): the first 14 every day, then five days or fewer
around each later arrival of late rows (the day before it included, so that they fall outside the
lookback), gaps of 8 to 11 untiled days between; the days left out are ordinary days like those
run. Classic Spark, whose run costs 10-20 s
here (its Delta commits; the first, tiling the 379 days from the oldest order of the year
before, the longest), runs 4: the first day, the two
around the first late rows (the second leaves them out) and the last after a gap of 47 days,
which it tiles as days not tiled yet (the oracle's model of the tiles covers gaps too). Its full
pass is checked by the back-fill (the full pass over every row present on day 60, late ones
included, against the oracle), not by a `full=True` run into a second warehouse as well: that
flag only chooses the pass, whatever the engine, and Sail checks it on 4 days.

The simulation runs once per module (a module fixture) and records every difference, so that
test 1 shows them all; tests 2 and 3 continue from the warehouse it leaves.
"""
from __future__ import annotations

import datetime as dt
import logging
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from labelspark.compute.run import run
from labelspark.config import load_project
from labelspark.warehouse.deltars import read_rows, sql_literal
from tests.support import incremental_oracle as scenario
from tests.support.incremental_oracle import DAYS, Oracle, Tiles

SAIL = os.environ.get("LABELSPARK_TEST_ENGINE", "sail") == "sail"
# Sail: the first two weeks every day (the lookback re-tiling rows 1-2 days late, the first late
# rows), then around each later arrival of late rows the days before it (its tiles are at the day
# before) through a day or two after, with gaps of untiled days between (tiled with the lookback's)
SAIL_RUNS = (*range(0, 14), *range(22, 27), *range(38, 43), *range(50, 54), *range(57, 60))
RUNS = SAIL_RUNS if SAIL else (0, 10, 11, 59)  # day indices run, in order
FULL_CHECKS = (11, 24, 40, 59) if SAIL else ()  # runs also recomputed in full, in a second warehouse
LABELS = [spec.id for spec in scenario.SPECS]
CONFIG, FULL_CONFIG = "labelspark.yaml", "full.yaml"


class Simulation:
    def __init__(self, spark, root: Path):
        self.spark, self.root = spark, root
        self.rows = scenario.generate()
        self.oracle = Oracle(self.rows)
        self.tiles = Tiles()
        for name, warehouse in ((CONFIG, "warehouse"), (FULL_CONFIG, "warehouse_full")):
            text = yaml.safe_dump(scenario.config(warehouse), sort_keys=False)
            (root / name).write_text(text, encoding="utf-8")
        self.problems: list[str] = []
        self.checked = 0
        self.logs: dict[int, list[str]] = {}  # day index -> the messages its ordinary run logged
        self.late: dict[int, list[dt.date]] = {}  # day index -> the days of the rows its tiles lack

    def run(self, index: int, config: str = CONFIG, full: bool = False) -> None:
        run(self.spark, load_project(self.root / config), DAYS[index], publish=False, full=full)
        if config == CONFIG and not full:
            self.tiles.run(DAYS[index])

    def expected(self, index: int) -> dict[str, dict]:
        """The oracle's answer for an ordinary run of day `index` on that day."""
        return self.oracle.answer(DAYS[index], DAYS[index], self.tiles)

    def check(self, what: str, warehouse: str, day: dt.date, expected: dict[str, dict]) -> None:
        self.checked += 1
        self.problems += differences(snapshot(self.root / warehouse, day), expected, f"{what} {day}")

    def days(self) -> None:
        """The 60 days: each day's rows arrive; on the days of RUNS, the ordinary run and the
        oracle; on those of FULL_CHECKS, the full pass too."""
        logger, records = logging.getLogger("labelspark"), _Records()
        level = logger.level
        logger.setLevel(logging.INFO)
        logger.addHandler(records)
        try:
            for index, day in enumerate(DAYS):
                scenario.write_arrivals(self.rows, self.root / "data", index)
                if index not in RUNS:
                    continue
                records.messages = self.logs[index] = []
                self.run(index)
                self.late[index] = self.oracle.uncounted(day, self.tiles)
                self.check("ordinary run", "warehouse", day, self.expected(index))
                if index in FULL_CHECKS:
                    self.run(index, FULL_CONFIG, full=True)
                    self.check("full recompute", "warehouse_full", day, self.oracle.answer(day, day, None))
        finally:
            logger.removeHandler(records)
            logger.setLevel(level)


class _Records(logging.Handler):
    def __init__(self):
        super().__init__()
        self.messages: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.messages.append(record.getMessage())


def snapshot(warehouse: Path, day: dt.date) -> tuple[list[str], dict[str, dict]]:
    """(columns, entity -> label -> value) of the date's partition, read with delta-rs."""
    table = read_rows(str(warehouse / "label_snapshot"), where=f"snapshot_date = {sql_literal(day)}")
    return table.column_names, {row.pop("member_id"): row for row in table.to_pylist()}


def differences(actual: tuple[list[str], dict[str, dict]], expected: dict[str, dict], what: str) -> list[str]:
    """Every way the partition differs from the oracle: columns, entities, then cells (entity, label, expected, got)."""
    columns, rows = actual
    if sorted(columns) != sorted(["member_id", "snapshot_date", *LABELS]):
        return [f"{what}: columns {sorted(columns)}"]
    found = [f"{what}: entity {e} {'missing' if e in expected else 'unexpected'}" for e in sorted(set(rows) ^ set(expected))]
    for entity in sorted(set(rows) & set(expected)):
        for label in LABELS:
            got, want = rows[entity][label], expected[entity][label]
            if got != want or type(got) is not type(want):
                found.append(f"{what}: {entity} {label} expected {want!r} got {got!r}")
    return found


@pytest.fixture(scope="module")
def simulation(spark, tmp_path_factory):
    sim = Simulation(spark, tmp_path_factory.mktemp("incremental"))
    sim.days()
    return sim


@pytest.mark.portable
def test_every_run_equals_the_oracle_and_the_full_recompute(simulation):
    """Each ordinary run holds what the tiles hold (late rows outside the lookback left out); each
    full recompute holds every row."""
    assert simulation.checked == len(RUNS) + len(FULL_CHECKS)
    shown = "\n".join(simulation.problems[:40])
    assert not simulation.problems, f"{len(simulation.problems)} differences from the oracle, e.g.\n{shown}"
    # the late rows change answers: a run that took them, or that lost rows it should count, differs
    last = DAYS[-1]
    ordinary, full = simulation.oracle.answer(last, last, simulation.tiles), simulation.oracle.answer(last, last, None)
    assert ordinary != full and set(full) - set(ordinary) == {"g03"}


@pytest.mark.portable
def test_backfill_of_day_20_after_day_60_takes_every_row(simulation):
    """A back-fill takes the full pass: every row present now with a time up to day 20, late ones included."""
    day = DAYS[19]
    simulation.run(19)
    problems = differences(snapshot(simulation.root / "warehouse", day), simulation.oracle.answer(day, DAYS[-1], None),
                           f"back-fill {day}")
    assert not problems, "\n".join(problems[:40])


def labelspark(*args: str, cwd: Path) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "labelspark", *args], cwd=cwd, capture_output=True, text=True, timeout=300)


def test_late_rows_are_reported_and_retile_takes_them(simulation):
    """The first run whose tiles lack rows that arrived late reports their count and oldest date
    (in one log message, whatever its words, and in its `label_runs.details`); `labelspark
    retile --from` the oldest late row, then the last date again, gives the full answer."""
    if "retile" not in labelspark("--help", cwd=simulation.root).stdout:
        pytest.skip("no `labelspark retile` yet (issue 29)")
    first = min(index for index, days in simulation.late.items() if days)
    late = simulation.late[first]
    assert len(late) > len(set(late)) > 1  # rows and days differ: the report must say which is which
    count, oldest = len(late), late[0].isoformat()
    number = re.compile(rf"(?<![\w.-]){count}(?![\w.])")
    messages = simulation.logs[first]
    assert any(oldest in m and number.search(m) for m in messages), (
        f"the run of {DAYS[first]} logged no message with {count} late rows and {oldest}: {messages}")
    runs = read_rows(str(simulation.root / "warehouse" / "label_runs"), where=f"snapshot_date = {sql_literal(DAYS[first])}")
    details = [row.get("details") or "" for row in runs.to_pylist()]
    assert any(oldest in d and number.search(d) for d in details), f"label_runs.details of {DAYS[first]}: {details}"

    last = DAYS[-1]
    start = simulation.late[len(DAYS) - 1][0]
    retiled = labelspark("retile", CONFIG, "--from", start.isoformat(), cwd=simulation.root)
    assert retiled.returncode == 0, retiled.stderr
    simulation.tiles.retile(start, last)
    simulation.run(len(DAYS) - 1)
    full = simulation.oracle.answer(last, last, None)
    assert simulation.expected(len(DAYS) - 1) == full
    problems = differences(snapshot(simulation.root / "warehouse", last), full, f"after retile, {last}")
    assert not problems, "\n".join(problems[:40])
