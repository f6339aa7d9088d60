"""Real Elasticsearch and OpenSearch nodes for the tests marked `search`.

`scripts/search-node.sh` starts each (jars from Maven Central, Java 17); the `search_node`
fixture starts one node per server per test session, empty, and stops it at the end. A
machine without java or mvn skips these tests with the command that installs them; under
CI=true that is a failure instead.
"""
from __future__ import annotations

import os
import shutil
import signal
import subprocess
import time
from dataclasses import dataclass
from pathlib import Path

import pytest

from tests.support.prerequisites import missing

SCRIPT = Path(__file__).resolve().parents[2] / "scripts" / "search-node.sh"
ENGINES = ("elasticsearch", "opensearch")
PREREQUISITES = {"java": "apt-get install openjdk-17-jdk-headless", "mvn": "apt-get install maven", "curl": "apt-get install curl"}


@dataclass
class SearchNode:
    """One node run by scripts/search-node.sh."""

    engine: str
    url: str = ""

    def _script(self, command: str) -> str:
        done = subprocess.run([str(SCRIPT), command, self.engine], capture_output=True, text=True, timeout=600)
        if done.returncode != 0:
            raise RuntimeError(f"search-node.sh {command} {self.engine} failed:\n{done.stderr[-3000:]}")
        return done.stdout.strip()

    def start(self) -> str:
        self.url = self._script("start")
        return self.url

    def stop(self) -> None:
        self._script("stop")

    def wipe(self) -> None:
        self._script("wipe")

    def crash(self) -> None:
        """SIGKILL, as a lost machine: no shutdown, in-flight requests cut off; returns once it is gone."""
        cache = Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache") / "labelspark" / "search"
        pid = int((Path(os.environ.get("LABELSPARK_SEARCH_DIR") or cache) / self.engine / "node.pid").read_text())
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
