"""The read commands exit 0 every time.

`stats` and `history` used to abort at interpreter exit in about half the tries ('terminate
called without an active exception', exit 134) after printing a correct answer: deltalake's
Python filesystem left read buffers that Arrow's I/O threads freed during shutdown. The
readers now read through delta-rs' SQL engine (`scan_rows`), which never hands Arrow such buffers.
"""
import datetime as dt
import subprocess
import sys
from concurrent.futures import ThreadPoolExecutor

import pytest

from labelspark.config import load_project
from labelspark.cli.demo import write_demo
from labelspark.compute.run import run

DAY = dt.date(2026, 3, 31)
# a reader that exits right after its read is the likeliest to abort (1 in 10 before the fix;
# 1 in 2 for a script that imports only deltalake)
READ_AND_EXIT = "import sys; from labelspark.warehouse.deltars import read_rows; from labelspark.warehouse.names import Tables; " \
                "from labelspark.config import load_project; print(read_rows(Tables(load_project(sys.argv[1]).warehouse).stats).num_rows)"
COMMANDS = [
    ["-m", "labelspark", "stats", "{config}", "--label", "age_band"],
    ["-m", "labelspark", "history", "{config}", "--label", "favourite_category"],
    ["-c", READ_AND_EXIT, "{config}"],
    ["-m", "labelspark", "plan", "{config}", "--date", "2026-04-01"],
    ["-m", "labelspark", "stats", "{config}", "--label", "spend_90d", "--date", DAY.isoformat()],
]
TRIES = 50


@pytest.fixture(scope="module")
def config(spark, tmp_path_factory):
    config = write_demo(tmp_path_factory.mktemp("read_exit") / "demo")
    run(spark, load_project(config), DAY)
    return config


def test_read_commands_exit_0_every_time(config):
    def labelspark(i: int) -> subprocess.CompletedProcess:
        command = [arg.format(config=config) for arg in COMMANDS[i % len(COMMANDS)]]
        return subprocess.run([sys.executable, *command], cwd=config.parent, capture_output=True, text=True, timeout=120)

    with ThreadPoolExecutor(max_workers=2) as pool:
        done = list(pool.map(labelspark, range(TRIES)))
    failed = [(d.args[1:4], d.returncode, d.stderr[-300:]) for d in done if d.returncode != 0]
    assert not failed, f"{len(failed)} of {TRIES} read commands failed: {failed[:3]}"
    assert all(d.stdout.strip() for d in done)
