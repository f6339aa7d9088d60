"""The tiles' tables: `source_tiles_<source>` holds each entity's partial aggregates per block
of days (partitioned by the block's name), `source_tiles` which blocks each source has, the
definition they were made for and each day's row count (how late rows are found)."""
from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field

import pyarrow as pa
from deltalake import write_deltalake
from pyspark.sql import DataFrame, SparkSession
from pyspark.sql import functions as F

from labelspark.blocks import Block
from labelspark.warehouse.delta import create_table, read_table, replace_rows, run_sql_on
from labelspark.warehouse.deltars import existing_table, read_rows, sql_literal

TILE = "tile"  # the partition column: a block's name
_MANIFEST = pa.schema([
    ("source", pa.string()), (TILE, pa.string()), ("tile_end", pa.date32()), ("rows", pa.int64()),
    ("definition", pa.string()), ("run_id", pa.string()),
])


@dataclass
class Tiled:
    """What the manifest says of one source's tiles."""

    definition: str | None = None
    blocks: set[Block] = field(default_factory=set)
    day_rows: dict[dt.date, int] = field(default_factory=dict)  # level 0: source rows per day when tiled

    @property
    def through(self) -> dt.date | None:
        return max(self.day_rows, default=None)


def tiled(manifest: str, source: str) -> Tiled:
    if existing_table(manifest) is None:
        return Tiled()
    rows = read_rows(manifest, ["tile", "rows", "definition"], f"source = {sql_literal(source)}").to_pylist()
    if not rows:
        return Tiled()
    blocks = {Block.parse(row["tile"]) for row in rows}
    days = {Block.parse(row["tile"]).start: row["rows"] for row in rows if row["tile"].startswith("00:")}
    return Tiled(rows[0]["definition"], blocks, days)


def write_blocks(tiles: DataFrame, path: str, blocks: list[Block], *, create: bool) -> None:
    """Writes the tiles of `blocks` (all of them: a block without rows is emptied) in one commit."""
    if create:
        create_table(tiles, path, partition_by=TILE)
    else:
        replace_rows(tiles, path, _tile_in([b.name for b in blocks]), partition_column=TILE)


def read_blocks(spark: SparkSession, path: str, blocks: list[Block]) -> DataFrame:
    return read_table(spark, path).where(F.col(TILE).isin([b.name for b in blocks]))


def record(manifest: str, source: str, definition: str, blocks: set[Block], day_rows: dict[dt.date, int], run_id: str) -> None:
    """The source's entries as they now stand, in one commit (delta-rs: a few hundred rows, no
    engine job, as label_runs)."""
    rows = [{"source": source, TILE: b.name, "tile_end": b.end, "rows": day_rows.get(b.start) if b.level == 0 else None,
             "definition": definition, "run_id": run_id} for b in sorted(blocks)]
    entries = pa.Table.from_pylist(rows, schema=_MANIFEST)
    if existing_table(manifest) is None:
        write_deltalake(manifest, entries, configuration={"delta.checkpointInterval": "10"})
    else:
        write_deltalake(manifest, entries, mode="overwrite", predicate=f"source = {sql_literal(source)}")


def forget_after(spark: SparkSession, manifest: str, paths: dict[str, str], day: dt.date) -> None:
    """Removes every block ending after `day` (rewind): its tiles, then its entry."""
    table = existing_table(manifest)
    if table is None:
        return
    for source, path in paths.items():
        later = [row[TILE] for row in read_rows(manifest, [TILE], f"source = {sql_literal(source)} AND tile_end > {sql_literal(day)}").to_pylist()]
        if later and read_table(spark, path) is not None:
            run_sql_on(spark, path, f"DELETE FROM {{table}} WHERE {_tile_in(later)}")
    table.delete(f"tile_end > {sql_literal(day)}")


def _tile_in(names: list[str]) -> str:
    """Spark SQL text selecting the blocks named (names hold digits, '-' and ':' only)."""
    return f"{TILE} IN ({', '.join(sql_literal(name) for name in names)})"
