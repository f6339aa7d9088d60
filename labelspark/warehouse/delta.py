"""Small Delta helpers that work through any Spark session (classic with delta-spark, or Connect)."""
from __future__ import annotations

import datetime as dt
import uuid

from pyspark.sql import Column, DataFrame, SparkSession
from pyspark.sql import functions as F
from pyspark.sql import types as T

from labelspark.engine.error_conversion import converted, is_missing_table
from labelspark.engine.facts import engine_of
from labelspark.warehouse.deltars import open_table
from labelspark.warehouse.names import DATE

DELETION_VECTORS = "delta.enableDeletionVectors"


def read_table(spark: SparkSession, path: str) -> DataFrame | None:
    """The Delta table at `path`, or None where there is none yet."""
    try:
        df = spark.read.format("delta").load(path)
        df.schema  # noqa: B018 - forces the lookup, so a missing table fails here
    except Exception as exc:  # engines raise different classes: AnalysisException, Py4JJavaError, ...
        if is_missing_table(exc):
            return None
        raise converted(exc) or exc from None
    return df


def read_partition(spark: SparkSession, path: str, day: dt.date) -> DataFrame | None:
    """The rows of `day` in the date-partitioned table at `path`, without the date column; None
    where there is no table."""
    table = read_table(spark, path)
    return None if table is None else partition_of(table, day)


def partition_of(table: DataFrame, day: dt.date) -> DataFrame:
    """The rows of `day` in a date-partitioned table read, without the date column."""
    return table.where(F.col(DATE) == F.lit(day)).drop(DATE)


def date_literal(day: dt.date) -> str:
    """A date as SQL text for Delta's `replaceWhere` (which takes only text)."""
    return f"DATE'{day.isoformat()}'"


def nullable(df: DataFrame, partition_column: str | None = None) -> DataFrame:
    """`df` with every column but the partition column nullable, as delta-spark writes tables.

    Sail writes a query's NOT NULL (a `count` is never null) into the table it creates and
    then refuses the nulls a later day brings (a label carried over to an entity that arrived
    since). Each column is wrapped in an identity the engine cannot prove non-null (a union
    with an empty frame or `DataFrame.to` adds field metadata Sail's later writes do not
    match). The partition column stays NOT NULL: with it nullable, Sail's `replaceWhere`
    rewrites the other partitions' rows instead of dropping the date's files.
    """
    return df.select(*(
        (df[f.name] if f.name == partition_column else _maybe_null(df[f.name], f.dataType)).alias(f.name)
        for f in df.schema.fields
    ))


def _maybe_null(column: Column, data_type: T.DataType) -> Column:
    if isinstance(data_type, (T.ArrayType, T.MapType)):
        return F.when(F.size(column) >= 0, column)  # size of null is null (or -1): null stays null
    return F.nullif(column, F.lit(None).cast(data_type))


def has_not_null_columns(df: DataFrame, allowed: set[str] = frozenset()) -> bool:
    """Whether a table read back has NOT NULL columns besides `allowed` (written before `nullable`)."""
    return any(not f.nullable and f.name not in allowed for f in df.schema.fields)


def create_table(df: DataFrame, path: str, partition_by: str | None = None, deletion_vectors: bool = False) -> None:
    """Writes `df` as the Delta table at `path` in one commit, every column nullable: a new
    table, or one rewritten whole with another layout (`overwriteSchema`). With
    `deletion_vectors` a new table's DELETE, UPDATE and MERGE mask rows instead of rewriting files."""
    writer = nullable(df, partition_by).write.format("delta").mode("overwrite").option("overwriteSchema", "true")
    if deletion_vectors:
        writer = writer.option(DELETION_VECTORS, "true")
    (writer.partitionBy(partition_by) if partition_by else writer).save(path)


def has_deletion_vectors(path: str) -> bool:
    """Whether the table at `path` masks rows with deletion vectors. A store delta-rs cannot
    reach (hdfs://) counts as having them: nothing is upgraded there."""
    try:
        return open_table(path).metadata().configuration.get(DELETION_VECTORS) == "true"
    except Exception:  # delta-rs raises a class of its own per store; the upgrade only saves time
        return True


def set_table_properties(spark: SparkSession, path: str, properties: dict[str, str]) -> None:
    """Sets Delta table properties of the table at `path` (deletion vectors on, a checkpoint
    interval) through the engine: delta-rs' `alter.set_table_properties` adds a `variantType`
    feature to a table of writer version 7 that delta-spark 3.x then refuses to read. Sail's SQL
    alters only catalog tables: there the path is named by a catalog table for the moment (an
    external one: dropping it leaves the files)."""
    settings = ", ".join(f"'{key}' = '{value}'" for key, value in properties.items())
    if engine_of(spark).name != "sail":
        run_sql_on(spark, path, f"ALTER TABLE {{table}} SET TBLPROPERTIES ({settings})")
        return
    name = f"labelspark_table_{uuid.uuid4().hex}"
    location = path.replace("'", "\\'")
    spark.sql(f"CREATE TABLE {name} USING delta LOCATION '{location}'").collect()
    try:
        spark.sql(f"ALTER TABLE {name} SET TBLPROPERTIES ({settings})").collect()
    finally:
        spark.sql(f"DROP TABLE {name}").collect()


def replace_partition(spark: SparkSession, df: DataFrame, path: str, column: str, day: dt.date) -> None:
    """Writes `df` as the partition `column = day` in one commit, creating the table if needed."""
    if read_table(spark, path) is None:
        create_table(df, path, partition_by=column)
    else:
        replace_rows(df, path, f"{column} = {date_literal(day)}", partition_column=column)


def replace_rows(df: DataFrame, path: str, predicate: str, partition_column: str | None) -> None:
    """Replaces the rows of the Delta table at `path` that match `predicate` (SQL text) with
    `df`, every row of which matches it too, in one commit."""
    writer = nullable(df, partition_column).write.format("delta").mode("overwrite")
    writer.option("replaceWhere", predicate).save(path)


def append_rows(df: DataFrame, path: str, partition_column: str) -> None:
    """Appends `df` to the Delta table at `path` in one commit."""
    nullable(df, partition_column).write.format("delta").mode("append").save(path)


def merge(spark: SparkSession, source: DataFrame, path: str, statement: str) -> None:
    """Runs a Delta MERGE of `source` into the table at `path`.

    `statement` is the MERGE text after `MERGE INTO <target> AS t USING <source> AS s`:
    values travel in `source` (a temporary view), never in the SQL text.
    """
    view = f"labelspark_source_{uuid.uuid4().hex}"
    source.createOrReplaceTempView(view)
    target = "delta.`" + path.replace("`", "``") + "`"
    try:
        spark.sql(f"MERGE INTO {target} AS t USING {view} AS s {statement}").collect()
    finally:
        spark.catalog.dropTempView(view)


def run_sql_on(spark: SparkSession, path: str, statement: str) -> None:
    """Runs `statement` with `{table}` standing for the Delta table at `path` (DELETE, UPDATE)."""
    target = "delta.`" + path.replace("`", "``") + "`"
    spark.sql(statement.format(table=target)).collect()
