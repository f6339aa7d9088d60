"""The warehouse without Spark: where a path lives (this machine or a remote store), the one
delta-rs opener and the one reader of a table's rows (`scan_rows`). The readers, the runs
table, the rollback, the lock and the staging area all go through here; no pyspark, so the
read commands stay Spark-free."""
from __future__ import annotations

import datetime as dt
import math
from typing import Iterable

import pyarrow as pa
import pyarrow.fs as pa_fs
from deltalake import DeltaTable, QueryBuilder
from deltalake.exceptions import TableNotFoundError

from labelspark.errors import NoResults

FILE_SCHEME = "file://"
SCANNED = "scanned"  # the name a table goes by in scan_rows' SQL
# one partition: DataFusion reads the files one after another in the log's order
ONE_FILE_AT_A_TIME = {"datafusion.execution.target_partitions": "1"}


def is_local(path: str) -> bool:
    """Whether `path` is on this machine: a plain path or a `file://` URI."""
    return "://" not in path or path.startswith(FILE_SCHEME)


def local_path(path: str) -> str:
    """A local `path` without its `file://` scheme."""
    return path.removeprefix(FILE_SCHEME)


def filesystem_of(path: str) -> tuple[pa_fs.FileSystem, str]:
    """Arrow's filesystem for `path` and the path within it."""
    if is_local(path):
        return pa_fs.LocalFileSystem(), local_path(path)
    return pa_fs.FileSystem.from_uri(path)


def open_table(path: str) -> DeltaTable:
    """The Delta table at `path`, read with delta-rs; a missing table is `NoResults` naming it."""
    try:
        return DeltaTable(path)
    except TableNotFoundError:
        warehouse, _, table = path.rstrip("/").rpartition("/")
        raise NoResults(f"no {table} table under {warehouse}: run `labelspark run` first") from None


def scan_rows(path: str, columns: list[str] | None = None, where: str | None = None) -> pa.RecordBatchReader:
    """The rows of the Delta table at `path` (`where`: SQL text over its columns), batch by batch.

    Read through delta-rs' SQL engine, the one reader of deletion vectors (label_history's
    closed versions): `to_pyarrow_dataset` refuses such tables. Its files are read one at a
    time in the log's order, so memory follows a batch and two reads of one version return
    their rows in the same order. Columns keep the table's types (the engine reads text as
    string views, which much of Arrow's compute does not take).
    """
    table = open_table(path)
    schema = pa.schema(table.schema().to_arrow())
    names = columns or schema.names
    sql = f"SELECT {', '.join(map(quoted, names))} FROM {SCANNED}" + (f" WHERE {where}" if where else "")
    rows = pa.RecordBatchReader.from_stream(QueryBuilder(ONE_FILE_AT_A_TIME).register(SCANNED, table).execute(sql))
    return rows.cast(pa.schema([schema.field(name) for name in names]))


def read_rows(path: str, columns: list[str] | None = None, where: str | None = None) -> pa.Table:
    """`scan_rows` read whole."""
    return scan_rows(path, columns, where).read_all()


def table_schema(path: str) -> pa.Schema:
    """The columns of the Delta table at `path`, from its log (no data file is read)."""
    return pa.schema(open_table(path).schema().to_arrow())


def quoted(name: str) -> str:
    """A column name as an SQL identifier."""
    return '"' + name.replace('"', '""') + '"'


def sql_literal(value: object) -> str:
    """A value (text, finite number, date) as an SQL literal for `scan_rows`' `where`."""
    if isinstance(value, str):
        return "'" + value.replace("'", "''") + "'"
    if isinstance(value, dt.date) and not isinstance(value, dt.datetime):
        return f"DATE '{value.isoformat()}'"
    if isinstance(value, bool):
        return "TRUE" if value else "FALSE"
    if not isinstance(value, (int, float)) or not math.isfinite(value):
        raise TypeError(f"no SQL literal for {value!r}")
    return repr(value)


def sql_in(column: str, values: Iterable) -> str:
    """`column IN (values)` as SQL text; no values match no row."""
    listed = ", ".join(map(sql_literal, values))
    return f"{quoted(column)} IN ({listed})" if listed else "FALSE"


def existing_table(path: str) -> DeltaTable | None:
    """The Delta table at `path`, or None where there is none yet."""
    try:
        return open_table(path)
    except NoResults:
        return None
