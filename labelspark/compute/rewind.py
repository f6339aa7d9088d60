"""`labelspark rewind CONFIG --to D`: undo every date after D, as if the warehouse had never run them.

The dated tables lose their partitions after D, the sources' tiles their blocks ending after D. History and catalog versions opened after D
go, versions closed after D are open again. Dates up to D that were back-fills only because a
removed later date had run (history had not reached them) then advance history in date order,
as their runs would have; the catalog holds their definitions already (a back-fill records
them). Label columns that no kept date computed (a label first computed, by date, after D)
leave `label_snapshot`, so the next run sees them as never computed, as it would have; a
column a kept date holds stays, whatever order the dates ran in. Runs of the removed dates
stay in `label_runs` as `rewound`: history then advances from D again.
"""
from __future__ import annotations

import datetime as dt
import logging

from pyspark.sql import SparkSession
from pyspark.sql import functions as F

from labelspark.config import Project
from labelspark.warehouse.delta import date_literal, partition_of, read_table, run_sql_on
from labelspark.compute.derived.history_values import advance_history
from labelspark.warehouse.runs import history_reached, labels_computed_before
from labelspark.warehouse.names import CATALOG_TABLE, DATE, HISTORY_TABLE, RUNS_TABLE, SEGMENTS_TABLE, SNAPSHOT_TABLE, STATS_TABLE, Tables, table_path
from labelspark.warehouse.snapshot import drop_columns
from labelspark.warehouse.tiles import forget_after as forget_tiles_after

log = logging.getLogger(__name__)
DATED_TABLES = (SNAPSHOT_TABLE, STATS_TABLE, SEGMENTS_TABLE)
REWOUND = "rewound"


def rewind_tables(spark: SparkSession, project: Project, to: dt.date) -> list[dt.date]:
    """Removes every date after `to` from the warehouse's tables; returns the dates removed.

    The caller holds the warehouse lock and restores the tables if this fails half-way.
    """
    warehouse = project.warehouse
    snapshot = read_table(spark, table_path(warehouse, SNAPSHOT_TABLE))
    if snapshot is None:
        return []
    removed = sorted(row[0] for row in snapshot.where(F.col(DATE) > F.lit(to)).select(DATE).distinct().collect())
    day = date_literal(to)
    for table in DATED_TABLES:
        path = table_path(warehouse, table)
        if read_table(spark, path) is not None:
            run_sql_on(spark, path, f"DELETE FROM {{table}} WHERE {DATE} > {day}")
    tables = Tables(warehouse)
    forget_tiles_after(spark, tables.tile_manifest, {name: tables.tiles(name) for name in project.sources}, to)
    _rewind_versions(spark, table_path(warehouse, HISTORY_TABLE), day, "valid_to = NULL, is_current = true")
    _rewind_versions(spark, table_path(warehouse, CATALOG_TABLE), day, "valid_to = NULL")
    runs = table_path(warehouse, RUNS_TABLE)
    if read_table(spark, runs) is not None:
        kept = labels_computed_before(runs, to + dt.timedelta(days=1))
        if kept is not None:
            _drop_labels_computed_later(spark, warehouse, project.key, kept)
        _advance_history_over_backfills(spark, project, history_reached(runs, to), to)
        run_sql_on(spark, runs, f"UPDATE {{table}} SET status = '{REWOUND}' WHERE {DATE} > {day} AND status = 'succeeded'")
    return removed


def _rewind_versions(spark: SparkSession, path: str, day: str, reopen: str) -> None:
    """An SCD2 table as it stood after `day`: later versions removed, later closings undone."""
    if read_table(spark, path) is None:
        return
    run_sql_on(spark, path, f"DELETE FROM {{table}} WHERE valid_from > {day}")
    run_sql_on(spark, path, f"UPDATE {{table}} SET {reopen} WHERE valid_to > {day}")


def _drop_labels_computed_later(spark: SparkSession, warehouse: str, key: str, kept: set[str]) -> None:
    """Label columns of the snapshot that no kept date computed."""
    path = table_path(warehouse, SNAPSHOT_TABLE)
    later = [c for c in read_table(spark, path).columns if c not in (key, DATE) and c not in kept]
    if later:
        log.info("labels first computed after the rewind date leave %s: %s", SNAPSHOT_TABLE, ", ".join(later))
        drop_columns(spark, path, later)


def _advance_history_over_backfills(spark: SparkSession, project: Project, reached: dt.date | None, to: dt.date) -> None:
    """Advances history over the kept dates after the one it had `reached`, in date order."""
    snapshot = read_table(spark, table_path(project.warehouse, SNAPSHOT_TABLE))
    later = snapshot.where(F.col(DATE) > F.lit(reached)) if reached else snapshot
    for (day,) in later.select(DATE).distinct().orderBy(DATE).collect():
        written = partition_of(snapshot, day)
        labels = [label for label in project.enabled_labels if label.id in written.columns]
        log.info("%s advanced over %s, a back-fill before the rewind", HISTORY_TABLE, day)
        advance_history(spark, written, project, labels, table_path(project.warehouse, HISTORY_TABLE), day)
