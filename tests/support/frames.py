"""DataFrame expectations shared by the engine-portable tests."""
from chispa import assert_df_equality
from pyspark.sql import types as T


def expected_frame(spark, fields: list[tuple[str, T.DataType]], rows: list[tuple]):
    schema = T.StructType([T.StructField(name, data_type, True) for name, data_type in fields])
    return spark.createDataFrame(rows, schema=schema)


def assert_rows(actual, expected) -> None:
    """Same rows and column types (the columns the expectation names, in its order).

    chispa's `ignore_row_order` sorts array columns by `hash()`, which Sail does not support
    for arrays; frames with arrays are sorted by their first column, the entity key, instead
    (one row per entity, so the order is total and duplicate rows still show).
    """
    actual = actual.select(*expected.columns)
    if any(isinstance(field.dataType, (T.ArrayType, T.MapType, T.StructType)) for field in expected.schema.fields):
        key = expected.columns[0]
        assert_df_equality(actual.orderBy(key), expected.orderBy(key), ignore_nullable=True)
    else:
        assert_df_equality(actual, expected, ignore_row_order=True, ignore_nullable=True)
