"""Publishing a snapshot to ClickHouse: a table per snapshot, loaded, counted, then the view
readers query moved to it.

Readers query the view `<table>` only, so they see the previous table, complete, until the new
one holds every row. The new table is loaded as `<table>_<yyyymmdd>_<run id>_loading`, counted,
renamed without the suffix, and only then the view moves: `EXCHANGE TABLES` of a new view with
the old one where the database has it (Atomic databases, ClickHouse 20.5+: one atomic step),
else one `RENAME TABLE` statement of both. Any failure before that drops the new table; one the
server did not hear (it was down) is dropped by the next publish, by its `_loading` suffix.

The client is ClickHouse's HTTP interface through `requests`, rows as JSONEachRow that the
engine's `to_json` makes: the same on Debian's 18.16 and on current releases.
clickhouse-connect, the official client, cannot talk to servers before 19.x (its first request
reads `system.settings.readonly`, which they lack).
"""
from __future__ import annotations

import datetime as dt
import functools
import logging
from typing import Callable, Iterator

import pyarrow as pa
from pyspark.sql import DataFrame, SparkSession
from pyspark.sql import functions as F

from labelspark.config import Project
from labelspark.errors import PublishError
from labelspark.publish.clickhouse_server import Server, ServerAddress
from labelspark.publish.clickhouse_tables import LOADING, table_name, table_pattern, table_sql, view_sql
from labelspark.publish.mapping import published_labels

log = logging.getLogger(__name__)
INSERTED = pa.schema([("rows", pa.int64())])  # what each partition tells the driver


def publish(spark: SparkSession, project: Project, snapshot_df: DataFrame, run_date: dt.date, run_id: str, *,
            before_name_moves: Callable[[], None] = lambda: None) -> str:
    """Publishes `snapshot_df` as the table of `run_date` and moves the view to it; returns
    `database.table` of the new table. `before_name_moves` runs last before the step readers see."""
    output = project.outputs.clickhouse
    address = ServerAddress.from_config(output, resolve=project.resolve_path)
    labels = [label for label in published_labels(project) if label.id in snapshot_df.columns]
    name = table_name(output.table, run_date, run_id)
    version = Server(address).version()
    server = Server(address, _type_settings(version))
    rows = snapshot_df.count()
    log.info("publishing %d rows to %s.%s on ClickHouse %s at %s", rows, output.database, name, version, address.shown)
    server.execute(f"CREATE DATABASE IF NOT EXISTS `{output.database}`")
    key_type = snapshot_df.schema[project.key].dataType.simpleString()
    loading = name + LOADING
    server.execute(table_sql(output.database, loading, project.key, key_type, labels, version))
    try:
        _insert(_json_rows(snapshot_df, project, labels, run_date), server, output.database, loading, output.insert_rows, rows)
        count = int(server.query(f"SELECT count() FROM `{output.database}`.`{loading}`"))
        if count != rows:
            raise PublishError(f"table {output.database}.{loading} holds {count} rows, the snapshot {rows}"
                               + (" (duplicate entity ids in the snapshot?)" if count < rows else ""))
        server.execute(f"RENAME TABLE `{output.database}`.`{loading}` TO `{output.database}`.`{name}`")
        loading = name
        before_name_moves()
        _move_view(server, output.database, output.table, name)
    except BaseException as exc:  # whatever stopped the load (even Ctrl-C), no partial table stays
        _discard(server, output.database, loading)
        if isinstance(exc, PublishError) or not isinstance(exc, Exception):
            raise
        raise PublishError(f"publishing {output.database}.{name} failed: {type(exc).__name__}: {str(exc).strip()[:1000]}") from exc
    log.info("view %s.%s now reads %s", output.database, output.table, name)
    _apply_retention(server, output.database, output.table, output.retention, name)
    return f"{output.database}.{name}"


def _type_settings(version: tuple[int, ...]) -> dict[str, str]:
    """Settings of every statement: LowCardinality was experimental before 19.x, allowed only with this one."""
    return {"allow_experimental_low_cardinality_type": "1"} if version < (19,) else {}


def _json_rows(snapshot_df: DataFrame, project: Project, labels: list, run_date: dt.date) -> DataFrame:
    """One JSON text per entity, made by the engine: nulls are left out (ClickHouse fills them
    with NULL, or [] for a list), NaN of a number is null (JSON has none), dates as ISO text."""
    def shaped(label):
        column = F.col(label.id)
        return (F.nanvl(column, F.lit(None).cast("double")) if label.type == "number" else column).alias(label.id)
    return snapshot_df.select(F.to_json(F.struct(
        project.key, F.lit(run_date.isoformat()).alias("snapshot_date"), *map(shaped, labels))).alias("row"))


def _insert(rows: DataFrame, server: Server, database: str, table: str, per_request: int, expected: int) -> None:
    """INSERTs from the executors, `per_request` rows each; only per-partition counts come back."""
    statement = f"INSERT INTO `{database}`.`{table}` FORMAT JSONEachRow"
    counts = rows.mapInArrow(functools.partial(_insert_partition, server.address, server.settings, statement, per_request), "rows long").collect()
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
    yield pa.record_batch([pa.array([sent], pa.int64())], schema=INSERTED)


def _move_view(server: Server, database: str, view: str, table: str) -> None:
    """Points `view` at `table`: a new view swapped with the old one in one statement."""
    fresh = f"{view}{LOADING}"
    server.execute(f"DROP TABLE IF EXISTS `{database}`.`{fresh}`")
    server.execute(view_sql(database, fresh, table))
    if not server.exists(database, view):
        server.execute(f"RENAME TABLE `{database}`.`{fresh}` TO `{database}`.`{view}`")
        return
    if server.database_engine(database) == "Atomic":
        server.execute(f"EXCHANGE TABLES `{database}`.`{fresh}` AND `{database}`.`{view}`")
    else:
        old = f"{view}_previous"
        server.execute(f"DROP TABLE IF EXISTS `{database}`.`{old}`")
        server.execute(f"RENAME TABLE `{database}`.`{view}` TO `{database}`.`{old}`, `{database}`.`{fresh}` TO `{database}`.`{view}`")
        fresh = old
    server.execute(f"DROP TABLE IF EXISTS `{database}`.`{fresh}`")


def _discard(server: Server, database: str, table: str) -> None:
    """Drops a partial table; a failure here is logged, the original error is what counts."""
    try:
        server.execute(f"DROP TABLE IF EXISTS `{database}`.`{table}`")
        log.info("dropped the partial table %s.%s", database, table)
    except PublishError as exc:
        log.error("could not drop the partial table %s.%s (the next publish will): %s", database, table, exc)


def _apply_retention(server: Server, database: str, view: str, retention: int, current: str) -> None:
    """Drops this view's partial tables, then those beyond the newest `retention` (by creation
    time, the current one first). Runs after the move: a failure leaves extra tables, logged."""
    try:
        pattern = table_pattern(view)
        tables = {name: created for name, created in server.tables(database).items() if pattern.match(name)}
        for partial in sorted(name for name in tables if name.endswith(LOADING)):
            server.execute(f"DROP TABLE IF EXISTS `{database}`.`{partial}`")
            del tables[partial]
            log.info("dropped %s.%s, left partial by a failed publish", database, partial)
        newest_first = sorted(tables, key=lambda name: (name == current, tables[name], name), reverse=True)
        for old in newest_first[retention:]:
            server.execute(f"DROP TABLE IF EXISTS `{database}`.`{old}`")
            log.info("retention %d: dropped %s.%s", retention, database, old)
    except PublishError as exc:
        log.warning("table retention for %s.%s failed (old tables stay until the next publish): %s", database, view, exc)
