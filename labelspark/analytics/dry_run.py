"""What `preview` and `explain` share: a label as the config defines it now, and the prepared
sources narrowed to a few entities before anything is aggregated.

Both commands compute with the engine from the sources, as a run would, and write nothing:
no table, no staging copy, no lock.
"""
from __future__ import annotations

import dataclasses
import datetime as dt

from pyspark.sql import DataFrame, SparkSession
from pyspark.sql import functions as F

from labelspark.config import Project
from labelspark.compute.sources import prepared_sources
from labelspark.engine.sessions import set_timezone
from labelspark.udfs import try_cast


def as_configured(project: Project, label_id: str):
    """The project with `label_id` enabled (a disabled label is computed as it would be when
    enabled), and that label."""
    label = project.label(label_id)
    if not label.enabled:
        label = label.model_copy(update={"status": "enabled"})
        project = dataclasses.replace(project, labels=tuple(label if other.id == label_id else other for other in project.labels))
    return project, label


def sources_as_of(spark: SparkSession, project: Project, day: dt.date) -> dict[str, DataFrame]:
    """Every source read and prepared as of `day`, in the project's timezone (as a run reads them)."""
    set_timezone(spark, project.timezone)
    return prepared_sources(spark, project, day)


def narrowed(frames: dict[str, DataFrame], project: Project, ids: list) -> dict[str, DataFrame]:
    """Each prepared source keeping only the rows of `ids`: the filter sits below every
    aggregation, so only those entities' rows are grouped. Indicators are per entity, so
    theirs are the same as over all rows."""
    def keep(name: str, df: DataFrame) -> DataFrame:
        key = project.sources[name].key
        key_type = df.schema[key].dataType
        return df.where(F.col(key).isin(*(try_cast(F.lit(str(entity)), key_type) for entity in ids)))

    return {name: keep(name, df) for name, df in frames.items()}
