"""The life of a warehouse, not one run: a month of days with Delta's checkpoints, and every engine
continuing tables the others wrote and checkpointed.

Delta writes a checkpoint every 10 commits, so a table's 10th commit is the first one read back
from a checkpoint: a Delta jar that does not fit its Spark worked for nine days and then failed
every day after (classic Spark 4.1.4 with delta-spark 4.1.0). Here the reference warehouse runs
25 consecutive days on Sail with the default interval (every table that commits daily passes
checkpoints 10 and 20), and a copy of it taken after day 19 goes on through every engine: classic
Spark 4.x, classic Spark 3.5, Sail again and a Spark Connect server (classic Spark 4.x with
Delta, started by scripts/connect-server.sh), with `delta.checkpointInterval` 1 so that each
engine reads the others' checkpoints and writes its own at every commit (one run of a classic
Spark line is enough: its JVM's runs are the slowest steps here). On the way: definition
changes, a rewind, a re-run, a vacuum, Delta logs past their retention (deleted at the next
checkpoint), and a back-fill. Every step runs on the reference as well, on Sail (those of a
config version in one process); at the end both hold the same rows in every table, read with
delta-rs.
"""
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from deltalake import DeltaTable

from labelspark.cli.demo import write_demo
from labelspark.warehouse.delta import set_table_properties
from tests.support.spark_lines import environment_of, python_of
from tests.support.warehouse import TABLE_KEYS, assert_same_tables, run_dates

ROOT = Path(__file__).resolve().parent.parent
TABLES = tuple(TABLE_KEYS)
DAILY = tuple(name for name in TABLES if name != "label_catalog")  # the catalog commits when a definition changes
MARCH = [f"2026-03-{day:02d}" for day in range(1, 32)]
FIRST_DAYS = MARCH[:21]
# (engine of the copy, config version, steps): the reference runs the same steps on Sail
LATER = [
    ("spark-4", 1, ["2026-03-22"]),
    ("spark-3.5", 1, ["2026-03-23"]),
    ("sail", 2, ["rewind:2026-03-22", "2026-03-23", "2026-03-23", "2026-03-24"]),  # a re-run leaves the tables as they were
    ("connect", 2, ["2026-03-25", "2026-03-22"]),          # after logs expired and a vacuum; then a back-fill
]
CHECKPOINT_INTERVAL = 1  # of the copy: each engine writes a checkpoint at every commit
THRESHOLDS = {0: "value: 2}}", 1: "value: 3}}", 2: "value: 4}}"}  # active_buyer's orders_30d threshold


def checkpoints(warehouse: Path) -> dict[str, set[str]]:
    return {name: {path.name for path in (warehouse / name / "_delta_log").glob("*.checkpoint.parquet")} for name in TABLES}


def table_versions(warehouse: Path) -> dict[str, int]:
    return {name: DeltaTable(str(warehouse / name)).version() for name in TABLES}


def use_config(config: Path, version: int) -> None:
    """The demo config with active_buyer's threshold of that version (a new definition in the catalog)."""
    text = config.read_text(encoding="utf-8")
    old = next(line for line in text.splitlines() if "field: orders_30d, op: gte" in line)
    new = old.replace(next(v for v in THRESHOLDS.values() if old.endswith(v)), THRESHOLDS[version])
    config.write_text(text.replace(old, new), encoding="utf-8")


def set_checkpoint_interval(spark, warehouse: Path, interval: int) -> None:
    for name in TABLES:
        set_table_properties(spark, str(warehouse / name), {"delta.checkpointInterval": str(interval)})


def age_logs(warehouse: Path, days: int) -> None:
    """Makes every commit file look `days` older, in the order they were written, as in a warehouse
    that has run that long: the next checkpoint deletes those past the log retention (30 days by
    default). One time for all would not do: delta-spark takes a file no newer than the one before
    as written a moment after it, and deletes nothing up to a checkpoint stamped so."""
    for path in warehouse.glob("*/_delta_log/*"):
        written = path.stat().st_mtime - days * 86400
        os.utime(path, (written, written))


def vacuum(warehouse: Path) -> int:
    """delta-rs's vacuum with no retention: every file no version since the last one needs is deleted."""
    removed = 0
    for name in TABLES:
        removed += len(DeltaTable(str(warehouse / name)).vacuum(retention_hours=0, dry_run=False, enforce_retention_duration=False))
    return removed


@pytest.fixture(scope="module")
def connect_server(tmp_path_factory):
    """A Spark Connect server of classic Spark 4.x with the pinned Delta jars, stopped after."""
    env = {**environment_of(sys.executable), "LABELSPARK_CONNECT_DIR": str(tmp_path_factory.mktemp("connect"))}
    script = str(ROOT / "scripts" / "connect-server.sh")
    started = subprocess.run([script, "start"], env=env, capture_output=True, text=True, timeout=300)
    try:
        assert started.returncode == 0, started.stderr
        yield started.stdout.strip()
    finally:
        subprocess.run([script, "stop"], env=env, capture_output=True, text=True, timeout=120)


def run_on(engine: str, config: Path, steps: list[str], remote: str) -> None:
    if engine == "sail":
        run_dates(config, "sail", *steps)
    elif engine == "connect":
        run_dates(config, f"connect={remote}", *steps)
    else:
        python = python_of("4.x" if engine == "spark-4" else "3.5")
        run_dates(config, "spark", *steps, python=python, env=environment_of(python))


def test_every_engine_continues_the_others_tables_past_checkpoints(spark, tmp_path, connect_server):
    reference = write_demo(tmp_path / "reference")
    run_dates(reference, "sail", *FIRST_DAYS)
    warehouse = reference.parent / "warehouse"
    assert all(len(checkpoints(warehouse)[name]) >= 2 for name in DAILY), \
        "21 days with Delta's default interval: every daily table checkpointed at commits 10 and 20 (label_runs commits twice a run)"
    copy = shutil.copytree(tmp_path / "reference", tmp_path / "copy") / reference.name  # goes on engine by engine

    mixed = copy.parent / "warehouse"
    set_checkpoint_interval(spark, mixed, CHECKPOINT_INTERVAL)
    for engine, version, steps in LATER:
        aged = engine == "connect"
        if aged:
            age_logs(mixed, 60)
        before, versions = checkpoints(mixed), table_versions(mixed)
        assert all(len(before[name]) >= 2 for name in DAILY), before  # the engine starts on checkpointed tables
        use_config(copy, version)
        run_on(engine, copy, steps, connect_server)
        committed = {name for name, now in table_versions(mixed).items() if now - versions[name] >= CHECKPOINT_INTERVAL}
        written = {name for name, found in checkpoints(mixed).items() if found - before[name]}
        assert committed <= written and {"label_snapshot", "label_runs"} <= written, f"{engine} wrote no checkpoint of {committed - written}"
        if aged:  # a checkpoint deletes the commits past the log retention before it (delta-spark and delta-rs alike)
            assert all(not (mixed / name / "_delta_log" / f"{0:020d}.json").exists() for name in written), written
        if engine == "sail" and steps[0].startswith("rewind"):
            assert vacuum(mixed) > 0

    assert all(checkpoints(mixed).values())  # older ones went with the expired commits
    for version in sorted({version for _, version, _ in LATER}):  # the same steps on the reference, on Sail
        use_config(reference, version)
        run_dates(reference, "sail", *(step for _, v, steps in LATER if v == version for step in steps))
    assert_same_tables(warehouse, mixed)
