"""The warehouse's tables: their names and where each one lives. No Spark here, so the
commands that read the tables with delta-rs (`stats`, `history`, the analytics, the site)
share the names with the run that writes them."""
from __future__ import annotations

SNAPSHOT_TABLE = "label_snapshot"
STATS_TABLE = "label_stats"
SEGMENTS_TABLE = "segment_members"
HISTORY_TABLE = "label_history"
CATALOG_TABLE = "label_catalog"
RUNS_TABLE = "label_runs"
DATE = "snapshot_date"  # the partition column of the dated tables (snapshot, stats, segments)


def table_path(warehouse: str, table: str) -> str:
    return f"{warehouse.rstrip('/')}/{table}"
