"""A failed run changes nothing users read: every table is as it was before the run."""
import datetime as dt
import signal
import subprocess
import sys
import time

import pytest
from deltalake import DeltaTable

from labelspark.config import load_project
from labelspark.cli.demo import write_demo
from labelspark.compute.run import run
from labelspark.warehouse.deltars import read_rows
from labelspark.warehouse.names import Tables
from labelspark.publish import PublishError
from labelspark.warehouse.lock import LOCK_FILE
from tests.support.projects import table_contents, with_outputs

MONDAY, TUESDAY = dt.date(2026, 3, 30), dt.date(2026, 3, 31)
DEAD_CLUSTER = {"nodes": "http://127.0.0.1:9", "alias": "demo_labels"}


def statuses(project):
    rows = read_rows(Tables(project.warehouse).runs).to_pylist()
    return [row["status"] for row in sorted(rows, key=lambda row: row["started_at"])]


def test_a_run_failing_after_every_table_write_leaves_them_as_before(spark, tmp_path):
    config = write_demo(tmp_path / "demo")
    project = load_project(config)
    run(spark, project, MONDAY)
    before = table_contents(project)

    # Tuesday: new data in every table, then publishing fails (the last step)
    with_outputs(config, elasticsearch=DEAD_CLUSTER)
    with pytest.raises(PublishError):
        run(spark, load_project(config), TUESDAY)

    assert table_contents(project) == before
    assert statuses(project) == ["succeeded", "failed"]
    # the next run of Tuesday starts from the restored tables and succeeds
    run(spark, project, TUESDAY)
    assert {row["snapshot_date"] for row in table_contents(project)[Tables(project.warehouse).snapshot]} == {MONDAY, TUESDAY}


def test_a_failed_first_run_leaves_no_table_but_the_run_log(spark, tmp_path):
    config = write_demo(tmp_path / "demo")
    with_outputs(config, elasticsearch=DEAD_CLUSTER)
    project = load_project(config)
    with pytest.raises(PublishError):
        run(spark, project, TUESDAY)
    assert set(table_contents(project).values()) == {None}
    assert statuses(project) == ["failed"]


def test_a_killed_run_is_undone_by_the_next_run(spark, tmp_path):
    config = write_demo(tmp_path / "demo")
    project = load_project(config)
    run(spark, project, MONDAY)
    after_monday = table_contents(project)
    snapshot = Tables(project.warehouse).snapshot
    before = DeltaTable(snapshot).version()

    tuesday = subprocess.Popen([sys.executable, "-m", "labelspark", "run", str(config), "--date", "2026-03-31"],
                               cwd=tmp_path, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    deadline = time.monotonic() + 120
    while tuesday.poll() is None and time.monotonic() < deadline and DeltaTable(snapshot).version() == before:
        time.sleep(0.005)
    tuesday.send_signal(signal.SIGKILL)  # between table writes: the snapshot is written, the rest is not
    tuesday.wait()
    assert DeltaTable(snapshot).version() > before
    assert (tmp_path / "demo" / "warehouse" / LOCK_FILE).exists()  # left behind by the dead run

    run(spark, project, MONDAY)  # takes over the stale lock, undoes Tuesday's writes, re-runs Monday
    assert table_contents(project) == after_monday
