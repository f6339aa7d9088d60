"""A real ClickHouse server for the tests marked `clickhouse`.

`scripts/clickhouse-node.sh` runs Debian's clickhouse-server (18.16) on 127.0.0.1; the
`clickhouse_node` fixture starts it once per test session, empty, and stops it at the end.
Each test that asks for `clickhouse_database` gets a database of its own, dropped after it.
A machine without the package skips these tests with the command that installs it; under
CI=true that is a failure instead.
"""
from __future__ import annotations

import os
import shutil
import signal
import subprocess
import time
import uuid
from dataclasses import dataclass
from pathlib import Path

import pytest
import requests

from tests.support.prerequisites import missing

SCRIPT = Path(__file__).resolve().parents[2] / "scripts" / "clickhouse-node.sh"
SERVER = Path("/usr/sbin/clickhouse-server")


def state_dir() -> Path:
    """The script's state folder (config, data, pid file, logs), by the same environment."""
    cache = Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache")
    return Path(os.environ.get("LABELSPARK_CLICKHOUSE_DIR") or cache / "labelspark" / "clickhouse")


@dataclass
class ClickHouseNode:
    """The server run by scripts/clickhouse-node.sh."""

    url: str = ""

    def _script(self, command: str) -> str:
        done = subprocess.run([str(SCRIPT), command], capture_output=True, text=True, timeout=180)
        if done.returncode != 0:
            raise RuntimeError(f"clickhouse-node.sh {command} failed:\n{done.stderr[-3000:]}")
        return done.stdout.strip()

    def start(self) -> str:
        self.url = self._script("start")
        return self.url

    def stop(self) -> None:
        self._script("stop")

    def wipe(self) -> None:
        self._script("wipe")

    def crash(self) -> None:
        """SIGKILL, as a lost machine: no shutdown, in-flight queries cut off; returns once it is gone.
        `start()` brings it back on the same data."""
        pid = int((state_dir() / "server.pid").read_text())
        os.kill(pid, signal.SIGKILL)
        while _alive(pid):
            time.sleep(0.1)


def _alive(pid: int) -> bool:
    """The process exists and is no zombie."""
    try:
        return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0] != "Z"
    except FileNotFoundError:
        return False


def missing_prerequisite() -> str | None:
    if not os.access(SERVER, os.X_OK):
        return f"{SERVER} is not installed (apt-get install -y clickhouse-server); scripts/clickhouse-node.sh needs it"
    if shutil.which("curl") is None:
        return "curl is not installed (apt-get install curl); scripts/clickhouse-node.sh needs it"
    return None


def query(url: str, sql: str, database: str | None = None) -> str:
    """Runs `sql` over HTTP (the POST body) and returns the server's text answer, e.g. TabSeparated rows."""
    response = requests.post(url, data=sql.encode("utf-8"), params={"database": database} if database else None,
                             timeout=120)
    if response.status_code != 200:
        raise RuntimeError(f"ClickHouse answered {response.status_code} to {sql[:200]!r}: {response.text[:3000]}")
    return response.text


@pytest.fixture(scope="session")
def clickhouse_node():
    """The running server, initially empty; a test may crash() and start() it (same URL)."""
    absent = missing_prerequisite()
    if absent:
        missing(absent)
    node = ClickHouseNode()
    node.wipe()
    node.start()
    yield node
    node.stop()


@pytest.fixture(scope="session")
def clickhouse_url(clickhouse_node) -> str:
    """The server's HTTP URL, http://127.0.0.1:8323 unless CLICKHOUSE_NODE_PORT says otherwise."""
    return clickhouse_node.url


@pytest.fixture
def clickhouse_database(clickhouse_node):
    """A new empty database `t_<8 hex>` for one test, dropped after it (on a running server)."""
    name = f"t_{uuid.uuid4().hex[:8]}"
    query(clickhouse_node.url, f"CREATE DATABASE {name}")
    yield name
    # a test that crashed the server may leave it stopped
    clickhouse_node.start()
    query(clickhouse_node.url, f"DROP DATABASE IF EXISTS {name}")
