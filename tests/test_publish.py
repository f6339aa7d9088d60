"""Publishing on Sail against a real OpenSearch-compatible server (osmem-server).

The demo runs end to end (Delta snapshot on Sail) and each date's partition is published;
the other tests publish small hand-made snapshots. Everything is checked over HTTP.
"""
from __future__ import annotations

import datetime as dt
import logging
import socket

import pytest
import requests
from pyspark.sql import functions as F

from labelspark.config import load_project
from labelspark.cli.demo import write_demo
from labelspark.compute.run import run
from labelspark.warehouse.deltars import read_rows
from labelspark.warehouse.names import Tables
from labelspark.publish import PublishError, publish
from tests.support.projects import with_labels_disabled, with_outputs
from tests.support.search import ROWS, SCHEMA, alias_targets, documents, expected_documents, get, indices

MONDAY, TUESDAY, WEDNESDAY = dt.date(2026, 3, 30), dt.date(2026, 3, 31), dt.date(2026, 4, 1)
FIELD_TYPE = {"string": "keyword", "number": "double", "boolean": "boolean", "date": "date", "list": "keyword"}


def demo_project(config, url, disabled=()):
    """The demo, publishing to `url`, with `disabled` labels switched off."""
    with_outputs(config, elasticsearch={"nodes": url, "alias": "demo_labels"})
    with_labels_disabled(config, *disabled)
    return load_project(config)


def run_and_publish(spark, project, day, run_id):
    run(spark, project, day, publish=False)  # the tables only: this test publishes with its own run ids
    snapshot = spark.read.format("delta").load(Tables(project.warehouse).snapshot)
    partition = snapshot.where(F.col("snapshot_date") == F.lit(day)).drop("snapshot_date")
    return publish(spark, project, partition, day, run_id)


def snapshot_documents(project, day):
    """The day's snapshot rows read by delta-rs, as a reader expects them: nulls absent, dates as ISO text."""
    rows = read_rows(Tables(project.warehouse).snapshot).to_pylist()
    return {
        row["member_id"]: {key: value.isoformat() if isinstance(value, dt.date) else value for key, value in row.items() if value is not None}
        for row in rows
        if row["snapshot_date"] == day
    }


def test_two_demo_runs_published_the_alias_on_the_newest(spark, tmp_path, search_url):
    config = write_demo(tmp_path / "demo")
    monday = run_and_publish(spark, demo_project(config, search_url), MONDAY, "r1")
    project = demo_project(config, search_url, disabled=["whale_watch"])
    tuesday = run_and_publish(spark, project, TUESDAY, "r2")

    assert (monday, tuesday) == ("demo_labels-20260330-r1", "demo_labels-20260331-r2")
    assert alias_targets(search_url, "demo_labels") == [tuesday]
    assert indices(search_url) == [monday, tuesday]  # retention 2: the new and the previous
    expected = snapshot_documents(project, TUESDAY)
    assert len(expected) == 500
    assert get(search_url, "/demo_labels/_count")["count"] == 500
    assert documents(search_url, "demo_labels") == expected

    mapping = get(search_url, f"/{tuesday}/_mapping")[tuesday]["mappings"]
    assert mapping["dynamic"] == "strict"
    assert mapping["properties"] == {
        "member_id": {"type": "keyword"},
        "snapshot_date": {"type": "date"},
        **{label.id: {"type": FIELD_TYPE[label.type]} for label in project.enabled_labels},
    }
    assert "whale_watch" not in mapping["properties"]
    assert "whale_watch" in get(search_url, f"/{monday}/_mapping")[monday]["mappings"]["properties"]
    assert {label.type for label in project.enabled_labels} == set(FIELD_TYPE)

    settings = get(search_url, f"/{tuesday}/_settings")[tuesday]["settings"]["index"]
    assert settings.get("refresh_interval") != "-1" and settings.get("number_of_replicas") != "0"


def test_retention_deletes_the_oldest_of_this_alias_only(spark, shop, search_url):
    project = shop()
    snapshot = spark.createDataFrame(ROWS, SCHEMA)
    requests.put(f"{search_url}/shop_labels-manual-copy", json={}, timeout=10).raise_for_status()
    names = [publish(spark, project, snapshot, day, "r") for day in (MONDAY, TUESDAY, WEDNESDAY)]

    assert alias_targets(search_url, "shop_labels") == [names[2]]
    assert indices(search_url) == ["shop_labels-20260331-r", "shop_labels-20260401-r", "shop_labels-manual-copy"]
    assert documents(search_url, "shop_labels") == expected_documents("2026-04-01")


def test_retention_one_keeps_only_the_live_index(spark, shop, search_url):
    project = shop(retention=1)
    snapshot = spark.createDataFrame(ROWS, SCHEMA)
    publish(spark, project, snapshot, MONDAY, "a")
    live = publish(spark, project, snapshot, TUESDAY, "b")

    assert indices(search_url) == [live] == alias_targets(search_url, "shop_labels")


def test_a_publish_failing_midway_leaves_the_alias_and_no_partial_index(spark, shop, search_url):
    project = shop()
    good = publish(spark, project, spark.createDataFrame(ROWS, SCHEMA), MONDAY, "r1")
    # `last_order` is a date label; two of these values are no dates, so the strict mapping refuses them
    rows = [(f"n{i}", f"2026-03-{i + 1:02d}") for i in range(20)] + [("bad1", "31/03/2026"), ("bad2", "soon")]
    broken = spark.createDataFrame(rows, "member_id string, last_order string").repartition(3)

    with pytest.raises(PublishError, match="2 of 22 documents were not indexed into shop_labels-20260331-r2"):
        publish(spark, project, broken, TUESDAY, "r2")

    assert alias_targets(search_url, "shop_labels") == [good]
    assert indices(search_url) == [good]
    assert documents(search_url, "shop_labels") == expected_documents("2026-03-30")


def test_republishing_a_run_id_fails_and_leaves_the_live_index(spark, shop, search_url):
    project = shop()
    snapshot = spark.createDataFrame(ROWS, SCHEMA)
    live = publish(spark, project, snapshot, MONDAY, "r1")

    with pytest.raises(PublishError, match="resource_already_exists_exception"):
        publish(spark, project, snapshot, MONDAY, "r1")

    assert alias_targets(search_url, "shop_labels") == [live]
    assert len(documents(search_url, "shop_labels")) == 5


def test_es_hadoop_writer_on_sail_fails_cleanly(spark, shop, search_url):
    """Sail has no es-hadoop connector: the error is a PublishError and nothing is left behind."""
    project = shop(writer="es-hadoop")
    with pytest.raises(PublishError, match="publishing shop_labels-20260330-r1 failed"):
        publish(spark, project, spark.createDataFrame(ROWS, SCHEMA), MONDAY, "r1")
    assert indices(search_url) == []


def test_an_unreachable_cluster_is_a_clear_error(spark, shop):
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        closed = f"http://127.0.0.1:{probe.getsockname()[1]}"
    with pytest.raises(PublishError, match=r"GET /: no node answered \(http://127.0.0.1:\d+\)"):
        publish(spark, shop(url=closed), spark.createDataFrame(ROWS, SCHEMA), MONDAY, "r1")


def test_a_dead_node_is_skipped(spark, shop, search_url):
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        dead = f"http://127.0.0.1:{probe.getsockname()[1]}"
    project = shop(url=f"{dead},{search_url}")
    name = publish(spark, project, spark.createDataFrame(ROWS, SCHEMA), MONDAY, "r1")
    assert alias_targets(search_url, "shop_labels") == [name]
    assert len(documents(search_url, "shop_labels")) == 5


def test_credentials_come_from_the_environment_and_are_never_logged(spark, shop, search_url, monkeypatch, caplog):
    project = shop(username_env="LS_TEST_ES_USER", password_env="LS_TEST_ES_PASSWORD")
    snapshot = spark.createDataFrame(ROWS, SCHEMA)
    with pytest.raises(PublishError, match="username_env names the environment variable LS_TEST_ES_USER, which is not set"):
        publish(spark, project, snapshot, MONDAY, "r1")

    monkeypatch.setenv("LS_TEST_ES_USER", "reader")
    monkeypatch.setenv("LS_TEST_ES_PASSWORD", "pw-Secret-4711")
    caplog.set_level(logging.DEBUG)
    publish(spark, project, snapshot, MONDAY, "r1")
    assert "shop_labels-20260330-r1" in caplog.text
    assert "pw-Secret-4711" not in caplog.text
