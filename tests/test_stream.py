"""Real-time labels: `labelspark stream` on classic Spark against a real Elasticsearch node.

One stream's day, in order: rows appended to the Delta source reach their documents, equal to
what a batch run over the same rows computes at that moment (the oracle: `run --snapshot-to`
for today, on the test engine); the driver killed with SIGKILL in the middle of a batch and
started again, every change once in label_updates; a nightly run and publish while rows keep
coming, no update lost on the new index; SIGTERM, exit 143 between batches. And the README's
example on the demo, as written.
"""
from __future__ import annotations

import datetime as dt
import json
import os
import re
import signal
import subprocess
import sys
import time
from collections import Counter
from pathlib import Path

import pyarrow.parquet as pq
import pytest

from labelspark.compute.run import compute_to_parquet, run
from labelspark.config import load_project
from labelspark.warehouse.deltars import read_rows
from labelspark.warehouse.names import Tables
from tests.support.search import documents
from tests.support.search_nodes import search_node  # noqa: F401  (the fixture)
from tests.support.spark_lines import classic_environment
from tests.support.streaming import MEMBERS, WEEK_BUYERS, StreamProcess, append_orders, now_orders, write_project

README = Path(__file__).resolve().parents[1] / "README.md"
REALTIME = ("orders_today", "spender", "channels_used")
DOCUMENT_SECONDS = 90  # a row's document is updated within this (a batch takes seconds; CI machines are slow)


def oracle(spark, project, day: dt.date, directory) -> dict[str, dict]:
    """Every entity's labels as a batch run over the rows there are now computes them for `day`."""
    compute_to_parquet(spark, project, day, str(directory))
    rows = pq.read_table(directory / f"snapshot_date={day.isoformat()}").to_pylist()
    return {row[project.key]: _present(row) for row in rows}


def _present(document: dict) -> dict:
    return {k: sorted(v) if isinstance(v, list) else v for k, v in document.items() if v is not None and k != "snapshot_date"}


def expected_documents(nightly: dict[str, dict], truth: dict[str, dict], touched: set[str]) -> dict[str, dict]:
    """The nightly documents, with the real-time labels of the touched entities as `truth` has them."""
    expected = {}
    for member in nightly.keys() | touched:
        document = {k: v for k, v in nightly.get(member, {"member_id": member}).items() if k not in REALTIME or member not in touched}
        if member in touched:
            document.update({k: v for k, v in truth[member].items() if k in REALTIME})
        expected[member] = document
    return expected


def wait_for_documents(url: str, expected: dict[str, dict], timeout: float) -> float:
    """Seconds until the alias serves exactly `expected` (snapshot_date aside); fails with the difference."""
    started = time.monotonic()
    while True:
        found = {member: _present(document) for member, document in documents(url, "live_labels").items()}
        if found == expected:
            return time.monotonic() - started
        if time.monotonic() - started > timeout:
            wrong = {m: (found.get(m), expected.get(m)) for m in found.keys() | expected.keys() if found.get(m) != expected.get(m)}
            raise AssertionError(f"after {timeout}s, documents (found, expected) differ: {wrong}")
        time.sleep(0.5)


@pytest.mark.search
@pytest.mark.parametrize("search_node", ["elasticsearch"], indirect=True)
def test_a_streaming_day_updates_documents_once_across_a_crash_and_a_nightly_publish(spark, tmp_path, search_node):
    url = search_node.url
    today = dt.datetime.now(dt.timezone.utc).date()
    yesterday = today - dt.timedelta(days=1)
    config = write_project(tmp_path, url, today)
    project = load_project(config)
    run(spark, project, yesterday)
    nightly = original = {member: _present(document) for member, document in documents(url, "live_labels").items()}
    stream = StreamProcess(config, tmp_path / "stream.log")
    stream.start()
    try:
        # new rows reach their documents, as a batch run over the same rows has them; the first start
        # reads the source's last commit again (the week's orders): their buyers are as of now too
        first = set(MEMBERS[:6]) | {"m99"} | set(WEEK_BUYERS)  # m99: a new member, not in the index yet
        append_orders(tmp_path, now_orders(sorted(set(MEMBERS[:6]) | {"m99"}), 60.0, "web"))
        seconds = wait_for_documents(url, expected_documents(nightly, oracle(spark, project, today, tmp_path / "o1"), first), DOCUMENT_SECONDS)
        print(f"first rows to their documents: {seconds:.1f}s")

        # the driver killed in the middle of a batch, its changes appended but neither sent nor the
        # batch done, started again: the batch runs again, each change once, its documents sent
        second = set(MEMBERS[4:12])
        appended = len(stream.text().split("changes appended")) - 1
        append_orders(tmp_path, now_orders(sorted(second), 45.0, "store"))
        stream.wait_for(r"batch \d+: changes appended", 60, count=appended + 1)
        stream.kill()
        stream.start()
        touched = first | second
        wait_for_documents(url, expected_documents(nightly, oracle(spark, project, today, tmp_path / "o2"), touched), DOCUMENT_SECONDS)

        # a nightly run and publish while rows keep coming: the new index gets the day's updates
        third = set(MEMBERS[10:16])
        append_orders(tmp_path, now_orders(sorted(third), 5.0, "web"))
        republished = run(spark, project, yesterday)
        fourth = set(MEMBERS[14:20])
        append_orders(tmp_path, now_orders(sorted(fourth), 70.0, "app"))
        touched |= third | fourth
        nightly = {member: _present(document) for member, document in documents(url, republished.index).items()}
        truth = oracle(spark, project, today, tmp_path / "o3")
        wait_for_documents(url, expected_documents(nightly, truth, touched), DOCUMENT_SECONDS)

        assert stream.signal(signal.SIGTERM) == 143
        assert "stopped by SIGTERM between batches" in stream.text()
    finally:
        stream.stop()

    updates = read_rows(Tables(project.warehouse).updates).to_pylist()
    changes = Counter((row["member_id"], row["label_id"], row["value"], row["previous_value"]) for row in updates)
    assert [change for change, times in changes.items() if times > 1] == []  # every change once, the crash's batch too
    latest = {}
    for row in sorted(updates, key=lambda row: (row["updated_at"], row["batch_id"])):
        latest[(row["member_id"], row["label_id"])] = row["value"]
    assert latest == {(member, label): _text(truth[member].get(label)) for member, label in latest}  # each as of now
    changed = {(member, label) for member in touched for label in REALTIME if truth[member].get(label) != original.get(member, {}).get(label)}
    assert changed <= latest.keys()  # a value the nightly had not is recorded
    assert {row["snapshot_date"] for row in updates} == {today}


def _text(value) -> str | None:
    """A value's text form in label_history and label_updates: plain decimals, lists as sorted JSON arrays."""
    if isinstance(value, float):
        return str(int(value)) if value.is_integer() else repr(value)
    if isinstance(value, list):
        return json.dumps(sorted(value), separators=(",", ":"))
    return value


def test_the_readmes_real_time_example_runs_on_the_demo(tmp_path):
    section = README.read_text(encoding="utf-8").split("## Real-time labels", 1)[1].split("\n## ", 1)[0]
    block = re.search(r"```bash\n(.*?)```", section, re.S).group(1)
    path = f"{Path(sys.executable).parent}{os.pathsep}{os.environ['PATH']}"
    done = subprocess.run(["bash", "-e", "-c", block], cwd=tmp_path, capture_output=True, text=True, timeout=600,
                          env={**classic_environment(), "PATH": path, "PYSPARK_PYTHON": sys.executable})
    assert done.returncode == 0, done.stderr[-3000:]
    assert re.search(r"batch 0: 400 entities, \d+ changes", done.stderr)  # every buyer's orders, read at the first start
    assert "recent_buyer during the day" in done.stdout
