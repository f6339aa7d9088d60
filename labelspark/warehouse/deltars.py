"""The warehouse without Spark: where a path lives (this machine or a remote store) and the one
delta-rs opener. The readers, the runs table, the rollback, the lock and the staging area
all go through here; no pyspark, so the read commands stay Spark-free."""
from __future__ import annotations

import datetime as dt

import pyarrow as pa
import pyarrow.dataset as ds
import pyarrow.fs as pa_fs
from deltalake import DeltaTable, QueryBuilder
from deltalake.exceptions import TableNotFoundError

from labelspark.errors import NoResults

FILE_SCHEME = "file://"
SCANNED = "scanned"  # the name a table goes by in scan_rows' SQL


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


def arrow_dataset(table: DeltaTable, path: str) -> ds.Dataset:
    """The table at `path` as an Arrow dataset read by Arrow's own filesystem (see
    `arrow_filesystem`: deltalake's default one can abort the process at exit)."""
    return table.to_pyarrow_dataset(filesystem=arrow_filesystem(path))


def scan_rows(path: str, columns: list[str] | None = None, where: str | None = None) -> pa.RecordBatchReader:
    """The rows of the Delta table at `path` (`where`: SQL text over its columns), batch by batch.

    Read through delta-rs' SQL engine, the one reader of deletion vectors (label_history's
    closed versions): `to_pyarrow_dataset` refuses such tables.
    """
    selected = ", ".join(quoted(column) for column in columns) if columns else "*"
    sql = f"SELECT {selected} FROM {SCANNED}" + (f" WHERE {where}" if where else "")
    return pa.RecordBatchReader.from_stream(QueryBuilder().register(SCANNED, open_table(path)).execute(sql))


def read_rows(path: str, columns: list[str] | None = None, where: str | None = None) -> pa.Table:
    """`scan_rows` read whole."""
    return scan_rows(path, columns, where).read_all()


def quoted(name: str) -> str:
    """A column name as an SQL identifier."""
    return '"' + name.replace('"', '""') + '"'


def sql_literal(value: object) -> str:
    """A value (text, number, date) as an SQL literal for `scan_rows`' `where`."""
    if isinstance(value, str):
        return "'" + value.replace("'", "''") + "'"
    if isinstance(value, dt.date):
        return f"DATE '{value.isoformat()}'"
    if isinstance(value, bool):
        return "TRUE" if value else "FALSE"
    if not isinstance(value, (int, float)):
        raise TypeError(f"no SQL literal for {value!r}")
    return repr(value)


def existing_table(path: str) -> DeltaTable | None:
    """The Delta table at `path`, or None where there is none yet."""
    try:
        return open_table(path)
    except NoResults:
        return None


def arrow_filesystem(path: str) -> pa_fs.FileSystem | None:
    """Arrow's own filesystem rooted at the table (None: deltalake's default, for schemes Arrow lacks).

    deltalake's default filesystem is written in Python: Arrow's I/O threads hold its read
    buffers as Python objects and may free the last ones while the interpreter shuts down,
    which aborts the process after a correct answer ('terminate called without an active
    exception', exit 134; apache/arrow#45214). Arrow's native buffers need no interpreter.
    """
    try:
        filesystem, root = pa_fs.FileSystem.from_uri(path)
    except (pa.ArrowException, OSError):
        return None
    return pa_fs.SubTreeFileSystem(root, filesystem)
