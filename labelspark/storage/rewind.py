"""`labelspark rewind CONFIG --to D`: undo every date after D, as if the warehouse had never run them.

The dated tables lose their partitions after D. History and catalog advance only with runs in
date order, so their state after D is known from the rows alone: versions opened after D go,
versions closed after D are open again. Label columns that only later dates brought (a
label added after D, which the catalog no longer knows) leave `label_snapshot`, so the next
run sees them as never computed, as it would have. Runs of the removed dates stay in
`label_runs` as `rewound`: history then advances from D again.
"""
from __future__ import annotations

import datetime as dt
import logging

from pyspark.sql import SparkSession
from pyspark.sql import functions as F

from labelspark.storage.delta import date_literal, read_table, run_sql_on
from labelspark.storage.names import CATALOG_TABLE, DATE, HISTORY_TABLE, RUNS_TABLE, SEGMENTS_TABLE, SNAPSHOT_TABLE, STATS_TABLE, table_path
from labelspark.storage.snapshot import drop_columns

log = logging.getLogger(__name__)
DATED_TABLES = (SNAPSHOT_TABLE, STATS_TABLE, SEGMENTS_TABLE)
REWOUND = "rewound"


def rewind_tables(spark: SparkSession, warehouse: str, key: str, to: dt.date) -> list[dt.date]:
    """Removes every date after `to` from the warehouse's tables; returns the dates removed.

    The caller holds the warehouse lock and restores the tables if this fails half-way.
    """
    snapshot = read_table(spark, table_path(warehouse, SNAPSHOT_TABLE))
    if snapshot is None:
        return []
    removed = sorted(row[0] for row in snapshot.where(F.col(DATE) > F.lit(to)).select(DATE).distinct().collect())
    day = date_literal(to)
    for table in DATED_TABLES:
        path = table_path(warehouse, table)
        if read_table(spark, path) is not None:
            run_sql_on(spark, path, f"DELETE FROM {{table}} WHERE {DATE} > {day}")
    _rewind_versions(spark, table_path(warehouse, HISTORY_TABLE), day, "valid_to = NULL, is_current = true")
    _rewind_versions(spark, table_path(warehouse, CATALOG_TABLE), day, "valid_to = NULL")
    _drop_labels_added_later(spark, warehouse, key)
    runs = table_path(warehouse, RUNS_TABLE)
    if read_table(spark, runs) is not None:
        run_sql_on(spark, runs, f"UPDATE {{table}} SET status = '{REWOUND}' WHERE snapshot_date > {day} AND status = 'succeeded'")
    return removed


def _rewind_versions(spark: SparkSession, path: str, day: str, reopen: str) -> None:
    """An SCD2 table as it stood after `day`: later versions removed, later closings undone."""
    if read_table(spark, path) is None:
        return
    run_sql_on(spark, path, f"DELETE FROM {{table}} WHERE valid_from > {day}")
    run_sql_on(spark, path, f"UPDATE {{table}} SET {reopen} WHERE valid_to > {day}")


def _drop_labels_added_later(spark: SparkSession, warehouse: str, key: str) -> None:
    """Label columns of the snapshot whose label the rewound catalog does not know."""
    catalog = read_table(spark, table_path(warehouse, CATALOG_TABLE))
    known = set() if catalog is None else {row[0] for row in catalog.select("label_id").distinct().collect()}
    path = table_path(warehouse, SNAPSHOT_TABLE)
    later = [c for c in read_table(spark, path).columns if c not in (key, DATE) and c not in known]
    if later:
        log.info("labels first computed after the rewind date leave %s: %s", SNAPSHOT_TABLE, ", ".join(later))
        drop_columns(spark, path, later)
