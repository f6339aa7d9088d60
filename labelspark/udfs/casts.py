"""A cast that gives null where a value does not convert, on every engine and PySpark line."""
from __future__ import annotations

from pyspark.sql import Column
from pyspark.sql import types as T

from labelspark.engine.facts import active_jvm, pyspark_line


def try_cast(value: Column, data_type: T.DataType) -> Column:
    """`value` as `data_type`, null where it does not convert (ANSI mode fails the query instead).

    PySpark 4 has `Column.try_cast` on classic Spark and Spark Connect (Sail). PySpark 3.5 has
    no Python or Scala spelling for it, and `try_cast(x AS t)` in SQL text needs a column name,
    so there the same Catalyst expression Spark 4's method builds (a `Cast` in TRY mode) is made
    through the JVM: the answers are Spark's own on both lines."""
    if pyspark_line() >= (4, 0):
        return value.try_cast(data_type)
    return _try_cast_on_spark35(value, data_type)


def _try_cast_on_spark35(value: Column, data_type: T.DataType) -> Column:
    jvm = active_jvm()  # classic only: 3.5's Connect client has no TRY cast
    expressions = jvm.org.apache.spark.sql.catalyst.expressions
    target = jvm.org.apache.spark.sql.types.DataType.fromJson(data_type.json())
    # the session's time zone is filled in by the analyzer, as for every cast
    cast = expressions.Cast(value._jc.expr(), target, jvm.scala.Option.empty(), expressions.EvalMode.TRY())
    return Column(jvm.org.apache.spark.sql.Column(cast))
