"""Wherever SIGINT or SIGTERM lands in a `labelspark run`, the exit code and the tables agree
(contract, "Signals"): 130/143 with every table as before the run and the run not `succeeded`,
or 0 with the run `succeeded` and its snapshot written. The signal is sent as the run logs each
phase, from its first Spark work to the summary it prints before the process ends; a signal
before the point of no return (README, "Interrupts") is honoured, one after it is not."""
import datetime as dt
import shutil
import signal
import subprocess
import sys
import threading
import time

import pyarrow.compute as pc
import pytest

from labelspark.config import load_project
from labelspark.cli.demo import CONFIG_NAME, write_demo
from labelspark.compute.run import run
from labelspark.warehouse.deltars import read_rows
from labelspark.warehouse.lock import LOCK_FILE
from tests.support.projects import table_files

MONDAY, TUESDAY = dt.date(2026, 3, 30), dt.date(2026, 3, 31)
HONOURED, EITHER, TOO_LATE = "honoured", "either", "too late"

# what Tuesday's run logs (or prints) as it gets there, and what a signal sent then must do
PHASES = [
    ("labels due", HONOURED),  # the job holds the lock; the body starts
    ("pass 1/", HONOURED),  # reading the sources
    ("writing label_snapshot partition", HONOURED),
    ("label_snapshot 2026-03-31:", HONOURED),  # the snapshot is committed
    ("label_stats 2026-03-31:", HONOURED),
    ("advanced to 2026-03-31", EITHER),  # the body's last step is done: the commit follows at once
    ("succeeded; it stands", TOO_LATE),  # past the point of no return: lock released, engine stopping
    ("labels computed,", TOO_LATE),  # the summary on stdout: the process is ending
]
# SIGINT and SIGTERM take turns through the phases; both are sent around the cut-off
SENT = [(text, outcome, signum) for k, (text, outcome) in enumerate(PHASES)
        for signum in ((signal.SIGINT, signal.SIGTERM) if outcome != HONOURED else ((signal.SIGINT, signal.SIGTERM)[k % 2],))]


@pytest.fixture(scope="module")
def monday(spark, tmp_path_factory):
    """The demo with Monday computed: what a Tuesday undone must leave."""
    root = tmp_path_factory.mktemp("sweep") / "project"
    run(spark, load_project(write_demo(root)), MONDAY)
    return root


def signalled_run(root, text: str, signum: int) -> tuple[int, str]:
    """Runs Tuesday in a process of its own and sends it `signum` as soon as its output shows
    `text`; returns its exit code and output."""
    process = subprocess.Popen([sys.executable, "-m", "labelspark", "run", CONFIG_NAME, "--date", TUESDAY.isoformat()],
                               cwd=root, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    output: list[str] = []
    seen = threading.Event()

    def read() -> None:
        for line in process.stdout:
            output.append(line)
            if text in line:
                seen.set()

    reader = threading.Thread(target=read, daemon=True)
    reader.start()
    deadline = time.monotonic() + 120  # a guard against a run that never gets there, not a timing
    while not seen.wait(0.002):
        if process.poll() is not None:  # ended: its last lines may still be on their way
            reader.join(timeout=10)
            break
        assert time.monotonic() < deadline, f"the run never showed {text!r}"
    assert seen.is_set(), f"the run ended without showing {text!r}:\n{''.join(output)}"
    process.send_signal(signum)
    exit_code = process.wait(timeout=60)
    reader.join(timeout=10)
    return exit_code, "".join(output)


def statuses(root) -> dict:
    runs = read_rows(str(root / "warehouse" / "label_runs"), ["snapshot_date", "status"])
    return dict(zip(runs["snapshot_date"].to_pylist(), runs["status"].to_pylist()))


def tuesday_rows(root) -> int:
    snapshot = read_rows(str(root / "warehouse" / "label_snapshot"), ["snapshot_date"])
    return pc.sum(pc.equal(snapshot["snapshot_date"], TUESDAY)).as_py() or 0


@pytest.mark.parametrize("text, outcome, signum", SENT,
                         ids=[f"{signal.Signals(signum).name} at {text!r}" for text, _, signum in SENT])
def test_exit_code_and_tables_agree_wherever_the_signal_lands(monday, tmp_path, text, outcome, signum):
    root = tmp_path / "project"
    shutil.copytree(monday, root)
    before = table_files(root)

    exit_code, output = signalled_run(root, text, signum)

    name = signal.Signals(signum).name
    assert exit_code in (0, 128 + signum), output
    assert not (root / "warehouse" / LOCK_FILE).exists()
    if exit_code == 0:
        assert outcome != HONOURED, output
        assert statuses(root) == {MONDAY: "succeeded", TUESDAY: "succeeded"}
        assert tuesday_rows(root) == 500
        assert f"{name} received: stopping" not in output  # never announced as undone when it was not
    else:
        assert outcome != TOO_LATE, output
        assert statuses(root) == {MONDAY: "succeeded", TUESDAY: "failed"}
        assert table_files(root) == before
        assert f"{name} received: stopping the engine's work, then undoing this run's writes" in output
