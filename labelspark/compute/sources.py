"""Reading sources, mapping ids, the as-of cut and the cleaning steps.

Transforms take DataFrames and values, never paths, so they run the same on any engine
and in small tests. Column names stay the source's own until aggregation, so cleaning
steps name the columns a source really has.
"""
from __future__ import annotations

import datetime as dt
from typing import Callable

import pyarrow as pa
import pyarrow.fs as pa_fs
import pyarrow.parquet as pq
from pyspark.errors import PySparkException
from pyspark.sql import Column, DataFrame, SparkSession, Window
from pyspark.sql import functions as F
from pyspark.sql import types as T

from labelspark.config import Project
from labelspark.config.models import Clean, Source
from labelspark.engine.connections import ENGINE_ERRORS, environment_options, jdbc_hint, read_jdbc
from labelspark.errors import SourceError, UnknownReference
from labelspark.timeutil import start_of_day
from labelspark.udfs import strip_whitespace

_MAPPED_ID = "__labelspark_mapped_id"
_RANK = "__labelspark_rank"
# classic Spark refuses parquet's nanosecond timestamps unless it may read them as counts
NANOS_AS_LONG = "spark.sql.legacy.parquet.nanosAsLong"


def read_source(spark: SparkSession, project: Project, name: str, *, source: Source | None = None,
                allow_empty: bool = False) -> DataFrame:
    """The source `name` as read (`source`: its definition, when it is no entry of the config's
    `sources`, like an import file); an empty one fails (it would null its labels for every
    entity) unless allowed."""
    source = source or project.sources[name]
    read = _entry(SOURCE_FORMATS, source.format, "source format")
    options = {**{k: str(v) for k, v in source.options.items()}, **environment_options(project, name, source)}
    if source.format == "csv":
        options.setdefault("header", "true")
    location = source.table or source.path or options.get("dbtable") or options.get("query")
    try:
        df = read(spark, project, source, options)
        columns = df.columns
    except ENGINE_ERRORS as exc:
        raise SourceError(name, f"cannot read {source.format} '{location}': {_first_line(exc)}{jdbc_hint(source, _first_line(exc))}") from None
    if not columns:  # Sail answers a missing path with an empty schema, not an error
        raise SourceError(name, f"no data at '{location}'")
    if not allow_empty and df.limit(1).count() == 0:
        raise SourceError(name, f"'{location}' holds no rows: an empty source would empty or null its labels for every entity")
    return df


def _read_table(spark: SparkSession, project: Project, source: Source, options: dict[str, str]) -> DataFrame:
    return spark.read.options(**options).table(source.table)


def _read_jdbc(spark: SparkSession, project: Project, source: Source, options: dict[str, str]) -> DataFrame:
    return read_jdbc(spark, options)


def _read_parquet(spark: SparkSession, project: Project, source: Source, options: dict[str, str]) -> DataFrame:
    spark.conf.set(NANOS_AS_LONG, "true")
    return in_microseconds(spark.read.options(**options).parquet(project.resolve_path(source.path)))


def _read_files(spark: SparkSession, project: Project, source: Source, options: dict[str, str]) -> DataFrame:
    return spark.read.options(**options).format(source.format).load(project.resolve_path(source.path))


Reader = Callable[[SparkSession, Project, Source, dict[str, str]], DataFrame]
# one reader per `Source.format`; a test checks the table covers the config's formats
SOURCE_FORMATS: dict[str, Reader] = {
    "parquet": _read_parquet, "delta": _read_files, "csv": _read_files, "json": _read_files,
    "table": _read_table, "jdbc": _read_jdbc,
}


def _entry(table: dict, key: str, kind: str):
    """`table[key]`; an unknown key is refused by name, with the known ones."""
    if key not in table:
        raise UnknownReference.among(kind, key, table)
    return table[key]


def in_microseconds(df: DataFrame) -> DataFrame:
    """Parquet's nanosecond timestamps (pandas writes them by default) cast once, at read, to the
    engines' microsecond timestamp (with a zone) or timestamp_ntz (without).

    Sail cannot even type a frame holding them ('cast Timestamp(Nanosecond, None) to Spark data
    type') but casts them; classic Spark reads them as counts of nanoseconds (`nanosAsLong`).
    """
    nanos = nanosecond_columns(df.inputFiles())
    if not nanos:
        return df
    try:
        counts = {f.name for f in df.schema.fields if isinstance(f.dataType, T.LongType)}
    except PySparkException:  # Sail: no schema until they are cast
        counts = set()
    return df.withColumns({name: _micro_timestamp(F.col(name), zoned, name in counts) for name, zoned in nanos.items()})


def nanosecond_columns(files: list[str]) -> dict[str, bool]:
    """Nanosecond timestamp columns of the first file's footer -> whether they carry a zone.

    Empty where Arrow cannot open the file (a scheme it lacks): the engine reads it as before.
    """
    if not files:
        return {}
    try:
        filesystem, path = pa_fs.FileSystem.from_uri(files[0])
        schema = pq.read_schema(path, filesystem=filesystem)
    except (pa.ArrowException, OSError):
        return {}
    return {f.name: f.type.tz is not None for f in schema if pa.types.is_timestamp(f.type) and f.type.unit == "ns"}


def _micro_timestamp(column: Column, zoned: bool, as_count: bool) -> Column:
    """A nanosecond timestamp column, or its count of nanoseconds since the epoch, in microseconds."""
    if not as_count:
        return column.cast("timestamp" if zoned else "timestamp_ntz")
    micros = (column.cast("decimal(20,0)") / 1000).cast("long")  # exact: a double would round
    if zoned:
        return F.timestamp_micros(micros)
    return F.timestamp_add("MICROSECOND", micros, F.lit("1970-01-01 00:00:00").cast("timestamp_ntz"))


def require_columns(df: DataFrame, source: str, columns: list[str]) -> None:
    present = set(df.columns)
    for column in columns:
        if column not in present:
            raise SourceError(source, f"column not found (columns: {', '.join(df.columns)})", column)


def map_ids(df: DataFrame, key: str, id_map: DataFrame, entity_key: str) -> DataFrame:
    """Replaces the source's ids with target ids in place; rows with unmapped ids are dropped."""
    mapping = id_map.select(
        F.col("source_id").cast("string").alias(key), F.col(entity_key).alias(_MAPPED_ID)
    )
    return (
        df.withColumn(key, F.col(key).cast("string"))
        .join(mapping, on=key, how="inner")
        .withColumn(key, F.col(_MAPPED_ID))
        .drop(_MAPPED_ID)
    )


def id_mapping(df: DataFrame, entity_key: str) -> DataFrame:
    """One target per source id (the greatest, so a conflicting map stays deterministic)."""
    return df.where(F.col("source_id").isNotNull()).groupBy("source_id").agg(F.max(entity_key).alias(entity_key))


def normalize_time(df: DataFrame, source: str, time: str) -> DataFrame:
    """Dates and timestamps stay; text is read as local times."""
    data_type = df.schema[time].dataType
    if isinstance(data_type, (T.DateType, T.TimestampType)):
        return df
    if isinstance(data_type, T.StringType):
        return df.withColumn(time, F.col(time).cast("timestamp"))
    raise SourceError(source, f"the time column must be a date or timestamp, got {data_type.simpleString()}", time)


def in_session_timezone(df: DataFrame) -> DataFrame:
    """Timestamps whose days are days of the session's timezone on every engine; zone-less
    ones are read as local times there.

    Sail keeps the zone a parquet file stored (UTC) on its timestamps and takes their dates
    there; a cast to `timestamp` moves them to the session zone (a no-op on classic Spark).
    Zone-less timestamps become instants too: Sail casts them back to zone-less ones in UTC,
    not the session's zone, which moved a value's day.
    """
    timestamps = (T.TimestampType, T.TimestampNTZType)
    stamps = {f.name: F.col(f.name).cast("timestamp") for f in df.schema.fields if isinstance(f.dataType, timestamps)}
    return df.withColumns(stamps) if stamps else df


def on_or_after(time: Column, data_type: T.DataType, day: dt.date, timezone: str) -> Column:
    """`time` falls on `day` or later, in the project's timezone."""
    if isinstance(data_type, T.DateType):
        return time >= F.lit(day)
    return time >= F.lit(start_of_day(day, timezone))


def as_of(df: DataFrame, time: str, run_date: dt.date, timezone: str) -> DataFrame:
    """Only rows whose time is on or before the end of the run date count."""
    return df.where(~on_or_after(F.col(time), df.schema[time].dataType, run_date + dt.timedelta(days=1), timezone))


def clean(df: DataFrame, steps: Clean, time: str | None) -> DataFrame:
    """Applies the cleaning steps in the order the config lists them; an unknown step is refused."""
    for step in steps.order:
        df = _entry(CLEANING_STEPS, step, "cleaning step")(df, steps, time)
    return df


def _drop_null(df: DataFrame, steps: Clean, time: str | None) -> DataFrame:
    return df.dropna(subset=list(steps.drop_null))


def _trim(df: DataFrame, steps: Clean, time: str | None) -> DataFrame:
    return df.withColumns({c: strip_whitespace(F.col(c)) for c in steps.trim})


def _lower(df: DataFrame, steps: Clean, time: str | None) -> DataFrame:
    return df.withColumns({c: F.lower(F.col(c)) for c in steps.lower})


def _dedupe(df: DataFrame, steps: Clean, time: str | None) -> DataFrame:
    return dedupe(df, steps.dedupe.by, time, latest=steps.dedupe.keep == "latest")


def _filter(df: DataFrame, steps: Clean, time: str | None) -> DataFrame:
    return df.where(F.expr(steps.filter))


# one step per `Clean` key, applied in the config's order; a test checks the table covers `CleanStepName`
CLEANING_STEPS: dict[str, Callable[[DataFrame, Clean, str | None], DataFrame]] = {
    "drop_null": _drop_null, "trim": _trim, "lower": _lower, "dedupe": _dedupe, "filter": _filter,
}


def dedupe(df: DataFrame, by: list[str], time: str | None, *, latest: bool = True) -> DataFrame:
    """One row per `by`: the latest by time, ties to the greatest row, nulls lowest
    (`earliest`: the mirror image).

    A window's row_number sorts within each key; `max` of a whole-row struct, the one-pass
    alternative, is not vectorised on Sail and grew with the rows until memory ran out.
    """
    rest = [c for c in df.columns if c not in by]
    ordered = ([time] if time else []) + [c for c in rest if c != time]
    order = [F.col(c).desc_nulls_last() if latest else F.col(c).asc_nulls_first() for c in ordered]
    rank = F.row_number().over(Window.partitionBy(*by).orderBy(*order))
    return df.withColumn(_RANK, rank).where(F.col(_RANK) == 1).drop(_RANK)


def prepare(df: DataFrame, name: str, source: Source, project: Project, run_date: dt.date, id_map: DataFrame | None) -> DataFrame:
    """The source as the indicators see it: ids mapped, cut as of the run date, cleaned."""
    require_columns(df, name, [source.key] + ([source.time] if source.time else []))
    if id_map is not None:
        df = map_ids(df, source.key, id_map, project.key)
    df = in_session_timezone(df)
    if source.time:
        df = as_of(normalize_time(df, name, source.time), source.time, run_date, project.timezone)
    steps = source.clean
    require_columns(df, name, [*(steps.drop_null or []), *(steps.trim or []), *(steps.lower or []), *(steps.dedupe.by if steps.dedupe else [])])
    return clean(df, steps, source.time).where(F.col(source.key).isNotNull())


def _first_line(exc: Exception) -> str:
    java = getattr(exc, "java_exception", None)  # py4j's own error: its first line names only the call
    text = str(java if java is not None else exc).strip()
    return text.splitlines()[0][:300] if text else type(exc).__name__


def prepared_sources(spark: SparkSession, project: Project, run_date: dt.date, only: str | None = None) -> dict[str, DataFrame]:
    """Every source but the id map (`only`: that one), read and prepared as of `run_date`."""
    id_map = None
    map_source = project.entity.id_map.source if project.entity.id_map else None
    if map_source:
        raw = read_source(spark, project, map_source)
        require_columns(raw, map_source, ["source_id", project.key])
        id_map = id_mapping(raw, project.key)
    return {
        name: prepare(read_source(spark, project, name), name, source, project, run_date, id_map)
        for name, source in project.sources.items()
        if name != map_source and only in (None, name)
    }
