"""The Spark type each kind is stored as, and the kind of a Spark column type."""
from __future__ import annotations

from pyspark.sql import types as T

from labelspark.kinds import Kind

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
