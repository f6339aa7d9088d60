"""Shared fixtures: one Spark session per test run, on the engine LABELSPARK_TEST_ENGINE names.

`sail` (default) runs every test. `spark` (classic local PySpark with delta-spark) runs the
tests marked `portable`: those whose answers must hold on every engine (computing, and the
Delta writes whose layout differs by engine: history's day, compaction). Classic and Connect
sessions cannot share a process (pyspark.sql.functions picks one Column flavour), so the
two engines are two pytest runs; `scripts/test.sh` runs both.
"""
from __future__ import annotations

import os
import textwrap
from pathlib import Path

import pytest

from labelspark.engine.sessions import open_session

ENGINE = os.environ.get("LABELSPARK_TEST_ENGINE", "sail")

# fixtures of real servers: an in-memory OpenSearch (publishing), an HTTP receiver (callbacks)
# and ClickHouse (clickhouse_node, clickhouse_url, clickhouse_database)
pytest_plugins = ["tests.support.search", "tests.support.receiver", "tests.support.clickhouse_node"]


def pytest_collection_modifyitems(config, items):
    if ENGINE == "sail":
        return
    keep = [item for item in items if item.get_closest_marker("portable")]
    dropped = [item for item in items if not item.get_closest_marker("portable")]
    if dropped:
        config.hook.pytest_deselected(items=dropped)
        items[:] = keep


@pytest.fixture(scope="session")
def spark():
    with open_session(ENGINE) as session:
        session.conf.set("spark.sql.shuffle.partitions", "2")
        session.conf.set("spark.sql.session.timeZone", "UTC")
        yield session


@pytest.fixture(autouse=True)
def _utc_session(request):
    """Each test starts in UTC: runs set the session timezone to their project's."""
    if "spark" in request.fixturenames:
        request.getfixturevalue("spark").conf.set("spark.sql.session.timeZone", "UTC")


@pytest.fixture
def write_config(tmp_path: Path):
    """Writes YAML text (dedented) to a config file in tmp_path and returns its path."""

    def write(text: str, name: str = "labelspark.yaml") -> Path:
        path = tmp_path / name
        path.write_text(textwrap.dedent(text), encoding="utf-8")
        return path

    return write
