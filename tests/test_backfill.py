"""A back-fill (a date before the latest run) computes its date as a run in date order would,
and a rewind after it leaves the warehouse that ran the kept dates only (issue 26).

Two copies of the demo on the same data: `ahead` runs Tuesday the 31st and then back-fills
Monday the 30th; `behind` runs Monday only, as a warehouse in date order would have. Monday's
partition, the definitions in force and a rewind to Monday must not tell them apart. All
tables are read with delta-rs.
"""
from __future__ import annotations

import datetime as dt
import shutil
from pathlib import Path

import pytest

from labelspark.analytics.audit import audit
from labelspark.analytics.diff import diff
from labelspark.config import load_project
from labelspark.compute.run import rewind, run
from labelspark.warehouse.deltars import read_rows, sql_literal
from tests.test_rewind import assert_same_warehouse, columns, demo_copy

MONDAY, TUESDAY = dt.date(2026, 3, 30), dt.date(2026, 3, 31)
PARTITIONED = ("label_snapshot", "label_stats", "segment_members")


@pytest.fixture(scope="module")
def backfilled(spark, tmp_path_factory) -> tuple[Path, Path]:
    """(ahead: Tuesday, then Monday back-filled; behind: Monday only)."""
    root = tmp_path_factory.mktemp("backfill")
    ahead, behind = demo_copy(root, "ahead"), demo_copy(root, "behind")
    run(spark, load_project(ahead), TUESDAY, publish=False)
    run(spark, load_project(ahead), MONDAY, publish=False)
    run(spark, load_project(behind), MONDAY, publish=False)
    return ahead, behind


def rows_of(config: Path, table: str, day: dt.date) -> list[tuple]:
    data = read_rows(str(config.parent / "warehouse" / table), where=f"snapshot_date = {sql_literal(day)}")
    names = sorted(data.column_names)
    return sorted(tuple(str(row[name]) for name in names) for row in data.to_pylist())


def test_a_backfilled_date_is_computed_as_in_date_order(backfilled):
    ahead, behind = backfilled
    for table in PARTITIONED:  # vip_list (monthly:1) included: no date before Monday computed it
        assert rows_of(ahead, table, MONDAY) == rows_of(behind, table, MONDAY), table
    project = load_project(ahead)

    catalog = read_rows(str(ahead.parent / "warehouse" / "label_catalog")).to_pylist()
    assert sorted((r["label_id"], r["valid_from"], r["valid_to"]) for r in catalog) == sorted(
        (label.id, MONDAY, None) for label in project.labels)  # one definition, in force since Monday
    assert [(label["label"], label["definition_changed"]) for label in diff(project, MONDAY, TUESDAY)["labels"]] == [
        (label.id, False) for label in project.labels]
    governance = {row["label"]: row for row in audit(project, TUESDAY)["labels"]}
    assert governance["vip_list"]["psi"] < 0.01  # the same file on both days: no drift made up
    assert "drifting" not in governance["vip_list"]["flags"]


def test_a_rewind_after_a_backfill_keeps_what_the_kept_dates_hold(spark, backfilled, tmp_path):
    ahead, behind = (demo_copy_of(config, tmp_path) for config in backfilled)

    assert rewind(spark, load_project(ahead), MONDAY) == [TUESDAY]

    assert "vip_list" in columns(ahead, "label_snapshot")
    assert_same_warehouse(ahead, behind)  # history too: Monday is no back-fill once Tuesday is gone
    for config in (ahead, behind):
        run(spark, load_project(config), TUESDAY, publish=False)
    assert_same_warehouse(ahead, behind)


def demo_copy_of(config: Path, root: Path) -> Path:
    """A copy of the project (data, config, warehouse) that the test may change."""
    shutil.copytree(config.parent, root / config.parent.name)
    return root / config.parent.name / config.name
