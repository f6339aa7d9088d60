"""Tiles as DataFrames: a source's indicators as partials, the day tiles of its rows, the merge
of tiles into blocks, and the merge of a window's blocks into indicator values. Each is one
`groupBy`, like the full pass; the tables are `warehouse.tiles`'."""
from __future__ import annotations

import datetime as dt
import hashlib
import json
from dataclasses import dataclass

from pyspark.sql import Column, DataFrame
from pyspark.sql import functions as F
from pyspark.sql import types as T

from labelspark.blocks import TOP_LEVEL, Block, cover
from labelspark.compute.indicators import fixed_point_columns, require_number, where_of
from labelspark.compute.partials import Mergeable, Partial, mergeable
from labelspark.compute.sources import require_columns
from labelspark.config import Project
from labelspark.udfs import fixed_point_parts
from labelspark.warehouse.tile_manifest import TILE


@dataclass(frozen=True)
class SourceTiles:
    """Every indicator of one source as partials (its due ones or not: a weekly label does not
    change what the tiles hold), and what they were made for."""

    source: str
    key: str
    time: str
    indicators: dict[str, Mergeable]
    partials: tuple[Partial, ...]  # each definition once
    fixed: dict[str, tuple[str, str]]
    definition: str  # a digest: tiles made for another one are made again

    def rows(self, df: DataFrame, first_day: dt.date) -> DataFrame:
        """The source's prepared rows from `first_day` on, with their day's block name."""
        day = F.col(self.time) if isinstance(df.schema[self.time].dataType, T.DateType) else F.to_date(F.col(self.time))
        rows = df.where(day >= F.lit(first_day)).withColumn(TILE, F.concat(F.lit("00:"), F.coalesce(day.cast("string"), F.lit(""))))
        if self.fixed:
            rows = rows.withColumns({part: made for column, names in self.fixed.items()
                                     for part, made in zip(names, fixed_point_parts(F.col(column), self.source, column))})
        return rows


def source_tiles(df: DataFrame, name: str, project: Project, run_date: dt.date) -> SourceTiles:
    source = project.sources[name]
    indicators = [i for i, indicator in project.indicators.items() if indicator.source == name]
    for indicator_name in indicators:
        indicator = project.indicators[indicator_name]
        require_columns(df, name, [c for c in (indicator.of, indicator.column) if c])
        require_number(df, name, indicator)
    fixed = fixed_point_columns(df, [project.indicators[i] for i in indicators])
    mergeables: dict[str, Mergeable] = {}
    for indicator_name in indicators:
        where, where_definition = where_of(df, name, indicator_name, project, run_date)
        mergeables[indicator_name] = mergeable(df, source.time, project.indicators[indicator_name], where, where_definition, fixed)
    partials = tuple({p.definition: p for m in mergeables.values() for p in m.partials}.values())
    made_for = {
        "partials": sorted(p.definition for p in partials), "timezone": project.timezone, "key": source.key,
        "source": source.model_dump(mode="json", exclude={"lookback", "freshness", "incremental", "tiles_from_rows", "stream"}),
        "types": {c: df.schema[c].dataType.simpleString() for c in sorted({source.key, source.time, *fixed})},
    }
    digest = hashlib.sha256(json.dumps(made_for, sort_keys=True, default=str).encode()).hexdigest()[:20]
    return SourceTiles(name, source.key, source.time, mergeables, partials, fixed, digest)


def day_tiles(tiles: SourceTiles, rows: DataFrame) -> DataFrame:
    """One row per entity and day: the partials of its rows that day."""
    return rows.groupBy(tiles.key, TILE).agg(*(p.over_rows.alias(p.column) for p in tiles.partials))


def merged_blocks(tiles: SourceTiles, children: DataFrame, level: int) -> DataFrame:
    """One row per entity and block of `level`, merged from the tiles of its two halves; each
    partial keeps its type (sums of decimals would widen level by level)."""
    start = F.to_date(F.substring(F.col(TILE), 4, 10))
    number = F.unix_date(start)
    parent_start = F.date_from_unix_date(number - F.pmod(number, F.lit(1 << level)))
    parent = F.concat(F.lit(f"{level:02d}:"), F.coalesce(parent_start.cast("string"), F.lit("")))
    types = {f.name: f.dataType for f in children.schema.fields}
    return children.groupBy(tiles.key, parent.alias(TILE)).agg(
        *(_typed(p.merge(F.col(p.column)), types[p.column]).alias(p.column) for p in tiles.partials))


def blocks_at_once(tiles: SourceTiles, new_days: DataFrame, pieces: DataFrame | None, piece_parents: dict[str, list[str]],
                   rebuilt: set[str]) -> DataFrame:
    """The day tiles of `new_days` and every block above them named in `rebuilt`, in one
    `groupBy`: a rebuilt block is the merge of the new days it holds and of `pieces`, the
    unchanged blocks that tile the rest of it (`piece_parents`: which rebuilt blocks each one
    is part of). A day tile merged alone is itself."""
    number = F.unix_date(F.to_date(F.substring(F.col(TILE), 4, 10)))
    holders = F.array(*(F.concat(F.lit(f"{level:02d}:"), F.date_from_unix_date(number - F.pmod(number, F.lit(1 << level))).cast("string"))
                        for level in range(TOP_LEVEL + 1)))
    names = F.array(*(F.lit(name) for name in sorted(rebuilt)))
    parts = new_days.withColumn(TILE, F.explode(F.filter(holders, lambda holder: F.array_contains(names, holder))))
    if pieces is not None and piece_parents:
        parents = F.create_map(*(x for piece, into in piece_parents.items() for x in (F.lit(piece), F.array(*map(F.lit, into)))))
        parts = parts.unionByName(pieces.withColumn(TILE, F.explode(F.element_at(parents, F.col(TILE)))))
    types = {f.name: f.dataType for f in new_days.schema.fields}
    # a partition column Sail can tell is never null: else its replaceWhere rewrites the other blocks
    return parts.groupBy(tiles.key, F.coalesce(F.col(TILE), F.lit("")).alias(TILE)).agg(*(_typed(p.merge(F.col(p.column)), types[p.column]).alias(p.column) for p in tiles.partials))


def blocks_to_read(project: Project, due: list[str], run_date: dt.date, first_day: dt.date) -> dict[str | None, list[Block]]:
    """Each due indicator's window (None: every day) -> the blocks that make it up. Windows nest:
    a longer one is a shorter one's blocks and those of the days before them, so each day is
    read from one block whatever the windows (and every entity of the source is in those of
    every day)."""
    lengths = sorted({project.indicators[name].window_days for name in due if project.indicators[name].window_days})
    by_length: dict[int | None, list[Block]] = {}
    blocks: list[Block] = []
    covered_from = run_date + dt.timedelta(days=1)
    for length in [*lengths, None]:
        start = first_day if length is None else max(first_day, run_date - dt.timedelta(days=length - 1))
        if start < covered_from:
            blocks = blocks + cover(start, covered_from - dt.timedelta(days=1))
            covered_from = start
        by_length[length] = blocks
    windows: dict[str | None, list[Block]] = {None: by_length[None]}
    for name in due:
        if project.indicators[name].window_days:
            windows[name] = by_length[project.indicators[name].window_days]
    return windows


def merged_indicators(tiles: SourceTiles, blocks: DataFrame, project: Project, due: list[str],
                      windows: dict[str | None, list[Block]], key_type: str) -> DataFrame:
    """One row per entity with the `due` indicators, merged from the blocks of their windows in
    one `groupBy` (equal partials over equal blocks once)."""
    aliases: dict[tuple[str, tuple[str, ...]], str] = {}
    columns: list[Column] = []
    outputs: list[Column] = []
    types = {f.name: f.dataType for f in blocks.schema.fields}
    for name in due:
        names = tuple(b.name for b in windows.get(name, windows[None]))
        merged = []
        for partial in tiles.indicators[name].partials:
            key = (partial.definition, names)
            if key not in aliases:
                aliases[key] = f"__merged{len(columns)}"
                kept = F.when(F.col(TILE).isin(list(names)), F.col(partial.column))
                columns.append(_typed(partial.merge_for_reading(kept), types[partial.column]).alias(aliases[key]))
            merged.append(F.col(aliases[key]))
        outputs.append(tiles.indicators[name].finish(merged).alias(name))
    entity = F.col(tiles.key).cast(key_type).alias(project.key)
    if not columns:
        return blocks.select(entity).distinct()
    return blocks.groupBy(entity).agg(*columns).select(project.key, *outputs)


def _typed(merged: Column, data_type: T.DataType) -> Column:
    """A merged partial in its tiles' type (a sum of decimals would widen level by level); lists
    with elements that may be null (classic Spark refuses a cast that forbids them, and Sail then
    writes every file's list alike)."""
    return merged.cast(data_type.simpleString() if isinstance(data_type, T.ArrayType) else data_type)

