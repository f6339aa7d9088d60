"""Publishing into real Elasticsearch 8 and OpenSearch 2 nodes (scripts/search-node.sh).

Each test runs once per server. The demo is computed on the test engine and published by
the python writer; what readers get is read back over HTTP and compared with a delta-rs
read of the snapshot table. The faults are real ones: a node killed in the middle of a
publish, and a bulk request that arrives after a failed publish has deleted its index.
"""
from __future__ import annotations

import datetime as dt
import os
import re
import subprocess
import sys
import threading
import time
from pathlib import Path

import pyarrow as pa
import pytest
import requests

from labelspark.config import load_project
from labelspark.cli.demo import write_demo
from labelspark.compute.run import run
from labelspark.warehouse.deltars import read_rows
from labelspark.warehouse.names import Tables
from labelspark.publish import PublishError, publish
from labelspark.publish.bulk import BulkJob, write_partition
from labelspark.publish.connection import Connection
from tests.support.projects import table_contents, with_outputs
from tests.support.search import CONFIG, ROWS, SCHEMA, alias_targets, documents, expected_documents, get, indices

from tests.support.prerequisites import missing
from tests.support.search_nodes import SCRIPT, missing_prerequisite, search_node  # noqa: F401  (the fixture)
from tests.support.spark_lines import classic_environment, python_of

pytestmark = pytest.mark.search

MONDAY, TUESDAY, WEDNESDAY = dt.date(2026, 3, 30), dt.date(2026, 3, 31), dt.date(2026, 4, 1)
FIELD_TYPE = {"string": "keyword", "number": "double", "boolean": "boolean", "date": "date", "list": "keyword"}


def demo_on(node, directory, alias: str, **elasticsearch):
    """The demo project publishing to `node` under `alias` with the python writer."""
    config = write_demo(directory)
    with_outputs(config, elasticsearch={"nodes": node.url, "alias": alias, "writer": "python", **elasticsearch})
    return load_project(config)


def snapshot_documents(project, day: dt.date) -> dict[str, dict]:
    """The day's snapshot rows read by delta-rs, as documents: nulls absent, dates as ISO text."""
    rows = read_rows(Tables(project.warehouse).snapshot).to_pylist()
    return {
        row[project.key]: {k: v.isoformat() if isinstance(v, dt.date) else v for k, v in row.items() if v is not None}
        for row in rows
        if row["snapshot_date"] == day
    }


def test_the_demo_is_published_swapped_and_retained(spark, tmp_path, search_node):
    url = search_node.url
    project = demo_on(search_node, tmp_path / "demo", "demo_days")
    monday, tuesday, wednesday = (run(spark, project, day).index for day in (MONDAY, TUESDAY, WEDNESDAY))

    assert alias_targets(url, "demo_days") == [wednesday]
    assert indices(url, "demo_days-*") == [tuesday, wednesday]  # retention 2: Monday's is gone
    assert alias_targets(url, f"loading-{wednesday}") == []  # the loading alias left at the swap
    assert get(url, "/demo_days/_count")["count"] == 500
    assert documents(url, "demo_days") == snapshot_documents(project, WEDNESDAY)
    assert documents(url, tuesday) == snapshot_documents(project, TUESDAY)  # the previous one, kept complete

    mapping = get(url, f"/{wednesday}/_mapping")[wednesday]["mappings"]
    assert mapping["dynamic"] == "strict"
    assert mapping["properties"] == {
        "member_id": {"type": "keyword"},
        "snapshot_date": {"type": "date"},
        **{label.id: {"type": FIELD_TYPE[label.type]} for label in project.enabled_labels},
    }
    settings = get(url, f"/{wednesday}/_settings")[wednesday]["settings"]["index"]
    assert settings.get("refresh_interval") != "-1" and settings.get("number_of_replicas") != "0"


def test_a_node_killed_mid_publish_fails_the_run_and_leaves_alias_and_tables(spark, tmp_path, search_node):
    url = search_node.url
    project = demo_on(search_node, tmp_path / "demo", "demo_crash", bulk_size=1)  # 500 requests: time to be cut off
    live = run(spark, project, MONDAY).index
    before = table_contents(project)

    job = subprocess.Popen([sys.executable, "-m", "labelspark", "run", str(project.file), "--date", TUESDAY.isoformat()],
                           stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    killed = threading.Thread(target=crash_once_loading, args=(search_node, "demo_crash-20260331-*", job))
    killed.start()
    output, _ = job.communicate(timeout=600)
    killed.join()
    assert job.returncode == 1, output
    assert re.search(r"labelspark: \d+ of 500 documents were not indexed into demo_crash-20260331-", output), output[-2000:]

    search_node.start()  # the same data: what a reader sees after the outage
    assert alias_targets(url, "demo_crash") == [live]
    assert documents(url, "demo_crash") == snapshot_documents(project, MONDAY)
    after = table_contents(project)
    assert after == before  # Tuesday's snapshot, stats, history... restored
    runs = read_rows(f"{project.warehouse}/label_runs").to_pylist()
    assert sorted(r["status"] for r in runs) == ["failed", "succeeded"]

    # the cleanup could not reach the node: the partial index stays, never served, until
    # the next publish deletes it (it does not count as one of the `retention` indices)
    partial = [name for name in indices(url, "demo_crash-*") if name != live]
    assert len(partial) == 1 and alias_targets(url, f"loading-{partial[0]}") == partial
    again = run(spark, project, TUESDAY).index
    assert alias_targets(url, "demo_crash") == [again]
    assert indices(url, "demo_crash-*") == sorted([live, again])


def crash_once_loading(node, pattern: str, job: subprocess.Popen) -> None:
    """Kills the node as soon as the publish has indexed a first document into `pattern`."""
    while job.poll() is None:
        stats = get(node.url, f"/{pattern}/_stats/indexing", missing_ok=True)
        if stats.get("_all", {}).get("primaries", {}).get("indexing", {}).get("index_total", 0) > 0:
            node.crash()
            return
        time.sleep(0.05)


def test_a_late_bulk_request_cannot_recreate_the_deleted_index(spark, write_config, search_node):
    """The executors' bulk requests need the index's loading alias: one that arrives after a
    failed publish deleted the index is refused, where a plain one would re-create it."""
    url = search_node.url
    project = load_project(write_config(CONFIG.format(url=url, writer="python", retention=2, extra="")))
    rows = [("m1", "2026-03-30"), ("m2", "soon")]  # `last_order` is a date: m2 is refused, the publish fails
    with pytest.raises(PublishError, match="1 of 2 documents were not indexed into shop_labels-20260331-r1"):
        publish(spark, project, spark.createDataFrame(rows, "member_id string, last_order string"), TUESDAY, "r1")
    assert indices(url, "shop_labels-*") == []

    late = BulkJob(Connection((url,)), "opensearch", "shop_labels-20260331-r1", "member_id", ("tier",), "2026-03-31")
    batch = pa.RecordBatch.from_pylist([{"member_id": "m9", "tier": "gold"}])
    [result] = [b.to_pylist()[0] for b in write_partition(late, iter([batch]))]

    assert (result["rows"], result["indexed"]) == (1, 0)
    assert "m9:" in result["errors"][0] and "404" in result["errors"][0]
    assert indices(url, "shop_labels-*") == []
    # without the loading alias the same document would have made a stray index
    stray = f"{url}/shop_labels-20260331-r2"
    requests.put(f"{stray}/_doc/m9", json={"tier": "gold"}, timeout=10).raise_for_status()
    assert indices(url, "shop_labels-*") == ["shop_labels-20260331-r2"]
    requests.delete(stray, timeout=10).raise_for_status()


def test_a_small_snapshot_round_trips_every_label_type(spark, write_config, search_node):
    url = search_node.url
    project = load_project(write_config(CONFIG.format(url=url, writer="python", retention=2, extra=", bulk_size: 2")))
    name = publish(spark, project, spark.createDataFrame(ROWS, SCHEMA).repartition(2), WEDNESDAY, "r1")

    assert alias_targets(url, "shop_labels") == [name]
    assert documents(url, "shop_labels") == expected_documents("2026-04-01")



ES_HADOOP_JOB = """
import datetime, sys
from pyspark.sql import SparkSession
from labelspark.config import load_project
from labelspark.publish import publish
nan = float("nan")
spark = (SparkSession.builder.master("local[2]").config("spark.jars", sys.argv[2])
         .config("spark.sql.session.timeZone", "UTC").getOrCreate())
snapshot = spark.createDataFrame({rows!r}, {schema!r}).repartition(2)
print(publish(spark, load_project(sys.argv[1]), snapshot, datetime.date(2026, 4, 1), "hadoop"))
"""


@pytest.mark.parametrize("search_node", ["elasticsearch"], indirect=True)  # opensearch-hadoop has no Scala 2.12 module on Maven Central
def test_es_hadoop_writes_into_real_elasticsearch(write_config, search_node):
    """ES-Hadoop (Spark 3.5, the connector of labelspark/engine/jars.txt) from a pyspark 3.5 interpreter."""
    spark35 = python_of("3.5")
    root = Path(__file__).resolve().parents[1]
    folder = subprocess.run([str(root / "scripts" / "fetch-jars.sh")], env={**os.environ, "PYTHON": spark35},
                            capture_output=True, text=True, check=True).stdout.strip().splitlines()[-1]
    [connector] = Path(folder).glob("elasticsearch-spark-30_*.jar")
    url = search_node.url
    config = write_config(CONFIG.format(url=url, writer="es-hadoop", retention=2, extra=""))

    job = subprocess.run([spark35, "-c", ES_HADOOP_JOB.format(rows=ROWS, schema=SCHEMA), str(config), str(connector)],
                         env={**classic_environment(), "PYSPARK_PYTHON": spark35, "PYTHONPATH": str(root)},
                         capture_output=True, text=True, timeout=600)
    assert job.returncode == 0, job.stderr[-3000:]
    name = job.stdout.strip().splitlines()[-1]

    assert name == "shop_labels-20260401-hadoop"
    assert alias_targets(url, "shop_labels") == [name]
    assert documents(url, "shop_labels") == expected_documents("2026-04-01")



def test_fetching_a_nodes_jars_prints_nothing(tmp_path):
    """What `start` prints before its URL on a first start: Maven's colour resets used to come first
    (ESC[0m, even in batch mode), so `start 2>&1` did not print the URL alone."""
    absent = missing_prerequisite()
    if absent:
        missing(absent)
    fetched = subprocess.run([str(SCRIPT), "fetch", "elasticsearch"], env={**os.environ, "LABELSPARK_SEARCH_DIR": str(tmp_path)},
                             stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, timeout=600)
    assert fetched.returncode == 0 and fetched.stdout == ""
    assert list((tmp_path / "elasticsearch" / "lib").glob("elasticsearch-8.14.3.jar"))
