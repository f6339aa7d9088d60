"""A server the tests run through one of the project's scripts (`start` prints its URL, `stop`,
`wipe`), and can kill as a lost machine would: the part search nodes and ClickHouse share."""
from __future__ import annotations

import os
import signal
import subprocess
import time
from pathlib import Path


class ScriptedServer:
    """`script` with `arguments` after each command; the server's pid is in `pid_file()`."""

    script: Path
    arguments: tuple[str, ...] = ()
    timeout = 600
    url: str = ""

    def pid_file(self) -> Path:
        raise NotImplementedError

    def _script(self, command: str) -> str:
        done = subprocess.run([str(self.script), command, *self.arguments], capture_output=True, text=True, timeout=self.timeout)
        if done.returncode != 0:
            raise RuntimeError(f"{self.script.name} {' '.join([command, *self.arguments])} failed:\n{done.stderr[-3000:]}")
        return done.stdout.strip()

    def start(self) -> str:
        self.url = self._script("start")
        return self.url

    def stop(self) -> None:
        self._script("stop")

    def wipe(self) -> None:
        self._script("wipe")

    def crash(self) -> None:
        """SIGKILL, as a lost machine: no shutdown, in-flight requests cut off; returns once it
        is gone. `start()` brings it back on the same data."""
        pid = int(self.pid_file().read_text())
        os.kill(pid, signal.SIGKILL)
        while alive(pid):
            time.sleep(0.1)


def alive(pid: int) -> bool:
    """The process exists and is no zombie."""
    try:
        return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0] != "Z"
    except FileNotFoundError:
        return False
