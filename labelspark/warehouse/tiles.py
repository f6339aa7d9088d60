"""The tiles' table `source_tiles_<source>`: each entity's partial aggregates per block of days,
partitioned by the block's name, written through the engine (`tile_manifest` lists them)."""
from __future__ import annotations

import datetime as dt

from pyspark.sql import DataFrame, SparkSession
from pyspark.sql import functions as F

from labelspark.blocks import Block
from labelspark.warehouse.delta import create_table, read_table, replace_rows, run_sql_on
from labelspark.warehouse.deltars import existing_table, read_rows, sql_literal
from labelspark.warehouse.tile_manifest import TILE


def write_blocks(tiles: DataFrame, path: str, blocks: list[Block], *, create: bool) -> None:
    """Writes the tiles of `blocks` (all of them: a block without rows is emptied) in one commit."""
    if create:
        create_table(tiles, path, partition_by=TILE)
    else:
        replace_rows(tiles, path, _tile_in([b.name for b in blocks]), partition_column=TILE)


def read_blocks(spark: SparkSession, path: str, blocks: list[Block]) -> DataFrame:
    return read_table(spark, path).where(F.col(TILE).isin([b.name for b in blocks]))


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
