"""segment_members: which entities each segment's rule selects on a date, all segments in one pass."""
from __future__ import annotations

import datetime as dt

from pyspark.sql import DataFrame
from pyspark.sql import functions as F

from labelspark.config import Project
from labelspark.rules.spark import Field, RuleCompiler
from labelspark.warehouse.names import DATE


def segment_members(snapshot: DataFrame, project: Project, run_date: dt.date) -> DataFrame:
    """(segment_id, entity key, snapshot_date) for every segment an entity belongs to."""
    fields = {label.id: Field(F.col(label.id), label.type) for label in project.enabled_labels if label.id in snapshot.columns}
    compiler = RuleCompiler(fields, run_date, str(project.file))
    memberships = F.array(
        *(F.when(compiler.compile(project.segment_rules[segment.id]), F.lit(segment.id)) for segment in project.segments)
    )
    return snapshot.select(project.key, F.explode(F.array_compact(memberships)).alias("segment_id")).select(
        "segment_id", project.key, F.lit(run_date).alias(DATE)
    )
