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
import uuid
from pathlib import Path

import pytest
import requests

from tests.support.prerequisites import missing
from tests.support.scripted_server import ScriptedServer

SCRIPT = Path(__file__).resolve().parents[2] / "scripts" / "clickhouse-node.sh"
SERVER = Path("/usr/sbin/clickhouse-server")


def state_dir() -> Path:
    """The script's state folder (config, data, pid file, logs), by the same environment."""
    cache = Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache")
    return Path(os.environ.get("LABELSPARK_CLICKHOUSE_DIR") or cache / "labelspark" / "clickhouse")


class ClickHouseNode(ScriptedServer):
    """The server run by scripts/clickhouse-node.sh."""

    script = SCRIPT
    timeout = 180

    def pid_file(self) -> Path:
        return state_dir() / "server.pid"


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
