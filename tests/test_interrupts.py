"""SIGINT and SIGTERM stop a real `labelspark run` within seconds wherever they land: exit 130 /
143, every table reads (delta-rs) as before the run, the lock is gone, label_runs and the
callback say `failed`, and the Elasticsearch alias has not moved."""
import datetime as dt
import json
import shutil
import signal
import subprocess
import sys
import threading
import time

import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq
import pytest

from labelspark.config import load_project
from labelspark.cli.demo import CONFIG_NAME, write_demo
from labelspark.compute.run import run
from labelspark.warehouse.deltars import read_rows
from labelspark.warehouse.lock import LOCK_FILE
from tests.support.projects import table_files, with_outputs
from tests.support.search import alias_targets

MONDAY, TUESDAY = dt.date(2026, 3, 30), dt.date(2026, 3, 31)
COPIES = 120  # the demo's 500 members 120 times over: a run of several seconds on Sail


def tile(path, copies: int) -> None:
    """Rewrites a demo table with `copies` copies of its rows, each copy under its own member ids."""
    rows = pq.read_table(path)
    ids = rows.schema.get_field_index("member_id")
    copied = [rows] + [rows.set_column(ids, "member_id", pc.binary_join_element_wise(rows["member_id"], pa.scalar(f"_{k}"), ""))
                       for k in range(1, copies)]
    pq.write_table(pa.concat_tables(copied), path)


@pytest.fixture(scope="module")
def monday(spark, tmp_path_factory):
    """A project of 60,000 members with Monday computed: what each interrupted Tuesday must leave."""
    root = tmp_path_factory.mktemp("interrupts") / "project"
    config = write_demo(root)
    for table in ("members", "orders", "events"):
        tile(root / "data" / table / "part-0.parquet", COPIES)
    run(spark, load_project(config), MONDAY)
    return root


class Running:
    """`labelspark run` of Tuesday in a process of its own, its log read as it comes."""

    def __init__(self, root):
        self.process = subprocess.Popen([sys.executable, "-m", "labelspark", "run", CONFIG_NAME, "--date", "2026-03-31"],
                                        cwd=root, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
        self.log: list[str] = []
        threading.Thread(target=self._read, daemon=True).start()

    def _read(self) -> None:
        for line in self.process.stderr:
            self.log.append(line)

    def wait_until(self, reached, what: str) -> None:
        deadline = time.monotonic() + 300  # a guard against a run that never gets there, not a timing
        while not reached():
            assert self.process.poll() is None, f"the run ended before {what}:\n{''.join(self.log)}"
            assert time.monotonic() < deadline, f"the run never got to {what}"
            time.sleep(0.005)

    def logged(self, text: str):
        return lambda: any(text in line for line in self.log)


def during_the_source_passes(running: Running, root) -> None:
    running.wait_until(running.logged("pass 3/3"), "its source passes")


def after_the_snapshot_is_written(running: Running, root) -> None:
    commits = root / "warehouse" / "label_snapshot" / "_delta_log"
    before = len(list(commits.glob("*.json")))
    running.wait_until(lambda: len(list(commits.glob("*.json"))) > before, "a new label_snapshot version")


def during_publish(running: Running, root) -> None:
    running.wait_until(running.logged("/_bulk"), "its first bulk request")


@pytest.mark.parametrize("signum", [signal.SIGINT, signal.SIGTERM], ids=["SIGINT", "SIGTERM"])
@pytest.mark.parametrize("moment", [during_the_source_passes, after_the_snapshot_is_written, during_publish],
                         ids=lambda moment: moment.__name__)
def test_an_interrupted_run_leaves_the_tables_as_before(monday, tmp_path, receiver, request, moment, signum):
    root = tmp_path / "project"
    shutil.copytree(monday, root)
    before = table_files(root)
    business = receiver(200)
    outputs = {"callback": {"url": business.url, "timeout_seconds": 5}}
    if moment is during_publish:
        search_url = request.getfixturevalue("search_url")
        outputs["elasticsearch"] = {"nodes": search_url, "alias": "demo_labels", "writer": "python"}
    config = root / CONFIG_NAME
    with_outputs(config, **outputs)

    running = Running(root)
    moment(running, root)
    running.process.send_signal(signum)
    exit_code = running.process.wait(timeout=30)

    log = "".join(running.log)
    assert exit_code == 128 + signum, log
    assert table_files(root) == before
    assert not (root / "warehouse" / LOCK_FILE).exists()
    recorded = sorted(read_rows(str(root / "warehouse" / "label_runs")).to_pylist(),
                      key=lambda row: row["started_at"])
    stopped = f"Interrupted: interrupted by {signal.Signals(signum).name}"
    assert [(row["snapshot_date"], row["status"]) for row in recorded] == [(MONDAY, "succeeded"), (TUESDAY, "failed")]
    assert recorded[-1]["error"] == stopped and recorded[-1]["finished_at"] is not None
    called_back = json.loads(business.requests[-1][1])
    assert (called_back["status"], called_back["error"]) == ("failed", stopped)
    if moment is during_publish:
        assert alias_targets(search_url, "demo_labels") == []
