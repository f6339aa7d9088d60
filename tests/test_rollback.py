"""A failed run changes nothing users read: every table is as it was before the run."""
import datetime as dt
import signal
import subprocess
import sys
import time

import pytest
import yaml
from deltalake import DeltaTable

from labelspark.config import load_project
from labelspark.demo import write_demo
from labelspark.pipeline import Tables, run
from labelspark.publish import PublishError
from labelspark.storage.lock import LOCK_FILE

MONDAY, TUESDAY = dt.date(2026, 3, 30), dt.date(2026, 3, 31)
DEAD_CLUSTER = {"nodes": "http://127.0.0.1:9", "alias": "demo_labels"}


def publishing_to(config, cluster: dict) -> None:
    """Adds an Elasticsearch output to the config (editing the YAML, whatever comments it carries)."""
    settings = yaml.safe_load(config.read_text())
    settings["outputs"]["elasticsearch"] = cluster
    config.write_text(yaml.safe_dump(settings, sort_keys=False))


def contents(project):
    """Every user-facing table's rows (sorted) or None where there is no table."""
    result = {}
    for path in Tables(project.warehouse).read_by_users:
        try:
            rows = DeltaTable(path).to_pyarrow_table().to_pylist()
        except Exception:
            result[path] = None
            continue
        result[path] = sorted(rows, key=repr)
    return result


def statuses(project):
    rows = DeltaTable(Tables(project.warehouse).runs).to_pyarrow_table().to_pylist()
    return [row["status"] for row in sorted(rows, key=lambda row: row["started_at"])]


def test_a_run_failing_after_every_table_write_leaves_them_as_before(spark, tmp_path):
    config = write_demo(tmp_path / "demo")
    project = load_project(config)
    run(spark, project, MONDAY)
    before = contents(project)

    # Tuesday: new data in every table, then publishing fails (the last step)
    publishing_to(config, DEAD_CLUSTER)
    with pytest.raises(PublishError):
        run(spark, load_project(config), TUESDAY)

    assert contents(project) == before
    assert statuses(project) == ["succeeded", "failed"]
    # the next run of Tuesday starts from the restored tables and succeeds
    run(spark, project, TUESDAY)
    assert {row["snapshot_date"] for row in contents(project)[Tables(project.warehouse).snapshot]} == {MONDAY, TUESDAY}


def test_a_failed_first_run_leaves_no_table_but_the_run_log(spark, tmp_path):
    config = write_demo(tmp_path / "demo")
    publishing_to(config, DEAD_CLUSTER)
    project = load_project(config)
    with pytest.raises(PublishError):
        run(spark, project, TUESDAY)
    assert set(contents(project).values()) == {None}
    assert statuses(project) == ["failed"]


def test_a_killed_run_is_undone_by_the_next_run(spark, tmp_path):
    config = write_demo(tmp_path / "demo")
    project = load_project(config)
    run(spark, project, MONDAY)
    after_monday = contents(project)
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
    assert contents(project) == after_monday
