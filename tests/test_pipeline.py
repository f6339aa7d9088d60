"""The main job end to end on Sail: Delta written, read back with delta-rs (an independent reader)."""
import datetime as dt
import json

import pyarrow as pa
import pytest
from deltalake import DeltaTable

from labelspark.config import load_project
from labelspark.cli.demo import write_demo
from labelspark.compute.run import run
from labelspark.site import refresh_after_run
from labelspark.warehouse.deltars import read_rows
from tests.support.projects import with_outputs

MONDAY, TUESDAY = dt.date(2026, 3, 30), dt.date(2026, 3, 31)


@pytest.fixture
def demo(tmp_path):
    return write_demo(tmp_path / "demo")


def snapshot(project, day=None):
    path = f"{project.warehouse}/label_snapshot"
    rows = read_rows(path).to_pylist()
    if day is not None:
        rows = [row for row in rows if row["snapshot_date"] == day]
    return DeltaTable(path), sorted(rows, key=lambda row: (row["snapshot_date"], row["member_id"]))


def edit(config, old, new):
    text = config.read_text()
    assert old in text
    config.write_text(text.replace(old, new))
    return load_project(config)


def test_snapshot_has_typed_columns_and_one_partition_per_date(spark, demo):
    project = load_project(demo)
    result = run(spark, project, TUESDAY)

    table, rows = snapshot(project)
    schema = table.schema().to_arrow()
    assert table.metadata().partition_columns == ["snapshot_date"]
    assert pa.schema(schema).field("spend_90d").type == pa.float64()
    assert pa.schema(schema).field("active_buyer").type == pa.bool_()
    assert pa.schema(schema).field("last_order_date").type == pa.date32()
    assert str(pa.schema(schema).field("interests").type) in ("list<element: string>", "list<item: string>")
    assert pa.schema(schema).field("age_band").type in (pa.string(), pa.large_string(), pa.string_view())
    labels = [label.id for label in project.enabled_labels]
    assert sorted(schema.names) == sorted(["member_id", "snapshot_date", *labels])
    # every member appears in some source (members deleted in `members` still have orders or events)
    assert result.rows == len(rows) == 500
    assert {row["snapshot_date"] for row in rows} == {TUESDAY}
    assert len({row["member_id"] for row in rows}) == len(rows)


def test_rerunning_a_date_leaves_the_same_table(spark, demo):
    project = load_project(demo)
    run(spark, project, TUESDAY)
    _, first = snapshot(project)
    run(spark, project, TUESDAY)
    table, second = snapshot(project)
    assert second == first
    assert len(table.history()) == 2  # one commit per run, no duplicate rows


def test_dates_accumulate_and_a_removed_label_leaves_every_date(spark, demo):
    project = load_project(demo)
    run(spark, project, MONDAY)
    run(spark, project, TUESDAY)
    _, before = snapshot(project)

    project = edit(demo, "id: city_tier\n    name: City tier\n    group: Demographics/Location\n    type: string\n    method: rules",
                   "id: city_tier\n    name: City tier\n    group: Demographics/Location\n    type: string\n    status: disabled\n    method: rules")
    run(spark, project, TUESDAY)
    table, after = snapshot(project)
    assert "city_tier" not in table.schema().to_arrow().names
    assert {row["snapshot_date"] for row in after} == {MONDAY, TUESDAY}
    monday_before = [{k: v for k, v in row.items() if k != "city_tier"} for row in before if row["snapshot_date"] == MONDAY]
    assert [row for row in after if row["snapshot_date"] == MONDAY] == monday_before


def test_a_new_label_adds_a_column_and_keeps_older_dates(spark, demo):
    project = load_project(demo)
    run(spark, project, MONDAY)
    project = edit(demo, "segments:", "  - {id: orders_ever, type: number, method: metric, indicator: orders_total}\nsegments:")
    run(spark, project, TUESDAY)
    _, rows = snapshot(project)
    assert {row["orders_ever"] for row in rows if row["snapshot_date"] == MONDAY} == {None}
    tuesday = [row["orders_ever"] for row in rows if row["snapshot_date"] == TUESDAY]
    assert all(value is not None for value in tuesday) and max(tuesday) > 0


def test_a_label_not_due_keeps_its_last_computed_values(spark, demo):
    project = load_project(demo)  # `lapsed` is weekly:MON, `vip_list` monthly:1
    run(spark, project, MONDAY)
    _, monday = snapshot(project, MONDAY)
    (demo.parent / "data" / "vip.csv").write_text("member_id,is_vip\n")  # would blank vip_list if recomputed
    result = run(spark, project, TUESDAY)
    assert set(result.carried) == {"lapsed", "vip_list"}
    _, tuesday = snapshot(project, TUESDAY)
    kept = {row["member_id"]: (row["lapsed"], row["vip_list"]) for row in monday}
    assert any(vip for _, vip in kept.values())
    for row in tuesday:
        assert (row["lapsed"], row["vip_list"]) == kept.get(row["member_id"], (None, None))


def test_only_the_requested_labels_are_recomputed(spark, demo):
    project = load_project(demo)
    run(spark, project, TUESDAY)
    _, before = snapshot(project)
    (demo.parent / "data" / "vip.csv").write_text("member_id,is_vip\n")
    result = run(spark, project, TUESDAY, only=["vip_list"])
    assert result.labels == ["vip_list"]
    _, after = snapshot(project)
    assert all(row["vip_list"] is None for row in after)
    strip = lambda rows: [{k: v for k, v in row.items() if k != "vip_list"} for row in rows]  # noqa: E731
    assert strip(after) == strip(before)


def test_delta_log_records_one_partition_replacement_per_rerun(spark, demo):
    project = load_project(demo)
    run(spark, project, MONDAY)
    run(spark, project, TUESDAY)
    run(spark, project, TUESDAY)
    table, rows = snapshot(project)
    assert {row["snapshot_date"] for row in rows} == {MONDAY, TUESDAY}
    assert len(rows) == 2 * len({row["member_id"] for row in rows if row["snapshot_date"] == TUESDAY})
    history = table.history()  # newest first
    assert [entry["operation"] for entry in history] == ["WRITE", "WRITE", "CREATE TABLE"]
    assert "snapshot_date" in str(history[0]["operationParameters"].get("predicate"))


def test_a_run_refreshes_the_label_portal_and_a_portal_it_cannot_write_never_fails_it(spark, demo):
    with_outputs(demo, site="site")  # the CLI's run gives the job the portal's refresh as its last step
    project = load_project(demo)
    run(spark, project, MONDAY, after_success=lambda: refresh_after_run(project))
    index = (demo.parent / "site" / "index.html").read_text(encoding="utf-8")
    assert "Age band" in index

    with_outputs(demo, site="elsewhere")
    (demo.parent / "elsewhere").mkdir()
    (demo.parent / "elsewhere" / "notes.txt").write_text("not a site")  # a directory the portal must not replace
    project = load_project(demo)
    result = run(spark, project, TUESDAY, after_success=lambda: refresh_after_run(project))
    assert result.rows == 500
    runs = sorted(read_rows(f"{demo.parent}/warehouse/label_runs").to_pylist(), key=lambda r: r["started_at"])
    assert [r["status"] for r in runs] == ["succeeded", "succeeded"]
    assert "site not refreshed" in json.loads(runs[-1]["details"])["site_error"]
    assert (demo.parent / "elsewhere" / "notes.txt").exists()
