"""Sums and averages whose bits do not depend on the order their inputs are added in.

A sum of doubles rounds after every addition, so its last bits follow the order in which the
engine's partitions arrive: re-running a day changed 7,240 of 44,759 `spend_90d` values
(`2465.41` against `2465.4100000000003`), which opened history versions, rewrote search
documents and made engines disagree. Here each double is taken to a fixed-point integer of
`SCALE` decimal places (`floor(x * 10^6 + 0.5)`: IEEE steps every engine performs alike), the
integers are added exactly as two 64-bit sums (the high and low 32 bits of each, so no entity's
total can overflow), and the total becomes a double once, at the end: the double nearest to the
sum of the rounded values (while it stays below 2^53 millionths, 9·10^9; beyond, two roundings,
still the same on every engine). Two `long` sums cost what one `double` sum does, where a
`decimal(38)` sum runs through Java's BigDecimal on classic Spark (3x the aggregation's time).

Integer sums are exact already; a decimal column's sum stays the engine's exact decimal sum.
"""
from __future__ import annotations

from pyspark.sql import Column
from pyspark.sql import functions as F

from labelspark.engine.error_conversion import BAD_VALUE

SCALE = 6  # decimal places each double keeps: money exactly, quantities to a millionth
_UNIT = float(10**SCALE)
_LOW_BITS = float(2**32)
# beyond this a scaled value no longer fits a 64-bit integer (|x| >= 4.6·10^12 at SCALE 6)
_LARGEST = float(2**62)


def fixed_point_parts(value: Column, source: str, column: str) -> tuple[Column, Column]:
    """The high and low 32 bits of each double's fixed-point integer, as longs (null stays null):
    made once per row in a projection, then summed under each indicator's condition. A NaN,
    infinite or too large value fails the run naming `source` and `column` (engine/error_conversion.py reads it),
    where a sum would hide it in a NaN."""
    scaled = value.cast("double") * F.lit(_UNIT)
    integer = F.floor(scaled + F.lit(0.5)).cast("double")
    checked = F.when(F.abs(scaled) < F.lit(_LARGEST), integer).when(
        value.isNotNull(), F.raise_error(F.lit(f"{BAD_VALUE} source={source} column={column}: {_TOO_LARGE}")).cast("double"),
    )
    high = F.floor(checked / F.lit(_LOW_BITS))
    return high, (checked - high.cast("double") * F.lit(_LOW_BITS)).cast("long")


def sum_of_parts(high: Column, low: Column) -> Column:
    """The aggregate of `fixed_point_parts`: the exact total as the nearest double."""
    return total_of_parts(F.sum(high), F.sum(low))


def total_of_parts(high_sum: Column, low_sum: Column) -> Column:
    """The exact total of the sums of the high and low parts (sums of sums, too: a tile's)."""
    return (high_sum.cast("double") * F.lit(_LOW_BITS) + low_sum.cast("double")) / F.lit(_UNIT)


def mean_of(total: Column, count: Column) -> Column:
    """An exact total over its count: null without values (ANSI mode would fail the division)."""
    return F.when(count > 0, total.cast("double") / count)


_TOO_LARGE = f"a value is NaN, infinite or beyond ±{_LARGEST / _UNIT:.3g}, which no exact sum holds: clean it out, or cast the column to decimal in the source"
