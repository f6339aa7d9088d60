"""`labelspark compact CONFIG`: purges the deletion vectors that accumulate in the warehouse's
tables and vacuums what their retention allows.

A MERGE, DELETE or UPDATE on a table with deletion vectors (label_history's day on classic
Spark, a re-run of a date, a rewind) masks rows instead of rewriting their files: every later
read reads the masked rows and their masks too. Compaction finds in each table's Delta log
(delta-rs) the files whose masked share is at least a threshold, and writes each partition
holding one again from its own rows, in one commit (`replaceWhere`): the same rows, no mask.
Whole partitions, not single files, since that is what every engine can do (Sail 0.7 has no
OPTIMIZE or REORG); the other files' masks in such a partition are purged with it.

Then delta-rs' vacuum deletes the files that the log removed longer ago than the table's
retention (`delta.deletedFileRetentionDuration`, 7 days by default), in its lite mode: its full
mode deletes deletion-vector files still in use (delta-rs 1.6 counts only data files as in
use), and the lite mode leaves the deletion-vector files that only removed files read (small).

`compute/maintenance.py` runs it under the warehouse lock.
"""
from __future__ import annotations

import datetime as dt
import logging
from dataclasses import dataclass
from urllib.parse import unquote

import pyarrow as pa
from pyarrow.fs import FileType
from pyspark.sql import SparkSession

from labelspark.warehouse.delta import date_literal, read_table, replace_rows
from labelspark.warehouse.deltars import existing_table, filesystem_of, open_table

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class MaskedFile:
    """A data file with a deletion vector: its partition, its rows and how many are masked."""

    path: str
    partition: tuple[tuple[str, object], ...]  # (column, value) pairs; empty for an unpartitioned table
    records: int
    masked: int

    @property
    def masked_share(self) -> float:
        # a file with a deletion vector has its record count in the log (Delta protocol)
        return self.masked / self.records


@dataclass(frozen=True)
class Compacted:
    """What compaction did to one table."""

    table: str
    over_threshold: int  # files whose masked share reached the threshold
    partitions: list[str]  # the partitions written again, as `column=value`
    purged: int  # masked rows gone with them
    vacuumed: int  # files deleted

    def describe(self) -> str:
        rewritten = (f"{', '.join(self.partitions)} written again ({self.over_threshold} files over the threshold, "
                     f"{self.purged} masked rows purged)" if self.partitions else "nothing to rewrite")
        return f"{self.table}: {rewritten}; {self.vacuumed} files vacuumed"


def compact_table(spark: SparkSession, path: str, threshold: float) -> Compacted:
    name = path.rstrip("/").rpartition("/")[2]
    masked = masked_files(path)
    over = [file for file in masked if file.masked_share >= threshold]
    partitions = sorted({file.partition for file in over}, key=repr)
    if over:
        log.info("%s: %d of its %d masked files have %.0f%% or more of their rows masked: %d partitions to write again",
                 name, len(over), len(masked), threshold * 100, len(partitions))
    for partition in partitions:
        rewrite_partition(spark, path, partition)
        log.info("%s: %s written again, without masks", name, shown(partition))
    vacuumed = vacuum(path)
    log.info("%s: %d files past the retention vacuumed", name, vacuumed)
    return Compacted(name, len(over), [shown(p) for p in partitions],
                     sum(file.masked for file in masked if file.partition in partitions), vacuumed)


def masked_files(path: str) -> list[MaskedFile]:
    """The files of the Delta table at `path` that have a deletion vector, read from its log."""
    table = open_table(path)
    vectors = pa.RecordBatchReader.from_stream(table.deletion_vectors()).read_all()
    # the selection vector keeps a row where true; rows past its end are kept too
    masked = {unquote(uri): vector.values.false_count
              for uri, vector in zip(vectors.column("filepath").to_pylist(), vectors.column("selection_vector"))}
    if not masked:
        return []
    columns = table.metadata().partition_columns
    actions = pa.table(table.get_add_actions(flatten=True)).select(["path", "num_records", *(f"partition.{c}" for c in columns)])
    root = unquote(table.table_uri).rstrip("/") + "/"
    return [MaskedFile(action["path"], tuple((c, action[f"partition.{c}"]) for c in columns), action["num_records"],
                       masked[root + unquote(action["path"])])
            for action in actions.to_pylist() if root + unquote(action["path"]) in masked]


def rewrite_partition(spark: SparkSession, path: str, partition: tuple[tuple[str, object], ...]) -> None:
    """Writes one partition of the table at `path` again from its own rows, in one commit."""
    predicate = partition_predicate(partition)
    column = partition[0][0] if partition else None  # the warehouse's tables have one partition column at most
    replace_rows(read_table(spark, path).where(predicate), path, predicate, partition_column=column)


def partition_predicate(partition: tuple[tuple[str, object], ...]) -> str:
    """SQL text selecting one partition (`replaceWhere` takes only text); `true` for a whole
    unpartitioned table."""
    return " AND ".join(f"`{column.replace('`', '``')}` = {_literal(value)}" for column, value in partition) or "true"


def shown(partition: tuple[tuple[str, object], ...]) -> str:
    """A partition as its directory is named, `column=value`."""
    return "/".join(f"{column}={str(value).lower() if isinstance(value, bool) else value}" for column, value in partition) or "the whole table"


def _literal(value: object) -> str:
    """A partition value as Spark SQL: the warehouse partitions by date (`snapshot_date`) and by
    boolean (label_history's `is_current`)."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, dt.date):
        return date_literal(value)
    raise TypeError(f"no partition literal for {value!r}")


def vacuum(path: str) -> int:
    """Deletes the files the table's log removed longer ago than its retention; returns how many
    were still there (the log names removed files until its own retention, a month, ends, and
    delta-rs 1.6 lists them every time, deleted or not)."""
    table = open_table(path)
    filesystem, root = filesystem_of(path)
    expired = [f"{root.rstrip('/')}/{unquote(name)}" for name in set(table.vacuum(dry_run=True))]
    there = sum(info.type != FileType.NotFound for info in filesystem.get_file_info(expired))
    table.vacuum(dry_run=False, full=False)  # never full: it deletes deletion vectors in use
    return there
