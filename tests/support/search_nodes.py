"""Real Elasticsearch and OpenSearch nodes for the tests marked `search`.

`scripts/search-node.sh` starts each (jars from Maven Central, Java 17); the `search_node`
fixture starts one node per server per test session, empty, and stops it at the end. A
machine without java or mvn skips these tests with the command that installs them; under
CI=true that is a failure instead.
"""
from __future__ import annotations

import os
import shutil
from pathlib import Path

import pytest

from tests.support.prerequisites import missing
from tests.support.scripted_server import ScriptedServer

SCRIPT = Path(__file__).resolve().parents[2] / "scripts" / "search-node.sh"
ENGINES = ("elasticsearch", "opensearch")
PREREQUISITES = {"java": "apt-get install openjdk-17-jdk-headless", "mvn": "apt-get install maven", "curl": "apt-get install curl"}


class SearchNode(ScriptedServer):
    """One node run by scripts/search-node.sh."""

    script = SCRIPT

    def __init__(self, engine: str):
        self.engine, self.arguments = engine, (engine,)

    def pid_file(self) -> Path:
        cache = Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache") / "labelspark" / "search"
        return Path(os.environ.get("LABELSPARK_SEARCH_DIR") or cache) / self.engine / "node.pid"


def missing_prerequisite() -> str | None:
    for tool, install in PREREQUISITES.items():
        if shutil.which(tool) is None:
            return f"{tool} is not installed ({install}); scripts/search-node.sh needs it"
    return None


@pytest.fixture(scope="session", params=ENGINES)
def search_node(request):
    """A running, initially empty node of each server in turn."""
    absent = missing_prerequisite()
    if absent:
        missing(absent)
    node = SearchNode(request.param)
    node.wipe()
    node.start()
    yield node
    node.stop()
