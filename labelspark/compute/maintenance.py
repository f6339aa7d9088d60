"""`labelspark compact`: the warehouse's tables compacted and vacuumed under its lock, as a run
holds it, so that a run and a compaction never overlap and a failure half-way puts every
table back."""
from __future__ import annotations

from pyspark.sql import SparkSession

from labelspark.compute.job import locked
from labelspark.config import Project
from labelspark.warehouse.compact import Compacted, compact_table
from labelspark.warehouse.deltars import existing_table
from labelspark.warehouse.names import Tables


def compact(spark: SparkSession, project: Project, threshold: float) -> list[Compacted]:
    """Compacts and vacuums every table of the warehouse under its lock (WarehouseLocked while
    a run holds it); `threshold`: the masked share of a file, 0 to 1, from which its partition
    is written again."""
    tables = Tables(project.warehouse)
    paths = [*tables.written_by_runs(project.sources), tables.runs]
    with locked(project, paths):
        return [compact_table(spark, path, threshold) for path in paths if existing_table(path) is not None]
