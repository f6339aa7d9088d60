"""One DataFrame of many, for the per-label selects of history and stats."""
from __future__ import annotations

from pyspark.sql import DataFrame


def union_all(frames: list[DataFrame]) -> DataFrame:
    """The rows of every frame (same columns, by position), unioned as a balanced tree: a chain
    of 600 unions nested 600 plans deep, and Sail's planner overflowed its stack (SIGSEGV)."""
    if len(frames) == 1:
        return frames[0]
    middle = len(frames) // 2
    return union_all(frames[:middle]).unionAll(union_all(frames[middle:]))
