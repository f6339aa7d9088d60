"""The tiles' manifest `source_tiles`: which blocks each source has, the definition they were
made for and each day's row count when tiled (how late rows are found). Read and written with
delta-rs (a few hundred rows a source, no engine job, as label_runs); no pyspark, so `plan`
reads it too."""
from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field

import pyarrow as pa
from deltalake import write_deltalake

from labelspark.blocks import Block
from labelspark.warehouse.deltars import existing_table, read_rows, sql_literal

TILE = "tile"  # the tile tables' partition column: a block's name
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
