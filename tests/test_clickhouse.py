"""Publishing to ClickHouse: a real server (Debian's 18.16, scripts/clickhouse-node.sh), the demo
over three days, a server killed mid-insert, and the DDL on chdb (a current ClickHouse engine).

Oracles come from the contract: the view holds the day's snapshot as delta-rs reads it, typed
by label kind; the name moves only when the new table is complete; `retention` tables stay.
"""
import datetime as dt
import json
import math
import os
import subprocess
import sys
import threading
import time

import pytest
from chdb import session as chdb_session
from pyspark.sql import functions as F

from labelspark.cli.demo import write_demo
from labelspark.compute.run import publish_date, run
from labelspark.config import load_project
from labelspark.errors import PublishError
from labelspark.publish import clickhouse
from labelspark.publish.clickhouse_tables import table_sql, view_sql
from labelspark.warehouse.deltars import read_rows, sql_literal
from tests.support.clickhouse_node import query
from tests.support.projects import with_outputs

pytestmark = pytest.mark.clickhouse
DAYS = [dt.date(2026, 3, 29), dt.date(2026, 3, 30), dt.date(2026, 3, 31)]
VIEW = "retail_labels"


@pytest.fixture
def demo(tmp_path, clickhouse_url, clickhouse_database):
    config = write_demo(tmp_path / "demo")
    with_outputs(config, clickhouse={"url": clickhouse_url, "database": clickhouse_database, "table": VIEW, "insert_rows": 128})
    return config


def rows_of(url: str, sql: str) -> list[dict]:
    return [json.loads(line) for line in query(url, sql + " FORMAT JSONEachRow").splitlines()]


def tables(url: str, database: str) -> list[str]:
    return sorted(query(url, f"SELECT name FROM system.tables WHERE database = '{database}'").split())


def view_target(url: str, database: str) -> str:
    """The table the view reads, from its definition."""
    create = query(url, f"SHOW CREATE TABLE {database}.{VIEW}").replace("\\n", " ")
    return create.rsplit("FROM ", 1)[1].split(".", 1)[1].strip().strip("`")


def snapshot_rows(project, day: dt.date) -> dict[str, dict]:
    table = read_rows(f"{project.warehouse}/label_snapshot", where=f"snapshot_date = {sql_literal(day)}")
    return {row[project.key]: row for row in table.to_pylist()}


def as_published(label_type: str, value):
    """A snapshot value as the contract says ClickHouse holds it."""
    if label_type == "list":
        return list(value or [])
    if value is None or label_type == "number" and math.isnan(value):
        return None
    if label_type == "boolean":
        return int(value)
    return value.isoformat() if label_type == "date" else value


def test_three_days_published_the_view_on_the_newest_typed_by_kind(spark, demo, clickhouse_url, clickhouse_database):
    """Then `publish --date`, the same answers on a current ClickHouse, and a publish whose
    Elasticsearch output fails after ClickHouse loaded, which leaves every name and table."""
    project = load_project(demo)
    db, url = clickhouse_database, clickhouse_url
    kept = f"{VIEW}_20250101_kept"  # someone's table whose name looks like a snapshot's: never counted or dropped
    query(url, f"CREATE TABLE {db}.{kept} (x UInt8) ENGINE = MergeTree ORDER BY x")
    results = [run(spark, project, day) for day in DAYS]

    names = [f"{VIEW}_{day:%Y%m%d}_{result.run_id}" for day, result in zip(DAYS, results)]
    assert [result.index for result in results] == [f"{db}.{name}" for name in names]
    assert tables(url, db) == sorted([VIEW, kept, *names[1:]])  # retention 2: the oldest dropped
    assert view_target(url, db) == names[-1]

    published = {row[project.key]: row for row in rows_of(url, f"SELECT * FROM {db}.{VIEW}")}
    expected = snapshot_rows(project, DAYS[-1])
    assert published.keys() == expected.keys()
    kinds = {label.type for label in project.enabled_labels}
    assert kinds == {"string", "number", "boolean", "date", "list"}  # every kind round-trips below
    for key, row in expected.items():
        assert published[key]["snapshot_date"] == "2026-03-31"
        for label in project.enabled_labels:
            assert published[key][label.id] == as_published(label.type, row[label.id]), (key, label.id)

    again = publish_date(spark, project, DAYS[-1])  # `labelspark publish CONFIG --date D`
    assert view_target(url, db) == again.index.split(".", 1)[1]
    assert tables(url, db) == sorted([VIEW, kept, names[-1], again.index.split(".", 1)[1]])

    described = dict(line.split("\t")[:2] for line in query(url, f"DESCRIBE TABLE {db}.{names[-1]}").splitlines())
    assert described[project.key] == "String" and described["snapshot_date"] == "Date"
    by_kind = {label.type: described[label.id] for label in project.enabled_labels}
    assert by_kind == {"string": "LowCardinality(Nullable(String))", "number": "Nullable(Float64)",
                       "boolean": "Nullable(UInt8)", "date": "Nullable(Date)", "list": "Array(String)"}
    assert_the_same_on_a_current_clickhouse(project, url, db)

    # an Elasticsearch output failing after ClickHouse loaded: every name and table as it was
    before, target = tables(url, db), view_target(url, db)
    with_outputs(demo, elasticsearch={"nodes": "http://127.0.0.1:9", "alias": "demo_labels", "writer": "python"})
    with pytest.raises(PublishError):
        run(spark, load_project(demo), DAYS[-1])
    assert (tables(url, db), view_target(url, db)) == (before, target)


def assert_the_same_on_a_current_clickhouse(project, url: str, db: str) -> None:
    """The published rows copied, through the DDL for a current version, into chdb (ClickHouse
    26.9 in-process): the same answers to selections, and the view moved by EXCHANGE TABLES."""
    published = query(url, f"SELECT * FROM {db}.{VIEW} FORMAT JSONEachRow")
    current = chdb_session.Session()
    version = tuple(int(part) for part in current.query("SELECT version()", "CSV").bytes().decode().strip().strip('"').split(".")[:2])
    assert version >= (24, 1)
    current.query("CREATE DATABASE labels")
    current.query(table_sql("labels", "snapshot_1", project.key, "string", list(project.enabled_labels), version))
    current.query(view_sql("labels", VIEW, "snapshot_1"))
    current.query("INSERT INTO labels.snapshot_1 FORMAT JSONEachRow\n" + published)

    def answer(sql: str) -> str:
        return current.query(sql, "TSV").bytes().decode().strip()

    selections = [f"SELECT count() FROM {{}}.{VIEW}",
                  f"SELECT age_band, count() FROM {{}}.{VIEW} GROUP BY age_band ORDER BY age_band",
                  f"SELECT count() FROM {{}}.{VIEW} WHERE active_buyer AND has(interests, 'beauty') AND spend_90d >= 500",
                  f"SELECT max(last_order_date), countIf(last_order_date IS NULL) FROM {{}}.{VIEW}"]
    for selection in selections:
        assert answer(selection.format("labels")) == query(url, selection.format(db)).strip(), selection
    current.query("CREATE VIEW labels.next AS SELECT * FROM labels.snapshot_1 WHERE 0")
    current.query(f"EXCHANGE TABLES labels.next AND labels.{VIEW}")  # the move on Atomic databases
    assert answer(f"SELECT count() FROM labels.{VIEW}") == "0"
    current.close()


def test_a_server_killed_mid_insert_fails_the_run_and_leaves_the_view(spark, tmp_path, demo, clickhouse_node, clickhouse_database):
    """Exit 1, the view still on the day before, label_runs says failed (and the warehouse as it
    was); the day run again drops what the dead server kept of the partial table and moves the view."""
    url, db = clickhouse_node.url, clickhouse_database
    with_outputs(demo, clickhouse={"url": url, "database": db, "table": VIEW, "insert_rows": 1})
    run(spark, load_project(demo), DAYS[1])
    before = view_target(url, db)

    killed = threading.Event()
    watcher = threading.Thread(target=_crash_when_loading, args=(clickhouse_node, db, killed), daemon=True)
    watcher.start()
    failed = _labelspark("run", demo, "--date", "2026-03-31")
    watcher.join(timeout=60)
    assert killed.is_set(), "the server was not killed while the table was loading"
    assert failed.returncode == 1, failed.stderr
    assert "publishing" in failed.stderr and "failed" in failed.stderr

    clickhouse_node.start()
    assert view_target(url, db) == before
    assert any(name.endswith("_loading") for name in tables(url, db))  # the dead server could not drop it
    runs = read_rows(str(tmp_path / "demo" / "warehouse" / "label_runs")).to_pylist()
    assert sorted(r["status"] for r in runs) == ["failed", "succeeded"]

    project = load_project(demo)
    run(spark, project, DAYS[2])
    assert not any(name.endswith("_loading") for name in tables(url, db))
    assert view_target(url, db) != before
    assert len(rows_of(url, f"SELECT {project.key} FROM {db}.{VIEW}")) == 500


def test_what_clickhouse_cannot_hold_is_refused_before_any_name_moves(spark, demo, clickhouse_url, clickhouse_database, monkeypatch):
    """Duplicate entity ids, dates outside the server's date type, a table where the view goes, a wrong password."""
    db, url = clickhouse_database, clickhouse_url
    project = load_project(demo)
    run(spark, project, DAYS[0], publish=False)
    snapshot = spark.read.format("delta").load(f"{project.warehouse}/label_snapshot").drop("snapshot_date")
    with pytest.raises(PublishError, match="duplicate entity ids"):
        clickhouse.load(project, snapshot.unionByName(snapshot.limit(1)), DAYS[0], "20260329000000abcdef")
    old = snapshot.withColumn("last_order_date", F.lit(dt.date(1950, 1, 2)))
    with pytest.raises(PublishError, match=r"dates outside 1970-01-01..2149-06-06.*last_order_date \(500 rows\)"):
        clickhouse.load(project, old, DAYS[0], "20260329000000abcdef")
    assert tables(url, db) == []
    query(url, f"CREATE TABLE {db}.{VIEW} (x UInt8) ENGINE = MergeTree ORDER BY x")
    with pytest.raises(PublishError, match=f"{db}.{VIEW} is a MergeTree table, not the view"):
        clickhouse.load(project, snapshot, DAYS[0], "20260329000000abcdef")
    assert tables(url, db) == [VIEW]

    # credentials come from the environment and never show (the server's default user has none)
    monkeypatch.setenv("LS_CH_USER", "default")
    monkeypatch.setenv("LS_CH_PASSWORD", "never-shown-3141")
    with_outputs(demo, clickhouse={"url": url, "database": db, "table": "other", "username_env": "LS_CH_USER", "password_env": "LS_CH_PASSWORD"})
    with pytest.raises(PublishError) as refused:
        publish_date(spark, load_project(demo), DAYS[0])
    assert "never-shown-3141" not in str(refused.value)
    runs = read_rows(f"{project.warehouse}/label_runs").to_pylist()
    assert sorted(r["status"] for r in runs) == ["failed", "succeeded"]
    assert all("never-shown-3141" not in (r["error"] or "") for r in runs)


def test_null_items_of_a_list_are_left_out(spark):
    frame = spark.createDataFrame([("m1", ["a", None, "b"]), ("m2", None)], "member_id string, interests array<string>")
    label = type("L", (), {"id": "interests", "type": "list"})()
    project = type("P", (), {"key": "member_id"})()
    rows = [json.loads(row.row) for row in clickhouse._json_rows(frame, project, [label], DAYS[0]).collect()]
    assert sorted(rows, key=lambda r: r["member_id"]) == [
        {"member_id": "m1", "snapshot_date": "2026-03-29", "interests": ["a", "b"]},
        {"member_id": "m2", "snapshot_date": "2026-03-29"}]


def test_validate_names_the_bad_url(demo):
    with_outputs(demo, clickhouse={"url": "clickhouse:8123", "table": VIEW})
    done = _labelspark("validate", demo)
    assert done.returncode == 2
    assert "outputs.clickhouse.url: the URL needs http:// or https://" in done.stderr


def _crash_when_loading(node, database: str, killed: threading.Event) -> None:
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        try:
            loading = [name for name in tables(node.url, database) if name.endswith("_loading")]
            if loading and int(query(node.url, f"SELECT count() FROM {database}.{loading[0]}")) > 0:
                node.crash()
                killed.set()
                return
        except Exception:
            pass
        time.sleep(0.02)


def _labelspark(*args) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "labelspark", *map(str, args)], capture_output=True, text=True,
                          timeout=600, env={**os.environ, "LABELSPARK_ENGINE": os.environ.get("LABELSPARK_TEST_ENGINE", "sail")})
