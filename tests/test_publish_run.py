"""`labelspark run` and `labelspark publish` with Elasticsearch and the callback: real servers."""
import datetime as dt
import hashlib
import hmac
import json

import pytest

from labelspark.config import load_project
from labelspark.cli.demo import write_demo
from tests.support.projects import with_outputs
from labelspark.compute.run import publish_date, run
from labelspark.publish import PublishError
from labelspark.warehouse.deltars import read_rows
from tests.support.search import alias_targets, documents, indices

MONDAY, TUESDAY = dt.date(2026, 3, 30), dt.date(2026, 3, 31)
SECRET_ENV = "LS_TEST_RUN_SECRET"


@pytest.fixture
def demo(tmp_path, search_url, receiver, monkeypatch):
    """The demo project publishing to this test's cluster and calling back a local receiver."""
    monkeypatch.setenv(SECRET_ENV, "demo-secret")
    config = write_demo(tmp_path / "demo")
    business = receiver(200)
    with_outputs(config, elasticsearch={"nodes": search_url, "alias": "demo_labels", "writer": "python"},
                 callback={"url": business.url, "secret_env": SECRET_ENV, "timeout_seconds": 5})
    return load_project(config), business


def runs_of(project):
    return sorted(read_rows(f"{project.warehouse}/label_runs").to_pylist(), key=lambda r: r["started_at"])


def test_each_run_publishes_records_its_index_and_calls_back(spark, demo, search_url):
    project, business = demo
    first = run(spark, project, MONDAY)
    second = run(spark, project, TUESDAY)

    assert alias_targets(search_url, "demo_labels") == [second.index]
    assert indices(search_url, "demo_labels-*") == sorted([first.index, second.index])  # retention 2
    published = documents(search_url, "demo_labels")
    assert len(published) == second.rows == 500
    assert {doc["snapshot_date"] for doc in published.values()} == {"2026-03-31"}

    recorded = runs_of(project)
    assert [(r["status"], r["index"]) for r in recorded] == [("succeeded", first.index), ("succeeded", second.index)]
    assert len(business.requests) == 2
    headers, body = business.requests[-1]
    payload = json.loads(body)
    assert payload == {"name": "demo_retail", "run_id": second.run_id, "snapshot_date": "2026-03-31", "status": "succeeded",
                       "labels": second.labels, "rows": 500, "index": second.index, "error": None}
    expected = "sha256=" + hmac.new(b"demo-secret", body, hashlib.sha256).hexdigest()
    assert headers["X-Labelspark-Signature"] == expected


def test_no_publish_writes_the_tables_only(spark, demo, search_url):
    project, business = demo
    result = run(spark, project, TUESDAY, publish=False)
    assert result.index is None and indices(search_url, "demo_labels-*") == [] and business.requests == []
    assert runs_of(project)[-1]["status"] == "succeeded"


def test_publish_command_republishes_a_date(spark, demo, search_url):
    project, business = demo
    run(spark, project, MONDAY, publish=False)
    again = publish_date(spark, project, MONDAY)
    assert alias_targets(search_url, "demo_labels") == [again.index]
    assert {doc["snapshot_date"] for doc in documents(search_url, "demo_labels").values()} == {"2026-03-30"}
    assert runs_of(project)[-1]["index"] == again.index
    assert json.loads(business.requests[-1][1])["index"] == again.index


def test_a_failed_publish_fails_the_run_and_leaves_the_alias(spark, demo, search_url):
    project, business = demo
    good = run(spark, project, MONDAY)
    # the same project, its cluster unreachable on Tuesday
    project.file.write_text(project.file.read_text().replace(search_url, "http://127.0.0.1:9"))
    with pytest.raises(PublishError):
        run(spark, load_project(project.file), TUESDAY)
    assert alias_targets(search_url, "demo_labels") == [good.index]
    last = runs_of(project)[-1]
    assert last["status"] == "failed" and "PublishError" in last["error"]
    assert json.loads(business.requests[-1][1])["status"] == "failed"
    # a failed step undoes the run: Tuesday's snapshot, written before publishing, is rolled back
    assert {r["snapshot_date"] for r in read_rows(f"{project.warehouse}/label_snapshot").to_pylist()} == {MONDAY}


def test_a_failed_callback_is_recorded_and_the_run_succeeds(spark, tmp_path, search_url, receiver, monkeypatch):
    monkeypatch.setenv(SECRET_ENV, "x")
    config = write_demo(tmp_path / "demo")
    down = receiver(503)
    with_outputs(config, callback={"url": down.url, "timeout_seconds": 2})
    project = load_project(config)
    result = run(spark, project, TUESDAY)
    assert result.rows == 500
    last = runs_of(project)[-1]
    assert last["status"] == "succeeded"
    assert "503" in json.loads(last["details"])["callback_error"]
    assert len(down.requests) == 4  # the first try and three retries
