"""A failed run changes nothing users read: every table is as it was before the run."""
import datetime as dt

import pytest
from deltalake import DeltaTable

from labelspark.config import load_project
from labelspark.demo import write_demo
from labelspark.pipeline import Tables, run
from labelspark.publish import PublishError

MONDAY, TUESDAY = dt.date(2026, 3, 30), dt.date(2026, 3, 31)
DEAD_CLUSTER = "outputs:\n  warehouse: warehouse\n  elasticsearch: {nodes: \"http://127.0.0.1:9\", alias: demo_labels}\n"


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
    config.write_text(config.read_text().replace("outputs:\n  warehouse: warehouse\n", DEAD_CLUSTER))
    with pytest.raises(PublishError):
        run(spark, load_project(config), TUESDAY)

    assert contents(project) == before
    assert statuses(project) == ["succeeded", "failed"]
    # the next run of Tuesday starts from the restored tables and succeeds
    run(spark, project, TUESDAY)
    assert {row["snapshot_date"] for row in contents(project)[Tables(project.warehouse).snapshot]} == {MONDAY, TUESDAY}


def test_a_failed_first_run_leaves_no_table_but_the_run_log(spark, tmp_path):
    config = write_demo(tmp_path / "demo")
    config.write_text(config.read_text().replace("outputs:\n  warehouse: warehouse\n", DEAD_CLUSTER))
    project = load_project(config)
    with pytest.raises(PublishError):
        run(spark, project, TUESDAY)
    assert set(contents(project).values()) == {None}
    assert statuses(project) == ["failed"]
