"""The five value kinds of labels and indicators, and their Spark types.

Rules are type-checked against kinds, not Spark types: an `int` and a `double` column are
both `number`, a `date` and a `timestamp` are both `date`.
"""
from __future__ import annotations

from typing import Literal

from pyspark.sql import types as T

Kind = Literal["string", "number", "boolean", "date", "list"]
KINDS: tuple[Kind, ...] = ("string", "number", "boolean", "date", "list")

SPARK_TYPE_OF_KIND: dict[str, T.DataType] = {
    "string": T.StringType(),
    "number": T.DoubleType(),
    "boolean": T.BooleanType(),
    "date": T.DateType(),
    "list": T.ArrayType(T.StringType()),
}


def kind_of(data_type: T.DataType) -> Kind | None:
    """The kind of a Spark column type, or None for types rules cannot compare (maps, structs)."""
    if isinstance(data_type, (T.StringType, T.VarcharType, T.CharType)):
        return "string"
    if isinstance(data_type, T.NumericType):
        return "number"
    if isinstance(data_type, T.BooleanType):
        return "boolean"
    if isinstance(data_type, (T.DateType, T.TimestampType, T.TimestampNTZType)):
        return "date"
    if isinstance(data_type, T.ArrayType):
        return "list"
    return None
