"""label_runs: one row per run, `running` when it starts, `succeeded` or `failed` when it ends,
`abandoned` when a later run finds it died holding the lock.

Written with delta-rs, not the engine: a run whose engine died under it (an interrupt also
stops the embedded Sail server) is still recorded. The table stays a plain Delta table
(reader 1, writer 2) that Spark and Sail read.
"""
from __future__ import annotations

import datetime as dt
import json
import uuid
from dataclasses import asdict, dataclass, field

import pyarrow as pa
import pyarrow.compute as pc
from deltalake import write_deltalake

from labelspark.errors import NoResults
from labelspark.warehouse.deltars import existing_table, read_rows
from labelspark.warehouse.names import DATE

SCHEMA = pa.schema([
    ("run_id", pa.string()), (DATE, pa.date32()), ("status", pa.string()),
    ("labels", pa.list_(pa.field("element", pa.string()))), ("rows", pa.int64()),
    ("started_at", pa.timestamp("us", tz="UTC")), ("finished_at", pa.timestamp("us", tz="UTC")),
    ("index", pa.string()), ("error", pa.string()), ("details", pa.string()),
])
BACKFILL = "backfill"  # the details key of a run that left history as it was: {"history_at": its date}


def new_run_id() -> str:
    return dt.datetime.now(dt.timezone.utc).strftime("%Y%m%d%H%M%S") + uuid.uuid4().hex[:6]


@dataclass
class RunRecord:
    snapshot_date: dt.date
    run_id: str = field(default_factory=new_run_id)
    started_at: dt.datetime = field(default_factory=lambda: dt.datetime.now(dt.timezone.utc))
    status: str = "running"
    labels: list[str] = field(default_factory=list)
    rows: int | None = None
    finished_at: dt.datetime | None = None
    index: str | None = None
    error: str | None = None
    details: dict = field(default_factory=dict)

    def fail(self, exc: BaseException) -> None:
        self.status, self.error = "failed", f"{type(exc).__name__}: {exc}"[:4000]

    def row(self) -> dict:
        return {**asdict(self), "details": json.dumps(self.details, sort_keys=True) if self.details else None}


def record(path: str, run: RunRecord) -> None:
    """Inserts or updates the run's row."""
    row = pa.Table.from_pylist([run.row()], schema=SCHEMA)
    table = existing_table(path)
    if table is None:
        # a checkpoint every 10 commits, as Spark and Sail write the other tables (delta-rs's
        # default is 100): every engine then reads this table from checkpoints as well
        write_deltalake(path, row, configuration={"delta.checkpointInterval": "10"})
        return
    (table.merge(row, predicate="t.run_id = s.run_id", source_alias="s", target_alias="t")
     .when_matched_update_all().when_not_matched_insert_all().execute())


def mark_abandoned(path: str, run_id: str, last_seen: dt.datetime, reason: str) -> bool:
    """Closes the row of a run that died while `running`; False when there is no such row."""
    table = existing_table(path)
    if table is None:
        return False
    closing = pa.Table.from_pylist([{"run_id": run_id, "finished_at": last_seen, "error": reason}],
                                   schema=pa.schema([SCHEMA.field("run_id"), SCHEMA.field("finished_at"), SCHEMA.field("error")]))
    metrics = (table.merge(closing, predicate="t.run_id = s.run_id AND t.status = 'running'", source_alias="s", target_alias="t")
               .when_matched_update({"status": "'abandoned'", "finished_at": "s.finished_at", "error": "s.error"})
               .execute())
    return metrics.get("num_target_rows_updated", 0) > 0


def latest_succeeded_date(path: str) -> dt.date | None:
    """The latest date a run succeeded for: history advances only from there on."""
    runs = _succeeded_runs(path, [DATE])
    return None if runs is None else pc.max(runs[DATE]).as_py()


def _succeeded_runs(path: str, columns: list[str]) -> pa.Table | None:
    """`columns` of the succeeded runs; None when there is no table yet."""
    try:
        return read_rows(path, columns, where="status = 'succeeded'")
    except NoResults:
        return None


def labels_computed_before(path: str, day: dt.date) -> set[str] | None:
    """Labels a succeeded run computed for a date before `day`; None when no run ever succeeded
    (a snapshot written otherwise). "Never computed" goes by dates, not by the order runs came
    in: a back-fill sees only what the dates before it computed."""
    runs = _succeeded_runs(path, [DATE, "labels"])
    if runs is None or not runs.num_rows:
        return None
    earlier = runs.filter(pc.less(runs[DATE], pa.scalar(day, pa.date32())))
    return {label for labels in earlier["labels"].to_pylist() for label in labels or ()}


def history_reached(path: str, up_to: dt.date) -> dt.date | None:
    """The latest date up to `up_to` whose succeeded run advanced history (a back-fill, marked
    BACKFILL in its details, did not); None when none did."""
    runs = _succeeded_runs(path, [DATE, "details"])
    if runs is None:
        return None
    advanced = [day for day, details in zip(runs[DATE].to_pylist(), runs["details"].to_pylist())
                if day <= up_to and BACKFILL not in json.loads(details or "{}")]
    return max(advanced, default=None)
