"""label_catalog: one version per label definition (SCD2 on a hash of the definition)."""
from __future__ import annotations

import datetime as dt
import hashlib
import json

from pyspark.sql import SparkSession
from pyspark.sql import functions as F

from labelspark.config import Project
from labelspark.storage.delta import create_table, date_literal, merge, read_table, run_sql_on
from labelspark.storage.history import changed_on

SCHEMA = (
    "label_id string, name string, `group` string, type string, method string, definition string, "
    "definition_hash string, status string"
)


def catalog_rows(project: Project) -> list[tuple]:
    """One row per label of the config; the hash covers the whole definition, status included."""
    rows = []
    for label in project.labels:
        definition = json.dumps(label.model_dump(mode="json", exclude_none=True), sort_keys=True, ensure_ascii=False)
        digest = hashlib.sha256(definition.encode("utf-8")).hexdigest()
        rows.append((label.id, label.name, label.group, label.type, label.method, definition, digest, label.status))
    return rows


def advance_catalog(spark: SparkSession, project: Project, path: str, run_date: dt.date) -> None:
    """Opens a version for each new or changed definition and closes the one it replaces
    (first undoing what an earlier run of that date did)."""
    current = spark.createDataFrame(catalog_rows(project), SCHEMA)
    day = date_literal(run_date)
    if read_table(spark, path) is None:
        create_table(current.select("*", F.lit(run_date).alias("valid_from"), F.lit(None).cast("date").alias("valid_to")), path)
        return
    if changed_on(spark, path, run_date):
        run_sql_on(spark, path, f"DELETE FROM {{table}} WHERE valid_from = {day}")
        run_sql_on(spark, path, f"UPDATE {{table}} SET valid_to = NULL WHERE valid_to = {day}")
    merge(
        spark, current, path,
        "ON t.label_id = s.label_id AND t.definition_hash = s.definition_hash AND t.valid_to IS NULL "
        "WHEN NOT MATCHED THEN INSERT (label_id, name, `group`, type, method, definition, definition_hash, status, valid_from, valid_to) "
        f"VALUES (s.label_id, s.name, s.`group`, s.type, s.method, s.definition, s.definition_hash, s.status, {day}, NULL) "
        f"WHEN NOT MATCHED BY SOURCE AND t.valid_to IS NULL THEN UPDATE SET valid_to = {day}",
    )
