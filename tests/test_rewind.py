"""`rewind --to D`: the warehouse afterwards equals one that never ran the dates after D, and
runs on from D as that one does. Both warehouses are read with delta-rs."""
from __future__ import annotations

import datetime as dt
import shutil
import subprocess
import sys
from pathlib import Path

from deltalake import DeltaTable

from labelspark.warehouse import readers
from labelspark.config import load_project
from labelspark.cli.demo import write_demo
from labelspark.compute.run import rewind, run
from labelspark.warehouse.deltars import read_rows

SUNDAY, MONDAY, TUESDAY = dt.date(2026, 3, 29), dt.date(2026, 3, 30), dt.date(2026, 3, 31)
COMPARED = ("label_snapshot", "label_stats", "segment_members", "label_history", "label_catalog")
ADDED_LABEL = "  - {id: orders_ever, name: Orders ever, type: number, method: metric, indicator: orders_total}\n"


def demo_copy(root: Path, name: str) -> Path:
    """A demo project under root/name: the same data in every copy."""
    config = write_demo(root / name, members=120)
    return config


def add_label(config: Path) -> None:
    text = config.read_text(encoding="utf-8")
    config.write_text(text.replace("segments:\n", ADDED_LABEL + "segments:\n"), encoding="utf-8")


def rows(config: Path, table: str) -> list[tuple]:
    path = config.parent / "warehouse" / table
    data = read_rows(str(path))
    names = sorted(data.column_names)
    return sorted((tuple(str(row[name]) for name in names) for row in data.to_pylist()))


def columns(config: Path, table: str) -> list[str]:
    return sorted(DeltaTable(str(config.parent / "warehouse" / table)).schema().to_arrow().names)


def assert_same_warehouse(a: Path, b: Path) -> None:
    for table in COMPARED:
        assert columns(a, table) == columns(b, table), table
        assert rows(a, table) == rows(b, table), table


def test_rewind_leaves_the_tables_of_a_warehouse_that_never_ran_the_later_dates(spark, tmp_path):
    ahead, behind = demo_copy(tmp_path, "ahead"), demo_copy(tmp_path, "behind")
    run(spark, load_project(ahead), SUNDAY, publish=False)
    run(spark, load_project(behind), SUNDAY, publish=False)
    add_label(ahead)  # a label the later dates bring: its column must leave the snapshot again
    run(spark, load_project(ahead), MONDAY, publish=False)
    run(spark, load_project(ahead), TUESDAY, publish=False)

    removed = rewind(spark, load_project(ahead), SUNDAY)

    assert removed == [MONDAY, TUESDAY]
    assert_same_warehouse(ahead, behind)
    runs = read_rows(str(ahead.parent / "warehouse" / "label_runs")).to_pylist()
    assert sorted((r["snapshot_date"], r["status"]) for r in runs) == [(SUNDAY, "succeeded"), (MONDAY, "rewound"), (TUESDAY, "rewound")]
    assert readers.stats_rows(load_project(ahead), "age_band")[0] == SUNDAY
    assert not (ahead.parent / "warehouse" / "_labelspark.lock").exists()

    # both go on from Sunday alike: history advances on Monday instead of taking it for a back-fill
    add_label(behind)
    run(spark, load_project(ahead), MONDAY, publish=False)
    run(spark, load_project(behind), MONDAY, publish=False)
    assert_same_warehouse(ahead, behind)


def test_rewind_from_the_command_line(tmp_path):
    config = demo_copy(tmp_path, "project")
    for day in (SUNDAY, MONDAY):
        done = subprocess.run([sys.executable, "-m", "labelspark", "run", str(config), "--date", day.isoformat()],
                              capture_output=True, text=True, timeout=300)
        assert done.returncode == 0, done.stderr
    done = subprocess.run([sys.executable, "-m", "labelspark", "rewind", str(config), "--to", SUNDAY.isoformat()],
                          capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr
    assert "2026-03-30" in done.stdout
    dates = {r["snapshot_date"] for r in read_rows(str(config.parent / "warehouse" / "label_snapshot")).to_pylist()}
    assert dates == {SUNDAY}
    shutil.rmtree(config.parent / "warehouse")
    done = subprocess.run([sys.executable, "-m", "labelspark", "rewind", str(config), "--to", SUNDAY.isoformat()],
                          capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr
    assert "nothing" in done.stdout
