"""The warehouse's tables: their names and where each one lives. No Spark here, so the
commands that read the tables with delta-rs (`stats`, `history`, the analytics, the site)
share the names with the run that writes them."""
from __future__ import annotations

from dataclasses import dataclass, field

SNAPSHOT_TABLE = "label_snapshot"
STATS_TABLE = "label_stats"
SEGMENTS_TABLE = "segment_members"
HISTORY_TABLE = "label_history"
CATALOG_TABLE = "label_catalog"
RUNS_TABLE = "label_runs"
UPDATES_TABLE = "label_updates"  # the real-time stream's changes (warehouse/updates.py)
TILES_TABLE = "source_tiles"  # which tiles each source has; their rows live in `source_tiles_<source>`
DATE = "snapshot_date"  # the partition column of the dated tables (snapshot, stats, segments)


def table_path(warehouse: str, table: str) -> str:
    return f"{warehouse.rstrip('/')}/{table}"


@dataclass(frozen=True)
class Tables:
    """Where each output table lives under the warehouse."""

    warehouse: str
    snapshot: str = field(init=False)
    stats: str = field(init=False)
    segments: str = field(init=False)
    history: str = field(init=False)
    catalog: str = field(init=False)
    runs: str = field(init=False)

    def __post_init__(self) -> None:
        names = {"snapshot": SNAPSHOT_TABLE, "stats": STATS_TABLE, "segments": SEGMENTS_TABLE,
                 "history": HISTORY_TABLE, "catalog": CATALOG_TABLE, "runs": RUNS_TABLE}
        for attribute, table in names.items():
            object.__setattr__(self, attribute, table_path(self.warehouse, table))

    @property
    def updates(self) -> str:
        return table_path(self.warehouse, UPDATES_TABLE)

    @property
    def tile_manifest(self) -> str:
        return table_path(self.warehouse, TILES_TABLE)

    def tiles(self, source: str) -> str:
        return table_path(self.warehouse, f"{TILES_TABLE}_{source}")

    def written_by_runs(self, sources) -> list[str]:
        """The tables a failed run or rewind puts back: those users read and the sources' tiles."""
        return [*self.read_by_users, self.tile_manifest, *(self.tiles(source) for source in sources)]

    @property
    def read_by_users(self) -> list[str]:
        """The tables a failed run must leave as they were (label_runs records the failure)."""
        return [self.snapshot, self.stats, self.segments, self.history, self.catalog]
