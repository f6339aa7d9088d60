"""One run at a time per warehouse: a lock file `_labelspark.lock` at the warehouse root.

The holder writes its run id, pid, host and the table versions it started from into the lock,
and a daemon thread renews a `heartbeat` timestamp in it every few seconds
(LABELSPARK_LOCK_HEARTBEAT_SECONDS, default 30). The holder is gone, and its lock stale, on
the same host as soon as its pid is not alive; on another host (a driver retried on another
node) once its heartbeat is older than MISSED_BEATS beats plus CLOCK_SKEW. A stale lock is
taken over with a warning, and the run that takes it over first undoes the dead run's writes.

On a local or mounted filesystem the lock is created atomically with its content (a hard
link of a written file, which fails if the lock exists; an exclusive create where the mount
has no hard links): of two runs that race, exactly one gets it. Object stores (s3a://, gs://, abfs://) have no atomic create-if-absent through
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
import threading
import uuid
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Iterator

from pyarrow import fs as pafs

from labelspark.errors import WarehouseLocked
from labelspark.warehouse.deltars import is_local, local_path

LOCK_FILE = "_labelspark.lock"
HEARTBEAT_ENV = "LABELSPARK_LOCK_HEARTBEAT_SECONDS"
MISSED_BEATS = 4
CLOCK_SKEW = dt.timedelta(seconds=60)  # hosts' clocks may disagree by this much
log = logging.getLogger(__name__)


def heartbeat_seconds() -> float:
    return float(os.environ.get(HEARTBEAT_ENV) or 30)


@dataclass(frozen=True)
class Holder:
    run_id: str
    pid: int
    host: str
    since: dt.datetime
    heartbeat: dt.datetime  # the holder's last sign of life
    beat_seconds: float  # how often the holder renews `heartbeat`

    def describe(self, now: dt.datetime | None = None) -> str:
        age = ((now or _now()) - self.heartbeat).total_seconds()
        return (f"run {self.run_id} (pid {self.pid} on {self.host}) since {self.since.isoformat(timespec='seconds')}, "
                f"last heartbeat {max(age, 0):.0f}s ago")

    def stale_after(self) -> dt.timedelta:
        return dt.timedelta(seconds=MISSED_BEATS * self.beat_seconds) + CLOCK_SKEW

    def is_alive(self, now: dt.datetime) -> bool:
        """Same host: its process exists. Another host: its heartbeat is recent."""
        if self.host == socket.gethostname():
            return _pid_alive(self.pid)
        return now - self.heartbeat <= self.stale_after()


@dataclass(frozen=True)
class Abandoned:
    """A dead run whose lock was taken over, with the table versions it had noted (if any)."""

    holder: Holder
    versions: dict | None


@dataclass
class Held:
    """The lock of a running job. While `undo_pending`, the job has writes that a failure must
    undo: a job that ends without clearing it (its cleanup itself broke off) leaves the lock, so
    the next run takes it over and undoes them."""

    lock: "_LockFile"
    holder: Holder
    config: Path
    abandoned: Abandoned | None = None
    versions: dict | None = None
    undo_pending: bool = False
    _mutex: threading.Lock = field(default_factory=threading.Lock)

    def note(self, versions: dict | None) -> None:
        """Writes the table versions to go back to into the lock, for whoever takes over if this process dies."""
        with self._mutex:
            self.versions = versions
            self.lock.replace(_body(self.holder, self.config, versions))

    def beat(self) -> bool:
        """Renews the heartbeat; False when the lock is no longer this run's (taken over meanwhile)."""
        with self._mutex:
            current = self.lock.read()
            if current is None or current.run_id != self.holder.run_id:
                return False
            self.holder = replace(self.holder, heartbeat=_now())
            self.lock.replace(_body(self.holder, self.config, self.versions))
            return True


@contextlib.contextmanager
def warehouse_lock(warehouse: str, run_id: str, config: Path, force: bool = False) -> Iterator[Held]:
    """Holds the warehouse for one job; raises WarehouseLocked while another live run holds it
    (`force`: takes it over even then, for `unlock --force`)."""
    lock = _LockFile(warehouse)
    now = _now()
    holder = Holder(run_id, os.getpid(), socket.gethostname(), now, now, heartbeat_seconds())
    held = Held(lock, holder, config, lock.acquire(holder, config, force))
    stop = threading.Event()
    beating = threading.Thread(target=_keep_beating, args=(held, stop), name="labelspark-lock-heartbeat", daemon=True)
    beating.start()
    try:
        yield held
    finally:
        stop.set()
        beating.join(timeout=held.holder.beat_seconds)
        if held.undo_pending:
            log.error("the lock stays: the writes of run %s are not undone yet; the next run (or `labelspark unlock`) "
                      "undoes them", run_id)
        else:
            lock.release(held.holder)


def _keep_beating(held: Held, stop: threading.Event) -> None:
    while not stop.wait(held.holder.beat_seconds):
        try:
            if not held.beat():
                log.error("the warehouse lock of run %s was taken over by another run", held.holder.run_id)
                return
        except Exception as exc:  # a store hiccup: the next beat tries again
            log.warning("could not renew the lock's heartbeat: %s: %s", type(exc).__name__, exc)


class _LockFile:
    def __init__(self, warehouse: str):
        self.local = is_local(warehouse)
        if self.local:
            self.path = str(Path(local_path(warehouse)) / LOCK_FILE)
        else:
            self.filesystem, base = pafs.FileSystem.from_uri(warehouse)
            self.path = f"{base.rstrip('/')}/{LOCK_FILE}"

    def acquire(self, holder: Holder, config: Path, force: bool) -> Abandoned | None:
        """Takes the lock; returns the dead holder it took over, if any."""
        body = _body(holder, config, None)
        abandoned = None
        for _ in range(2):  # a second try after taking over a stale lock
            if self._create(body):
                return abandoned
            current = self.read()
            if current is None:
                continue  # released in between
            if current.is_alive(holder.since) and not force:
                raise WarehouseLocked(
                    f"the warehouse is busy: locked by {current.describe(holder.since)}; one run at a time, retry "
                    f"later. The lock of a run that died is taken over by the next run, which undoes what it wrote "
                    f"(on the same host at once, from another host once its heartbeat is "
                    f"{current.stale_after().total_seconds():.0f}s old); `labelspark unlock CONFIG` does that now, "
                    f"`--force` even for a holder that only looks alive"
                )
            log.warning("taking over the %slock of %s", "" if force else "stale ", current.describe(holder.since))
            abandoned = Abandoned(current, self.noted())
            self.remove()
        raise WarehouseLocked(f"could not take the lock {self.path}: another run keeps taking it")

    def release(self, holder: Holder) -> None:
        current = self.read()
        if current is not None and current.run_id == holder.run_id:
            self.remove()

    def read(self) -> Holder | None:
        try:
            data = json.loads(self._text())
            since = dt.datetime.fromisoformat(data["since"])
            heartbeat = dt.datetime.fromisoformat(data["heartbeat"]) if data.get("heartbeat") else since
            return Holder(data["run_id"], int(data["pid"]), data["host"], since, heartbeat,
                          float(data.get("beat_seconds") or heartbeat_seconds()))
        except FileNotFoundError:
            return None
        except (ValueError, KeyError, TypeError, OSError):  # unreadable: a holder long gone, so it can be taken over
            long_ago = dt.datetime.min.replace(tzinfo=dt.timezone.utc)
            return Holder("unknown", -1, "unknown", long_ago, long_ago, heartbeat_seconds())

    def noted(self) -> dict | None:
        try:
            return json.loads(self._text()).get("versions")
        except (FileNotFoundError, ValueError, AttributeError, OSError):
            return None

    def replace(self, body: bytes) -> None:
        """Rewrites the lock's content in one step (readers never see a partial file)."""
        if self.local:
            written = self._written(body)
            os.replace(written, self.path)
        else:
            with self.filesystem.open_output_stream(self.path) as out:
                out.write(body)

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
            written = self._written(body)
            try:
                os.link(written, self.path)  # atomic, and fails if the lock exists
                return True
            except FileExistsError:
                return False
            except OSError:  # no hard links on this mount (some FUSE filesystems)
                return self._create_exclusive(body)
            finally:
                os.remove(written)
        if self.filesystem.get_file_info(self.path).type != pafs.FileType.NotFound:
            return False
        with self.filesystem.open_output_stream(self.path) as out:
            out.write(body)
        return True

    def _create_exclusive(self, body: bytes) -> bool:
        """O_EXCL: as atomic, but for an instant the lock is empty (a reader then sees a dead holder)."""
        try:
            descriptor = os.open(self.path, os.O_CREAT | os.O_EXCL | os.O_WRONLY, 0o644)
        except FileExistsError:
            return False
        with os.fdopen(descriptor, "wb") as out:
            out.write(body)
        return True

    def _written(self, body: bytes) -> str:
        """A new file beside the lock holding `body`."""
        path = f"{self.path}.{uuid.uuid4().hex}.tmp"
        Path(path).write_bytes(body)
        return path


def _body(holder: Holder, config: Path, versions: dict | None) -> bytes:
    return json.dumps({"run_id": holder.run_id, "pid": holder.pid, "host": holder.host, "since": holder.since.isoformat(),
                       "heartbeat": holder.heartbeat.isoformat(), "beat_seconds": holder.beat_seconds,
                       "config": str(config), "versions": versions}).encode()


def _now() -> dt.datetime:
    return dt.datetime.now(dt.timezone.utc)


def _pid_alive(pid: int) -> bool:
    if pid <= 0:  # kill(0 or -1) would signal whole process groups
        return False
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # exists, another user's
        return True
    return True
