"""What a run and a publish share: the warehouse lock, the run record, undoing a failed job's
writes, signals and the callback. One mechanism, so both end the same way however they end.

A job holds the warehouse lock; first undoes the writes of a dead run whose lock it took over
(and marks that run `abandoned`); notes the versions of the tables users read, in the lock too;
records itself `running` in label_runs. When its body fails or is interrupted, the tables go back
to those versions. In every case it records how it ended, calls the business back and releases
the lock. Nothing on that way out needs the engine: restoring and recording are delta-rs.

SIGINT and SIGTERM interrupt the engine's work, so the body fails at its Spark call and takes
the same way out as a failure, raising `Interrupted`; none of the engine's work lands after the
restore. A signal while the job takes the lock stops it before the body starts; one while it
cleans up changes nothing (a second Ctrl-C cannot break a restore half-way); one that the body
outran (its last steps finished before an interrupt reached them) is still honoured until the
point of no return (stop_signals.py), after which the job stands.
"""
from __future__ import annotations

import contextlib
import datetime as dt
import logging
from typing import Callable, Iterator

from pyspark.sql import SparkSession

from labelspark.config import Project
from labelspark.engine.error_conversion import converted
from labelspark.engine.sessions import stop_work
from labelspark.errors import Interrupted
from labelspark.publish import callback_payload, send_callback
from labelspark.warehouse import runs
from labelspark.warehouse.lock import Held, Holder, warehouse_lock
from labelspark.warehouse.names import RUNS_TABLE, Tables
from labelspark.errors import RestoreIncomplete
from labelspark.warehouse.rollback import Checkpoint
from labelspark.warehouse.runs import RunRecord
from labelspark.compute.stop_signals import JobSignals

log = logging.getLogger(__name__)


@contextlib.contextmanager
def job(spark: SparkSession, project: Project, run_date: dt.date, call_back: bool = True,
        after_success: Callable[[], dict] | None = None) -> Iterator[RunRecord]:
    """Runs the body as one job on the warehouse; the body fills in the yielded record
    (labels, rows, index). Raises what stopped the body, after cleaning up.

    `after_success` runs once the job is recorded succeeded, still under the lock (the label
    portal, which lists this run); what it returns joins the run's details, and it must not raise.
    """
    record = RunRecord(run_date)
    tables = Tables(project.warehouse)
    with JobSignals(lambda: stop_work(spark)) as signals, warehouse_lock(project.warehouse, record.run_id, project.file) as held:
        if held.abandoned:
            _take_over(held, tables, record.run_id)
        checkpoint = Checkpoint.take(tables.written_by_runs(project.sources))
        held.note(checkpoint.versions)
        runs.record(tables.runs, record)
        held.undo_pending = True
        try:
            signals.check()  # received while taking the lock
            yield record
            signals.commit()  # a signal the body outran is honoured here; after this line, none is
            record.status, record.finished_at = "succeeded", _now()
            held.undo_pending = False
            runs.record(tables.runs, record)
            held.note(None)  # it stands: a run taking over the lock if this process dies now undoes nothing
            log.info("%s: run %s succeeded; it stands, whatever signal comes now", RUNS_TABLE, record.run_id)
        except BaseException as exc:
            signals.cleaning()
            stopped = Interrupted(signals.received) if signals.received and not isinstance(exc, Interrupted) else None
            meant = converted(exc)  # the engine's error as labelspark can say it, in label_runs too
            record.fail(stopped or meant or exc)
            held.undo_pending = not checkpoint.restore()
            record.finished_at = _now()
            if call_back:
                _call_back(project, record, hurry=signals.received is not None)
            _record_failure(tables, record)
            if stopped:
                raise stopped from exc  # the engine's error is how the interrupt showed
            if meant:
                raise meant from exc
            raise
        recorded = record.details
        if call_back:
            _call_back(project, record, hurry=signals.late is not None)
        if after_success is not None:
            record.details = {**record.details, **(after_success() or {})}
        if record.details != recorded:
            _record_details(tables, record)


@contextlib.contextmanager
def locked(project: Project, restorable: list[str]) -> Iterator[None]:
    """Holds the warehouse for an operation that is no run (`rewind`): like a job it first undoes
    a dead run's writes, and it puts the `restorable` tables back if it fails; it records no run."""
    with warehouse_lock(project.warehouse, runs.new_run_id(), project.file) as held:
        if held.abandoned:
            _take_over(held, Tables(project.warehouse), held.holder.run_id)
        checkpoint = Checkpoint.take(restorable)
        held.note(checkpoint.versions)
        held.undo_pending = True
        try:
            yield
        except BaseException:
            held.undo_pending = not checkpoint.restore()
            raise
        held.undo_pending = False


def unlock(project: Project, force: bool = False) -> Holder | None:
    """Clears the lock of a run that is gone, undoing its writes as a run taking over would;
    refuses (WarehouseLocked) while the holder is alive, unless `force`. Returns who held it."""
    with warehouse_lock(project.warehouse, runs.new_run_id(), project.file, force=force) as held:
        if held.abandoned:
            _take_over(held, Tables(project.warehouse), "labelspark unlock")
        return held.abandoned.holder if held.abandoned else None


def _take_over(held: Held, tables: Tables, by: str) -> None:
    """Undoes the writes of the run that died holding the lock, and marks its row `abandoned`.
    Until that is done the lock names what to undo, should this process die too."""
    dead, versions = held.abandoned.holder, held.abandoned.versions
    held.note(versions)
    held.undo_pending = True
    if versions:
        log.warning("undoing the writes of run %s, which died holding the lock", dead.run_id)
        if not Checkpoint(versions).restore():
            raise RestoreIncomplete(f"could not undo every write of run {dead.run_id} (see the errors above); the lock "
                                    f"stays: fix the cause and run `labelspark unlock CONFIG`")
    reason = (f"abandoned: pid {dead.pid} on {dead.host} stopped without finishing "
              f"(its writes undone by {by} at {dt.datetime.now(dt.timezone.utc).isoformat(timespec='seconds')})")
    if runs.mark_abandoned(tables.runs, dead.run_id, dead.heartbeat, reason):
        log.warning("%s: run %s marked abandoned", RUNS_TABLE, dead.run_id)
    held.undo_pending = False


def _now() -> dt.datetime:
    return dt.datetime.now(dt.timezone.utc)


def _record_failure(tables: Tables, record: RunRecord) -> None:
    """A failed job's own error is what matters: failing to record it is logged, not raised over it."""
    try:
        runs.record(tables.runs, record)
    except Exception as exc:
        log.error("could not record run %s as %s in %s: %s: %s", record.run_id, record.status, RUNS_TABLE, type(exc).__name__, exc)


def _record_details(tables: Tables, record: RunRecord) -> None:
    """The run is recorded succeeded already and stands: failing to add what came after (a
    callback or site error) is logged, never turned into a failure."""
    try:
        runs.record(tables.runs, record)
    except Exception as exc:
        log.error("could not add the details of run %s to %s: %s: %s", record.run_id, RUNS_TABLE, type(exc).__name__, exc)


def _call_back(project: Project, record: RunRecord, hurry: bool) -> None:
    """Tells the business system how the job ended; a failure is recorded, never fatal.
    An interrupted job tries once: whoever stops it waits for its exit."""
    if project.outputs.callback is None:
        return
    error = send_callback(project.outputs.callback, callback_payload(project.name, record), retries=0 if hurry else 3)
    if error:
        log.warning("%s (recorded in %s; the data stands)", error, RUNS_TABLE)
        record.details = {**record.details, "callback_error": error}
