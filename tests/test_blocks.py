"""Aligned blocks of days (labelspark/blocks.py): a window is covered exactly, by few blocks,
and a rebuilt day names every complete block that holds it. No Spark."""
from __future__ import annotations

import datetime as dt

import pytest

from labelspark.blocks import TOP_LEVEL, Block, blocks_over, cover, days_between

D = dt.date(2026, 3, 31)


@pytest.mark.parametrize("days", [1, 2, 7, 30, 90, 365, 1000, 3000])
def test_a_window_is_covered_exactly_once_by_few_aligned_blocks(days):
    first = D - dt.timedelta(days=days - 1)
    blocks = cover(first, D)
    covered = [day for block in blocks for day in days_between(block.start, block.end)]
    assert sorted(covered) == days_between(first, D)  # every day once, none outside
    for block in blocks:
        assert (block.start - dt.date(1970, 1, 1)).days % (1 << block.level) == 0
        assert block.level <= TOP_LEVEL
    assert len(blocks) <= 2 * TOP_LEVEL + days // (1 << TOP_LEVEL)


def test_a_rebuilt_day_names_the_complete_blocks_holding_it():
    days = [D - dt.timedelta(days=n) for n in range(3)]
    found = blocks_over(days, D)
    for level, blocks in found.items():
        for block in blocks:
            assert block.end <= D and any(block.start <= day <= block.end for day in days)
    expected = {(lvl, b) for lvl in range(1, TOP_LEVEL + 1) for b in {Block.of(d, lvl) for d in days} if b.end <= D}
    assert {(lvl, b) for lvl, blocks in found.items() for b in blocks} == expected


def test_a_block_name_sorts_and_parses_back():
    block = Block.of(D, 5)
    assert Block.parse(block.name) == block and block.name.startswith("05:")
    assert block.halves()[0].start == block.start and block.halves()[1].end == block.end
