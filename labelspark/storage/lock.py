"""One run at a time per warehouse: a lock file `_labelspark.lock` at the warehouse root.

On a local or mounted filesystem the lock is taken with an exclusive create (O_EXCL), which
is atomic: of two runs that race, exactly one gets it. A lock whose process is gone (same
host, pid not alive) or that is older than its time-to-live is stale and taken over with a
warning; the run that takes it over first undoes the dead run's writes, from the table
versions that run noted in the lock. Object stores (s3a://, gs://, abfs://) have no atomic create-if-absent through
pyarrow: there the lock is advisory (check, then write), a race of milliseconds remains, and
the orchestrator's one-run-at-a-time setting (`max_active_runs=1`) is the hard guarantee.
"""
from __future__ import annotations

import contextlib
import datetime as dt
import json
import logging
import os
import socket
from dataclasses import dataclass
from pathlib import Path
from typing import Iterator

from pyarrow import fs as pafs

from labelspark.errors import LabelsparkError

LOCK_FILE = "_labelspark.lock"
TIME_TO_LIVE = dt.timedelta(hours=24)
log = logging.getLogger(__name__)


class WarehouseLocked(LabelsparkError):
    """Another run holds the warehouse."""


@dataclass(frozen=True)
class Holder:
    run_id: str
    pid: int
    host: str
    since: dt.datetime

    def describe(self) -> str:
        return f"run {self.run_id} (pid {self.pid} on {self.host}) since {self.since.isoformat(timespec='seconds')}"

    def is_stale(self, now: dt.datetime) -> bool:
        if now - self.since > TIME_TO_LIVE:
            return True
        if self.host != socket.gethostname():
            return False  # another machine's process cannot be checked from here
        try:
            os.kill(self.pid, 0)
        except ProcessLookupError:
            return True
        except PermissionError:
            return False
        return False


@dataclass
class Held:
    """The lock of a running run. `abandoned` holds what a dead run it took over had noted
    (its table versions), so its writes can be undone before anything else."""

    lock: "_LockFile"
    holder: Holder
    config: Path
    abandoned: dict | None = None

    def note(self, versions: dict) -> None:
        """Writes the run's table versions into the lock, for whoever takes over if this process dies."""
        self.lock.write(self.holder, self.config, versions)


@contextlib.contextmanager
def warehouse_lock(warehouse: str, run_id: str, config: Path) -> Iterator[Held]:
    """Holds the warehouse for one run; raises WarehouseLocked while another live run holds it."""
    lock = _LockFile(warehouse)
    holder = Holder(run_id, os.getpid(), socket.gethostname(), dt.datetime.now(dt.timezone.utc))
    abandoned = lock.acquire(holder, config)
    try:
        yield Held(lock, holder, config, abandoned)
    finally:
        lock.release(holder)


def clear_lock(warehouse: str) -> tuple[Holder | None, dict | None]:
    """Removes the lock (for a run known to be gone); returns who held it and the versions it noted."""
    lock = _LockFile(warehouse)
    holder, versions = lock.read(), lock.noted()
    lock.remove()
    return holder, versions


class _LockFile:
    def __init__(self, warehouse: str):
        self.local = "://" not in warehouse or warehouse.startswith("file://")
        root = warehouse.removeprefix("file://")
        if self.local:
            self.path = str(Path(root) / LOCK_FILE)
        else:
            self.filesystem, base = pafs.FileSystem.from_uri(warehouse)
            self.path = f"{base.rstrip('/')}/{LOCK_FILE}"

    def acquire(self, holder: Holder, config: Path) -> dict | None:
        """Takes the lock; returns the versions a dead holder had noted, if it took one over."""
        body = _body(holder, config, None)
        abandoned = None
        for _ in range(2):  # a second try after taking over a stale lock
            if self._create(body):
                return abandoned
            current = self.read()
            if current is None:
                continue  # released in between
            if not current.is_stale(holder.since):
                raise WarehouseLocked(
                    f"the warehouse is locked by {current.describe()}: one run at a time. If that run is gone "
                    f"(killed, machine lost), clear the lock with `labelspark unlock CONFIG` or delete {self.path}"
                )
            log.warning("taking over the stale lock of %s", current.describe())
            abandoned = self.noted()
            self.remove()
        raise WarehouseLocked(f"could not take the lock {self.path}: another run keeps taking it")

    def release(self, holder: Holder) -> None:
        current = self.read()
        if current is not None and current.run_id == holder.run_id:
            self.remove()

    def read(self) -> Holder | None:
        try:
            data = json.loads(self._text())
            return Holder(data["run_id"], int(data["pid"]), data["host"], dt.datetime.fromisoformat(data["since"]))
        except FileNotFoundError:
            return None
        except (ValueError, KeyError, OSError):  # unreadable: treat as held since long ago, so it can be taken over
            return Holder("unknown", -1, "unknown", dt.datetime.min.replace(tzinfo=dt.timezone.utc))

    def noted(self) -> dict | None:
        try:
            return json.loads(self._text()).get("versions")
        except (FileNotFoundError, ValueError, OSError):
            return None

    def write(self, holder: Holder, config: Path, versions: dict) -> None:
        """Rewrites the lock's content (the lock is already ours)."""
        if self.local:
            Path(self.path).write_bytes(_body(holder, config, versions))
        else:
            with self.filesystem.open_output_stream(self.path) as out:
                out.write(_body(holder, config, versions))

    def _text(self) -> str:
        if self.local:
            return Path(self.path).read_text()
        with self.filesystem.open_input_stream(self.path) as stream:
            return stream.read().decode()

    def remove(self) -> None:
        with contextlib.suppress(FileNotFoundError):
            if self.local:
                os.remove(self.path)
            else:
                self.filesystem.delete_file(self.path)

    def _create(self, body: bytes) -> bool:
        if self.local:
            Path(self.path).parent.mkdir(parents=True, exist_ok=True)
            try:
                descriptor = os.open(self.path, os.O_CREAT | os.O_EXCL | os.O_WRONLY, 0o644)
            except FileExistsError:
                return False
            with os.fdopen(descriptor, "wb") as out:
                out.write(body)
            return True
        if self.filesystem.get_file_info(self.path).type != pafs.FileType.NotFound:
            return False
        with self.filesystem.open_output_stream(self.path) as out:
            out.write(body)
        return True


def _body(holder: Holder, config: Path, versions: dict | None) -> bytes:
    return json.dumps({"run_id": holder.run_id, "pid": holder.pid, "host": holder.host, "since": holder.since.isoformat(),
                       "config": str(config), "versions": versions}).encode()
