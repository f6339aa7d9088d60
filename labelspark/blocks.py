"""Aligned blocks of days: what a tile covers, and which tiles a day reads and writes. No Spark here.

A tile holds one entity's partial aggregates over an aligned block of days: level 0 is one
day, level k the 2^k days starting at a multiple of 2^k (days counted from 1970-01-01). Any
window is the union of O(log n) such blocks, so an ordinary day merges a few rows per entity
however long its windows are, and only the blocks that end on a rebuilt day are written.
"""
from __future__ import annotations

import datetime as dt
from dataclasses import dataclass


EPOCH = dt.date(1970, 1, 1)
TOP_LEVEL = 10  # blocks of up to 1,024 days: a window of years is still a handful of blocks


@dataclass(frozen=True, order=True)
class Block:
    level: int
    start: dt.date

    @property
    def end(self) -> dt.date:
        return self.start + dt.timedelta(days=(1 << self.level) - 1)

    @property
    def name(self) -> str:
        """The partition value of its tiles: sorts by level, then by day."""
        return f"{self.level:02d}:{self.start.isoformat()}"

    @classmethod
    def of(cls, day: dt.date, level: int) -> "Block":
        number = (day - EPOCH).days
        return cls(level, EPOCH + dt.timedelta(days=number - number % (1 << level)))

    @classmethod
    def parse(cls, name: str) -> "Block":
        level, start = name.split(":", 1)
        return cls(int(level), dt.date.fromisoformat(start))

    def halves(self) -> tuple["Block", "Block"]:
        half = 1 << (self.level - 1)
        return Block(self.level - 1, self.start), Block(self.level - 1, self.start + dt.timedelta(days=half))


def cover(first: dt.date, last: dt.date) -> list[Block]:
    """Aligned blocks that tile `first`..`last` exactly: from the end, each the largest one that
    ends there and starts no earlier than `first` (at most two per level)."""
    blocks: list[Block] = []
    end = last
    while end >= first:
        level = 0
        while level < TOP_LEVEL:
            wider = Block.of(end, level + 1)
            if wider.end != end or wider.start < first:
                break
            level += 1
        block = Block.of(end, level)
        blocks.append(block)
        end = block.start - dt.timedelta(days=1)
    return blocks


def blocks_over(days: list[dt.date], tiled_through: dt.date) -> dict[int, list[Block]]:
    """The blocks above level 0 that hold one of `days` and end by `tiled_through`, by level:
    what must be merged again once those days' tiles are."""
    by_level: dict[int, list[Block]] = {}
    for level in range(1, TOP_LEVEL + 1):
        found = sorted({Block.of(day, level) for day in days})
        complete = [block for block in found if block.end <= tiled_through]
        if complete:
            by_level[level] = complete
    return by_level


def days_between(first: dt.date, last: dt.date) -> list[dt.date]:
    return [first + dt.timedelta(days=n) for n in range((last - first).days + 1)]
