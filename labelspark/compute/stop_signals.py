"""SIGINT and SIGTERM during a job, and the cut-off that decides what they do.

A job honours a stop signal until its point of no return: the moment it starts recording
itself `succeeded` in label_runs, or, when it publishes, just before it moves the
Elasticsearch alias (readers see the new index at once, and retention may delete the old
one: that cannot be undone). Before it, the job's writes are undone and the process exits
128 + the signal's number; after it, the job finishes, the signal is reported, and the
process exits 0. So the exit code and label_runs agree wherever the signal lands.

The decision is taken in the main thread, where Python runs signal handlers between two
bytecodes: a handler sees the job either before or after the point of no return, never half-way.
"""
from __future__ import annotations

import logging
import signal
import threading
from typing import Callable

from labelspark.errors import Interrupted

log = logging.getLogger(__name__)
STOP_SIGNALS = (signal.SIGINT, signal.SIGTERM)
INTERRUPT_EVERY_SECONDS = 0.2  # after a signal, how soon a Spark call the body starts is interrupted

_active: "JobSignals | None" = None  # the job of this process whose handlers are installed
_jobs_committed = 0  # jobs of this process past their point of no return


class JobSignals:
    """SIGINT/SIGTERM handlers for one job. A handler raises nothing where it lands (inside the
    engine's client an exception would leave its locks held and hang every later call): it
    notes the signal, and a thread of its own keeps `interrupt`ing the engine's work until the
    job cleans up, so the Spark call the body waits on fails, and so does any it starts next.
    Outside the main thread (where Python runs no handlers) a no-op."""

    def __init__(self, interrupt: Callable[[], None]) -> None:
        self.interrupt = interrupt
        self.received: int | None = None  # honoured: the job is undone
        self.committed = False  # past the point of no return: a signal is only reported
        self.late: int | None = None  # reported: the job finishes, without waiting on retries
        self._signalled = threading.Event()
        self._cleaning = threading.Event()
        self._previous: dict[int, object] = {}

    def __enter__(self) -> "JobSignals":
        global _active
        if threading.current_thread() is threading.main_thread():
            # started now: a handler starting a thread could wait on a lock the main thread holds
            threading.Thread(target=self._interrupt_once_signalled, name="labelspark-interrupt", daemon=True).start()
            for signum in STOP_SIGNALS:
                self._previous[signum] = signal.signal(signum, self._handle)
            _active = self
        return self

    def __exit__(self, *exc_info) -> None:
        global _active, _jobs_committed
        self._cleaning.set()
        self._signalled.set()  # lets the thread end
        if self.committed:
            _jobs_committed += 1  # before the handlers go: whoever handles a signal next sees it
        if _active is self:
            _active = None
        for signum, handler in self._previous.items():
            signal.signal(signum, handler)

    def _handle(self, signum: int, frame) -> None:
        name = signal.Signals(signum).name
        if self.received:
            log.warning("%s received: already stopping", name)
        elif self.committed:
            self.late = signum
            log.warning("%s received after the run passed its point of no return: it finishes and stands (exit 0)", name)
        else:
            self.received = signum
            log.warning("%s received: stopping the engine's work, then undoing this run's writes", name)
            self._signalled.set()

    def _interrupt_once_signalled(self) -> None:
        self._signalled.wait()
        while not self._cleaning.is_set():
            self.interrupt()
            self._cleaning.wait(INTERRUPT_EVERY_SECONDS)

    def cleaning(self) -> None:
        """The body is over: no more interrupting."""
        self._cleaning.set()

    def check(self) -> None:
        if self.received:
            raise Interrupted(self.received)

    def commit(self) -> None:
        """Passes the point of no return, or raises Interrupted for a signal that came before it.
        The flag goes first: a handler running after it only reports, so no signal is missed."""
        if self.committed:
            return
        self.committed = True
        if self.received:
            self.committed = False
            raise Interrupted(self.received)


def point_of_no_return() -> None:
    """Called by a job's body just before a step that cannot be undone: raises Interrupted for
    a signal received until now; from here the job stands. Outside a job, nothing."""
    if _active is not None:
        _active.commit()


def jobs_committed() -> int:
    """How many jobs of this process passed their point of no return: the command line exits 0
    for a signal once its job has."""
    return _jobs_committed
