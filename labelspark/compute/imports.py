"""Import labels: (id, value) files read once per run.

With a staging area a file's (key, value) rows are written once and everything after reads
the copy: the check of the values, the label, the count of ids that are no entity. Read
lazily, each of them would scan the file again.
"""
from __future__ import annotations

import logging

from pyspark.sql import DataFrame, SparkSession
from pyspark.sql import functions as F

from labelspark.config import Project
from labelspark.config.labels import ImportLabel
from labelspark.config.models import Source
from labelspark.errors import SourceError
from labelspark.compute.sources import read_source, require_columns
from labelspark.engine.spark_types import SPARK_TYPE_OF_KIND
from labelspark.warehouse.staging import Staging
from labelspark.udfs import try_cast

log = logging.getLogger(__name__)


def imported_rows(spark: SparkSession, project: Project, label: ImportLabel, staging: Staging | None = None) -> DataFrame:
    """The file's (key, value) columns, their values checked; the staged copy when `staging` is given."""
    name = f"import of label '{label.id}'"
    as_source = Source(format=label.file_format, path=label.path, options=label.options, key=label.key)
    # an empty file is a label nobody holds this time, not a broken source
    raw = read_source(spark, project, name, source=as_source, allow_empty=True)
    require_columns(raw, name, [label.key, label.value])
    rows = raw.select(label.key, label.value)
    if staging is not None:
        rows = staging.keep(rows, f"import_{label.id}")
    _refuse_bad_values(rows, name, label)
    return rows


def import_values(rows: DataFrame, project: Project, label: ImportLabel, entities: DataFrame) -> DataFrame:
    """(entity key, value) of the file's rows, one row per id (ids that are no entity join nothing)."""
    key_type = entities.schema[project.key].dataType
    return (
        rows.where(F.col(label.key).isNotNull())
        .groupBy(F.col(label.key).cast(key_type).alias(project.key))
        .agg(F.max(label.value).alias("value"))
    )


def read_import(spark: SparkSession, project: Project, label: ImportLabel, entities: DataFrame) -> DataFrame:
    """(entity key, value) of an import file, read for one use."""
    return import_values(imported_rows(spark, project, label), project, label, entities)


def unknown_import_ids(project: Project, imported: dict[str, DataFrame], written: DataFrame) -> dict:
    """Ids of each import file (`imported`: label -> its rows) that are no entity of the written
    snapshot: counted, not fatal."""
    details = {}
    for label_id, rows in imported.items():
        values = import_values(rows, project, project.label(label_id), written)
        unknown = values.join(written.select(project.key), on=project.key, how="left_anti").count()
        if unknown:
            log.warning("import of label '%s': %d ids are not entities and were ignored", label_id, unknown)
            details[label_id] = {"unknown_ids": unknown}
    return details


def _refuse_bad_values(rows: DataFrame, name: str, label: ImportLabel) -> None:
    """Values that do not read as the label's type fail the run, naming the file, column and a sample."""
    wanted = SPARK_TYPE_OF_KIND[label.type]
    value = F.col(label.value)
    bad = rows.where(value.isNotNull() & value.cast("string").isNotNull() & try_cast(value, wanted).isNull())
    sample = bad.select(F.col(label.key).cast("string"), value.cast("string")).limit(3).collect()
    if sample:
        shown = ", ".join(f"{key}={text!r}" for key, text in sample)
        raise SourceError(name, f"values of '{label.path}' that are not {label.type}: {shown}", label.value)
