"""Picking one row's value per group (latest, first, last) in a single hash aggregation.

The row to pick is the greatest (or least) of a text key: the time, a null flag and the value,
each written as text whose byte order is the value's order. `max` of text is a vectorised
aggregate on every engine, where `max` of a struct is not: on Sail it took 15x longer and
memory grew with the groups. The value is decoded from the key after the aggregation.

Value types with no such text (arrays, maps, structs) fall back to `max` of a struct with the
same order: nulls lowest on every engine (engines disagree on where a null struct field sorts).
"""
from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal
from typing import Callable

from pyspark.sql import Column
from pyspark.sql import functions as F
from pyspark.sql import types as T

from labelspark.udfs.casts import try_cast

_MICROS_OFFSET = 10**17  # timestamps of years 1-9999 become positive, 18 digits
_DAYS_OFFSET = 10**7  # dates of years 1-9999 become positive, 8 digits
_LONG_OFFSET = Decimal(2**63)  # every bigint becomes non-negative, 20 digits
_DECIMAL = T.DecimalType(38, 9)
_DECIMAL_OFFSET = Decimal(10**28)  # |x| < 1e28 becomes positive; 29 + 1 + 9 characters
_DECIMAL_WIDTH = 39


@dataclass(frozen=True)
class Sortable:
    """Text of a value whose byte order is the value's order, and the way back.

    `width` is fixed for all but strings, which therefore only ever end a key."""

    encode: Callable[[Column], Column]
    decode: Callable[[Column], Column]
    width: int | None


def _digits(number: Column, width: int) -> Column:
    return F.lpad(number.cast("string"), width, "0")


def _number(data_type: T.DataType) -> Sortable:
    """Order by a shifted decimal(38,9); decode from the exact text appended after it."""

    def encode(value: Column) -> Column:
        shifted = _digits(try_cast(value, _DECIMAL) + F.lit(_DECIMAL_OFFSET).cast(_DECIMAL), _DECIMAL_WIDTH)
        beyond = F.when(F.isnan(value.cast("double")) | (value > 0), F.lit("~" * _DECIMAL_WIDTH)).otherwise(F.lit(" " * _DECIMAL_WIDTH))
        return F.concat(F.coalesce(shifted, beyond), value.cast("string"))

    return Sortable(encode, lambda text: F.substring(text, _DECIMAL_WIDTH + 1, 1 << 30).cast(data_type), None)


def sortable(data_type: T.DataType) -> Sortable | None:
    if isinstance(data_type, T.StringType):
        return Sortable(lambda v: v, lambda text: text, None)
    if isinstance(data_type, (T.TimestampType, T.TimestampNTZType)):
        return Sortable(
            lambda v: _digits(F.unix_micros(v.cast("timestamp")) + F.lit(_MICROS_OFFSET), 18),
            lambda text: F.timestamp_micros(text.cast("long") - F.lit(_MICROS_OFFSET)).cast(data_type),
            18,
        )
    if isinstance(data_type, T.DateType):
        return Sortable(
            lambda v: _digits(F.unix_date(v) + F.lit(_DAYS_OFFSET), 8),
            lambda text: F.date_from_unix_date(text.cast("int") - F.lit(_DAYS_OFFSET)),
            8,
        )
    if isinstance(data_type, T.BooleanType):
        return Sortable(lambda v: v.cast("int").cast("string"), lambda text: text == F.lit("1"), 1)
    if isinstance(data_type, (T.ByteType, T.ShortType, T.IntegerType, T.LongType)):
        wide = T.DecimalType(20, 0)
        return Sortable(
            lambda v: _digits(v.cast(wide) + F.lit(_LONG_OFFSET).cast(wide), 20),
            lambda text: (text.cast(wide) - F.lit(_LONG_OFFSET).cast(wide)).cast(data_type),
            20,
        )
    if isinstance(data_type, (T.FloatType, T.DoubleType, T.DecimalType)):
        return _number(data_type)
    return None


@dataclass(frozen=True)
class Pick:
    """An aggregate that picks one row's value, and how to read the value from its result."""

    aggregate: Column
    read: Callable[[Column], Column]


def pick(value: Column, value_type: T.DataType, time: Column, time_type: T.DataType, keep: Column | None, how: str, name: str) -> Pick:
    """The value of one row per group, ordered by time then value, nulls lowest.

    how: `latest` (greatest row, its value even when null: that is the latest fact),
    `first` or `last` (least or greatest row among those with a value).
    `name` tells the aggregates of one groupBy apart on engines that confuse equal display names.
    """
    present = value.isNotNull()
    keep_row = present if how != "latest" else None
    if keep is not None:
        keep_row = keep if keep_row is None else keep & keep_row
    aggregate = F.min if how == "first" else F.max
    time_text, value_text = sortable(time_type), sortable(value_type)
    if time_text is None or time_text.width is None or value_text is None:
        row = F.struct(_order_key(time, value).alias(f"{name}_key"), value.alias(name))
        return Pick(aggregate(row if keep_row is None else F.when(keep_row, row)), lambda result: result.getField(name))
    key = F.concat(time_text.encode(time), F.when(present, F.concat(F.lit("1"), value_text.encode(value))).otherwise(F.lit("0")))
    start = time_text.width + 2
    return Pick(
        aggregate(key if keep_row is None else F.when(keep_row, key)),
        lambda result: F.when(F.substring(result, start - 1, 1) == F.lit("1"), value_text.decode(F.substring(result, start, 1 << 30))),
    )


def _order_key(*columns: Column) -> Column:
    """A struct that orders rows by `columns` in turn, nulls lowest on every engine."""
    fields: list[Column] = []
    for i, column in enumerate(columns):
        fields.append(column.isNotNull().alias(f"k{i}_set"))
        fields.append(column.alias(f"k{i}"))
    return F.struct(*fields)
