"""What the index holds for each real-time label: the values a batch's are compared with.

The snapshot the index was built from (its date is the cut), overridden by label_updates of the
days after it. Both are read once per cut (the stream's start, the alias moving) and kept in the
executors' memory; each batch then adds its own changes, the stream being label_updates' only
writer. So a batch reads no table that grows all day: a scan of label_updates per batch, a file
per batch, had grown with every batch.
"""
from __future__ import annotations

import datetime as dt

from pyspark.sql import DataFrame, SparkSession, Window
from pyspark.sql import functions as F

from labelspark.compute.derived.unions import exploded, union_all
from labelspark.config import Project
from labelspark.udfs import as_text
from labelspark.warehouse import updates
from labelspark.warehouse.delta import partition_of, read_table
from labelspark.warehouse.names import Tables

ORDER = "__order"  # which of the overrides came last
MAX_PARTS = 32  # a batch's changes are a part; this many are merged into one


class LastValues:
    def __init__(self, spark: SparkSession, project: Project):
        self.spark, self.project = spark, project
        self.cut: dt.date | None | str = "unread"
        self.base: DataFrame | None = None  # (key, label_id, value) of the snapshot of the cut
        self.parts: list[DataFrame] = []  # (key, label_id, value, ORDER): label_updates since the cut

    def at(self, cut: dt.date | None) -> "LastValues":
        """These values for the index built from the snapshot of `cut` (read when it changed)."""
        if cut != self.cut:
            self._release()
            self.cut, self.base = cut, self._snapshot(cut)
            since = updates.latest_since(self.spark, Tables(self.project.warehouse).updates, self.project.key, cut)
            self.parts = [] if since is None else [since.withColumn(ORDER, F.lit(0)).localCheckpoint()]
        return self

    def forget(self) -> None:
        """Read again at the next `at`: the alias moved, maybe to a snapshot of the same date run again."""
        self._release()
        self.cut, self.base, self.parts = "unread", None, []

    def of(self, touched: DataFrame, only) -> DataFrame | None:
        """(key, label_id, value) of the entities `only(df, key, touched)` keeps."""
        key = self.project.key
        base = None if self.base is None else only(self.base, key, touched)
        if not self.parts:
            return base
        overrides = _latest(only(union_all(self.parts), key, touched), key)
        return overrides if base is None else base.join(overrides, [key, "label_id"], "left_anti").unionByName(overrides)

    def advance(self, changes: DataFrame) -> None:
        """Adds a batch's changes (key, label_id, value, ...), the latest values from now on."""
        order = len(self.parts) + 1
        self.parts.append(changes.select(self.project.key, "label_id", "value", F.lit(order).alias(ORDER)).localCheckpoint())
        if len(self.parts) > MAX_PARTS:
            merged = _latest(union_all(self.parts), self.project.key).withColumn(ORDER, F.lit(0)).localCheckpoint()
            self.parts = [merged]

    def _snapshot(self, cut: dt.date | None) -> DataFrame | None:
        snapshot = read_table(self.spark, Tables(self.project.warehouse).snapshot)
        if snapshot is None or cut is None:
            return None
        day = partition_of(snapshot, cut)
        labels = {label.id: as_text(F.col(label.id), label.type) for label in self.project.realtime_labels if label.id in day.columns}
        return exploded(day, labels, [self.project.key]).persist() if labels else None

    def _release(self) -> None:
        if self.base is not None:
            self.base.unpersist()


def _latest(rows: DataFrame, key: str) -> DataFrame:
    last = Window.partitionBy(key, "label_id").orderBy(F.col(ORDER).desc())
    return rows.withColumn("__last", F.row_number().over(last)).where(F.col("__last") == 1).select(key, "label_id", "value")
