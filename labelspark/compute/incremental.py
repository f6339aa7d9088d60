"""Incremental source passes: a day tiles its own rows (and the `lookback` days before it), merges
the blocks its tiles complete, and reads its indicators from a few blocks per entity instead of
every row of every window.

Rows that arrive for a day older than the lookback are not in its tile: each run counts the
source's rows per day (one scan of the time column) against the counts the tiles were made
from and reports the difference; `run --full` counts them once, `retile --from D` for good.
A back-fill (a date before the tiles' last day) and `--full` take the full pass.
"""
from __future__ import annotations

import datetime as dt
import logging
from dataclasses import dataclass, field

from pyspark.sql import DataFrame, SparkSession
from pyspark.sql import functions as F
from pyspark.sql import types as T

from labelspark.blocks import Block, blocks_over, cover, days_between
from labelspark.compute.plan import why_full_pass
from labelspark.compute.tiles import SourceTiles, blocks_at_once, blocks_to_read, day_tiles, merged_blocks, merged_indicators, source_tiles
from labelspark.config import Project
from labelspark.warehouse import tile_manifest
from labelspark.warehouse import tiles as tile_tables
from labelspark.warehouse.names import Tables

log = logging.getLogger(__name__)
# up to this many new rows, day tiles and the blocks above them are made in one job and commit
ONE_COMMIT_ROWS = 2_000_000


@dataclass
class Tiling:
    """What one run does with tiles: `full` takes the full pass everywhere; the late rows found are
    noted for the run record."""

    spark: SparkSession
    project: Project
    run_date: dt.date
    run_id: str
    full: bool = False
    late: dict[str, dict] = field(default_factory=dict)  # source -> {rows, oldest}

    def merged(self, name: str, prepared: DataFrame, due: list[str], key_type: str) -> DataFrame | None:
        """The source's `due` indicators merged from its tiles, brought up to the run date first;
        None where it takes the full pass (said in the log)."""
        reason = "`run --full`" if self.full else why_full_pass(self.project, name)
        if reason is None:
            advanced = advance(self.spark, self.project, name, prepared, self.run_date, self.run_id, self.late)
            if isinstance(advanced, str):
                reason = advanced
            else:
                tiles, first_day = advanced
                windows = blocks_to_read(self.project, due, self.run_date, first_day)
                wanted = sorted({b for blocks in windows.values() for b in blocks})
                log.info("source %s: %d indicators merged from %d blocks of tiles", name, len(due), len(wanted))
                blocks = tile_tables.read_blocks(self.spark, Tables(self.project.warehouse).tiles(name), wanted)
                return merged_indicators(tiles, blocks, self.project, due, windows, key_type)
        log.info("source %s: full pass (%s)", name, reason)
        return None

    @property
    def details(self) -> dict:
        return {"late_rows": self.late} if self.late else {}


def advance(spark: SparkSession, project: Project, name: str, prepared: DataFrame, run_date: dt.date, run_id: str,
            late: dict[str, dict], *, since: dt.date | None = None) -> tuple[SourceTiles, dt.date] | str:
    """Tiles the days from the lookback's first (or `since`, or the first untiled day) to
    `run_date` and merges the blocks they complete; returns the tiles and the first tiled day,
    or why the source takes the full pass instead (a back-fill, too few rows to be worth tiles)."""
    tables = Tables(project.warehouse)
    path = tables.tiles(name)
    before = tile_manifest.tiled(tables.tile_manifest, name)
    counts = _rows_per_day(project.sources[name].time, prepared)
    if not counts:
        return "no rows up to the run date"
    threshold = project.sources[name].tiles_from_rows
    if before.definition is None and sum(counts.values()) < threshold:  # before its partials: a small source's run stays as cheap
        return f"{sum(counts.values())} rows up to the run date, fewer than `tiles_from_rows` ({threshold}): reading them costs less than tiles"
    tiles = source_tiles(prepared, name, project, run_date)
    fresh = before.definition != tiles.definition
    if not fresh and before.through is not None and before.through > run_date:
        return f"a back-fill: its tiles reach {before.through}"
    lookback_start = run_date - dt.timedelta(days=project.sources[name].lookback_days - 1)
    if fresh:
        if before.definition is not None:
            log.info("source %s: tiles made for another definition (indicators, cleaning, types): made again from %s", name, min(counts))
        start = min(counts)
    else:
        start = min(before.through + dt.timedelta(days=1), lookback_start, since or run_date)
        _report_late(name, project, counts, before.day_rows, start, late)
    days = days_between(start, run_date)
    new_rows = sum(counts.get(day, 0) for day in days)
    log.info("source %s: tiling %d days (%s to %s, %d rows)", name, len(days), start, run_date, new_rows)
    new_days = day_tiles(tiles, tiles.rows(prepared, start))
    parents = blocks_over(days, run_date)
    if new_rows <= ONE_COMMIT_ROWS:
        _write_at_once(spark, tiles, path, new_days, days, parents, start, fresh)
    else:
        _write_level_by_level(spark, tiles, path, new_days, days, parents, fresh)
    written = {Block(0, d) for d in days} | {b for blocks in parents.values() for b in blocks}
    day_rows = {**({} if fresh else before.day_rows), **{d: counts.get(d, 0) for d in days}}
    blocks = ({b for b in before.blocks if b.end <= run_date} if not fresh else set()) | written
    tile_manifest.record(tables.tile_manifest, name, tiles.definition, blocks, day_rows, run_id)
    return tiles, min(d for d, n in day_rows.items() if n) if any(day_rows.values()) else start


def _write_at_once(spark: SparkSession, tiles: SourceTiles, path: str, new_days: DataFrame, days: list[dt.date],
                   parents: dict[int, list[Block]], start: dt.date, fresh: bool) -> None:
    """Day tiles and the blocks above them in one job and one commit: each rebuilt block from
    the new days it holds and the unchanged blocks that tile the rest of it (its days before
    `start`). Commits cost more than small merges (a second or two each on classic Spark)."""
    rebuilt = [Block(0, d) for d in days] + [b for blocks in parents.values() for b in blocks]
    piece_parents: dict[str, list[str]] = {}
    for parent in (b for blocks in parents.values() for b in blocks):
        if parent.start < start:
            for piece in cover(parent.start, start - dt.timedelta(days=1)):
                piece_parents.setdefault(piece.name, []).append(parent.name)
    pieces = None if fresh or not piece_parents else tile_tables.read_blocks(spark, path, [Block.parse(n) for n in piece_parents])
    made = blocks_at_once(tiles, new_days, pieces, piece_parents, {b.name for b in rebuilt})
    tile_tables.write_blocks(made, path, rebuilt, create=fresh)


def _write_level_by_level(spark: SparkSession, tiles: SourceTiles, path: str, new_days: DataFrame, days: list[dt.date],
                          parents: dict[int, list[Block]], fresh: bool) -> None:
    """Day tiles, then each level's blocks from the two halves below, a commit each: a first
    tiling of a large source, where merging every day into every block at once would repeat
    its rows once per level."""
    tile_tables.write_blocks(new_days, path, [Block(0, d) for d in days], create=fresh)
    for level, blocks in parents.items():
        log.info("source %s: merging %d blocks of %d days", tiles.source, len(blocks), 1 << level)
        children = tile_tables.read_blocks(spark, path, [half for block in blocks for half in block.halves()])
        tile_tables.write_blocks(merged_blocks(tiles, children, level), path, blocks, create=False)


def _rows_per_day(time_column: str, prepared: DataFrame) -> dict[dt.date, int]:
    """The prepared rows per day: a few hundred numbers, from one scan of the time column."""
    time = F.col(time_column)
    day = time if isinstance(prepared.schema[time_column].dataType, T.DateType) else F.to_date(time)
    return {row[0]: row[1] for row in prepared.groupBy(day.alias("day")).count().collect() if row[0] is not None}


def _report_late(name: str, project: Project, counts: dict[dt.date, int], tiled: dict[dt.date, int], start: dt.date, late: dict) -> None:
    """Days before `start` whose rows differ from those their tiles hold: warned and noted."""
    changed = {day: counts.get(day, 0) - tiled.get(day, 0) for day in counts.keys() | tiled.keys() if day < start}
    changed = {day: n for day, n in changed.items() if n}
    if not changed:
        return
    oldest, rows = min(changed), sum(changed.values())
    late[name] = {"rows": rows, "oldest": oldest.isoformat(), "days": len(changed)}
    log.warning("source %s: %+d rows on %d days from %s on arrived or left after their days were tiled (lookback %s): "
                "not counted; `labelspark retile %s --from %s` takes them", name, rows, len(changed), oldest,
                project.sources[name].lookback, project.file, oldest)


def retile(spark: SparkSession, project: Project, since: dt.date, prepared_as_of) -> dict[str, dt.date]:
    """Tiles every incremental source again from `since` to its last tiled day, taking the rows
    that arrived late; `prepared_as_of(source, day)` reads a source as of a day. Returns the
    sources retiled and their last day. The caller holds the lock."""
    done = {}
    for name in project.sources:
        through = tile_manifest.tiled(Tables(project.warehouse).tile_manifest, name).through
        if why_full_pass(project, name) is None and through is not None:
            log.info("source %s: tiling again from %s to %s", name, since, through)
            advance(spark, project, name, prepared_as_of(name, through), through, "retile", {}, since=since)
            done[name] = through
    return done
