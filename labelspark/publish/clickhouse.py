"""Publishing a snapshot to ClickHouse: a table per snapshot, loaded and checked, then the view
readers query moved to it.

Readers query the view `<table>` only, so they see the previous table, complete, until the new
one holds every row. `load` makes `<table>_<yyyymmdd>_<run id>_loading`, inserts, checks the
rows (count and distinct keys) and renames it without the suffix: nothing a reader sees has
changed. `Loaded.go_live` moves the view: `EXCHANGE TABLES` of a new view with the old one
where the database is Atomic (ClickHouse 20.5+: one atomic step), else one `RENAME TABLE`
statement of both. `Loaded.undo` puts the view back and drops the new table; a table the server
could not drop (it was down) is dropped by the next publish, by its `_loading` suffix.

The client is ClickHouse's HTTP interface through `requests`, rows as JSONEachRow that the
engine's `to_json` makes: the same on Debian's 18.16 and on current releases.
clickhouse-connect, the official client, cannot talk to servers before 19.x (its first request
reads `system.settings.readonly`, which they lack).
"""
from __future__ import annotations

import datetime as dt
import functools
import logging
from typing import Iterator

import pyarrow as pa
from pyspark.sql import DataFrame
from pyspark.sql import functions as F

from labelspark.config import Project
from labelspark.errors import PublishError
from labelspark.publish.clickhouse_server import Server, ServerAddress
from labelspark.publish.clickhouse_tables import (
    LOADING, SNAPSHOT_ENGINE, column_settings, date_range, table_name, table_pattern, table_sql, view_sql,
)
from labelspark.publish.mapping import published_labels

log = logging.getLogger(__name__)


class Loaded:
    """A complete snapshot table that readers do not see yet."""

    def __init__(self, server: Server, database: str, view: str, name: str, retention: int):
        self.server, self.database, self.view, self.name, self.retention = server, database, view, name, retention
        self.previous = server.view_target(database, view)  # None: no view yet
        self.live = False

    @property
    def shown(self) -> str:
        return f"{self.database}.{self.name}"

    def go_live(self) -> None:
        """Points the view at the new table: the step readers see. An answer lost after the
        server made the move counts as made (the view is read back)."""
        fresh = f"{self.view}{LOADING}"
        self.server.drop_view(self.database, fresh)
        self.server.execute(view_sql(self.database, fresh, self.name))
        try:
            self._swap(fresh)
        except PublishError:
            if self.server.view_target(self.database, self.view) != self.name:
                raise
            log.info("the answer to the view move was lost, but %s.%s already reads %s", self.database, self.view, self.name)
        self.live = True
        log.info("view %s.%s moved from %s to %s", self.database, self.view, self.previous or "nothing", self.name)
        for leftover in (fresh, f"{self.view}_previous"):
            try:
                self.server.drop_view(self.database, leftover)
            except PublishError as exc:
                log.warning("could not drop the old view %s.%s (the next publish will): %s", self.database, leftover, exc)

    def _swap(self, fresh: str) -> None:
        db, view = self.database, self.view
        if self.previous is None and not self.server.exists(db, view):
            self.server.execute(f"RENAME TABLE `{db}`.`{fresh}` TO `{db}`.`{view}`")
        elif self.server.database_engine(db) == "Atomic":
            self.server.execute(f"EXCHANGE TABLES `{db}`.`{fresh}` AND `{db}`.`{view}`")
        else:
            self.server.drop_view(db, f"{view}_previous")
            self.server.execute(f"RENAME TABLE `{db}`.`{view}` TO `{db}`.`{view}_previous`, `{db}`.`{fresh}` TO `{db}`.`{view}`")

    def undo(self) -> None:
        """The view back where it was and the new table dropped; failures here are logged, the
        error that called for the undo is what counts."""
        try:
            if self.live:
                if self.previous is None:
                    self.server.drop_view(self.database, self.view)
                else:
                    self.server.execute(view_sql(self.database, f"{self.view}{LOADING}", self.previous))
                    self._swap(f"{self.view}{LOADING}")
                    self.server.drop_view(self.database, f"{self.view}{LOADING}")
                log.info("view %s.%s put back on %s", self.database, self.view, self.previous or "nothing")
            self.server.execute(f"DROP TABLE IF EXISTS `{self.database}`.`{self.name}`")
            log.info("dropped %s.%s", self.database, self.name)
        except PublishError as exc:
            log.error("could not undo the publish of %s.%s (the next publish drops leftovers): %s", self.database, self.name, exc)

    def apply_retention(self) -> None:
        """Drops this view's partial tables, then those beyond the newest `retention` (by
        creation time); never the one it reads. A failure leaves extra tables, logged."""
        try:
            pattern = table_pattern(self.view)
            tables = {name: created for name, (engine, created) in self.server.tables(self.database).items()
                      if pattern.match(name) and engine == SNAPSHOT_ENGINE and name != self.name}
            for partial in sorted(name for name in tables if name.endswith(LOADING)):
                self.server.execute(f"DROP TABLE IF EXISTS `{self.database}`.`{partial}`")
                del tables[partial]
                log.info("dropped %s.%s, left partial by a failed publish", self.database, partial)
            for old in sorted(tables, key=lambda name: (tables[name], name), reverse=True)[self.retention - 1:]:
                self.server.execute(f"DROP TABLE IF EXISTS `{self.database}`.`{old}`")
                log.info("retention %d: dropped %s.%s", self.retention, self.database, old)
        except Exception as exc:  # the view already moved: nothing here may fail the run
            log.warning("table retention for %s.%s failed (old tables stay until the next publish): %s", self.database, self.view, exc)


def load(project: Project, snapshot_df: DataFrame, run_date: dt.date, run_id: str) -> Loaded:
    """Loads and checks the table of `run_date`; readers see nothing of it until `go_live`."""
    output = project.outputs.clickhouse
    address = ServerAddress.from_config(output, resolve=project.resolve_path)
    labels = [label for label in published_labels(project) if label.id in snapshot_df.columns]
    version = Server(address).version()
    server = Server(address, column_settings(version))
    server.execute(f"CREATE DATABASE IF NOT EXISTS `{output.database}`")
    server.refuse_non_view(output.database, output.table)
    rows = _count_checking_dates(snapshot_df, [label.id for label in labels if label.type == "date"], date_range(version))
    name = table_name(output.table, run_date, run_id)
    log.info("publishing %d rows to %s.%s on ClickHouse %s at %s", rows, output.database, name,
             ".".join(map(str, version)), address.shown)
    loading = name + LOADING
    key_type = snapshot_df.schema[project.key].dataType.simpleString()
    server.execute(table_sql(output.database, loading, project.key, key_type, labels, version))
    try:
        _insert(_json_rows(snapshot_df, project, labels, run_date), server, output.database, loading, output.insert_rows, rows)
        _check_rows(server, output.database, loading, project.key, rows)
        server.execute(f"RENAME TABLE `{output.database}`.`{loading}` TO `{output.database}`.`{name}`")
        return Loaded(server, output.database, output.table, name, output.retention)
    except BaseException as exc:  # whatever stopped the load (even Ctrl-C), no partial table stays
        for partial in (loading, name):
            try:
                server.execute(f"DROP TABLE IF EXISTS `{output.database}`.`{partial}`")
            except PublishError as failed:
                log.error("could not drop the partial table %s.%s (the next publish will): %s", output.database, partial, failed)
        if isinstance(exc, PublishError) or not isinstance(exc, Exception):
            raise
        raise PublishError(f"publishing {output.database}.{name} failed: {type(exc).__name__}: {str(exc).strip()[:1000]}") from exc


def _count_checking_dates(snapshot_df: DataFrame, date_labels: list[str], bounds: tuple[dt.date, dt.date]) -> int:
    """The snapshot's rows, counted in the pass that refuses dates outside the server's date type
    (ClickHouse would store such a date as another one, silently)."""
    low, high = bounds
    outside = [F.count(F.when((F.col(c) < F.lit(low)) | (F.col(c) > F.lit(high)), 1)).alias(c) for c in date_labels]
    counts = snapshot_df.select(F.count(F.lit(1)).alias("__rows"), *outside).first().asDict()
    bad = {label: counts[label] for label in date_labels if counts[label]}
    if bad:
        listed = ", ".join(f"{label} ({count} rows)" for label, count in bad.items())
        raise PublishError(f"dates outside {low}..{high}, the range of this ClickHouse server's date type: {listed}")
    return counts["__rows"]


def _check_rows(server: Server, database: str, table: str, key: str, rows: int) -> None:
    count, distinct = map(int, server.query(f"SELECT count(), uniqExact(`{key}`) FROM `{database}`.`{table}`").split("\t"))
    if count != rows:
        hint = " (rows inserted twice by a retried task?)" if count > rows else ""
        raise PublishError(f"table {database}.{table} holds {count} rows, the snapshot {rows}{hint}")
    if distinct != rows:
        raise PublishError(f"the snapshot holds {rows - distinct} duplicate entity ids ({key}): one row per entity is published")


def _json_rows(snapshot_df: DataFrame, project: Project, labels: list, run_date: dt.date) -> DataFrame:
    """One JSON text per entity, made by the engine: nulls are left out (ClickHouse fills them
    with NULL, or [] for a list), NaN of a number is null (JSON has none), a null inside a list
    is dropped (arrays of ClickHouse hold no null), dates as ISO text."""
    def shaped(label):
        column = F.col(label.id)
        if label.type == "number":
            column = F.nanvl(column, F.lit(None).cast("double"))
        elif label.type == "list":
            column = F.filter(column, lambda item: item.isNotNull())
        return column.alias(label.id)
    return snapshot_df.select(F.to_json(F.struct(
        project.key, F.lit(run_date.isoformat()).alias("snapshot_date"), *map(shaped, labels))).alias("row"))


def _insert(rows: DataFrame, server: Server, database: str, table: str, per_request: int, expected: int) -> None:
    """INSERTs from the executors, `per_request` rows each; only per-partition counts come back."""
    statement = f"INSERT INTO `{database}`.`{table}` FORMAT JSONEachRow"
    insert = functools.partial(_insert_partition, server.address, server.settings, statement, per_request)
    counts = rows.mapInArrow(insert, "rows long").collect()
    sent = sum(count.rows for count in counts)
    log.info("%s.%s: %d rows inserted by %d partitions", database, table, sent, len(counts))
    if sent != expected:
        raise PublishError(f"the ClickHouse writer sent {sent} rows, the snapshot has {expected}")


def _insert_partition(address: ServerAddress, settings: dict[str, str], statement: str, per_request: int,
                      batches: Iterator[pa.RecordBatch]) -> Iterator[pa.RecordBatch]:
    server, pending, sent = Server(address, settings), [], 0
    for batch in batches:
        pending.extend(batch.column(0).to_pylist())
        while len(pending) >= per_request:
            server.insert(statement, pending[:per_request])
            sent, pending = sent + per_request, pending[per_request:]
    if pending:
        server.insert(statement, pending)
        sent += len(pending)
    yield pa.record_batch([pa.array([sent], pa.int64())], names=["rows"])
