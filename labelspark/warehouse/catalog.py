"""label_catalog: one version per label definition (SCD2 on a hash of the definition)."""
from __future__ import annotations

import datetime as dt
import hashlib
import json

from pyspark.sql import SparkSession
from pyspark.sql import functions as F

from labelspark.config import Project
from labelspark.warehouse.delta import create_table, date_literal, merge, read_table, run_sql_on
from labelspark.warehouse.history import changed_on

SCHEMA = (
    "label_id string, name string, `group` string, type string, method string, definition string, "
    "definition_hash string, status string"
)
COLUMNS = ["label_id", "name", "group", "type", "method", "definition", "definition_hash", "status"]


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


def record_backfill(spark: SparkSession, project: Project, path: str, day: dt.date, next_day: dt.date) -> None:
    """Records the definitions a back-fill of `day` computed with, for that date alone (up to
    `next_day`, the next date with a snapshot): `diff` and `rewind` then see the definitions each
    date was computed with, whatever order the dates ran in. One rewrite of this small table."""
    table = read_table(spark, path)
    if table is None or next_day is None:
        return
    versions = [row.asDict() for row in table.collect()]
    wanted = {row[0]: dict(zip(COLUMNS, row)) for row in catalog_rows(project)}
    recorded = definitions_on(versions, wanted, day, next_day)
    if sorted(map(_sort_key, recorded)) != sorted(map(_sort_key, versions)):
        rows = [tuple(version[name] for name in table.columns) for version in recorded]
        spark.createDataFrame(rows, table.schema).write.format("delta").mode("overwrite").save(path)


def definitions_on(versions: list[dict], wanted: dict[str, dict], day: dt.date, next_day: dt.date) -> list[dict]:
    """`versions` with `wanted` (label -> catalog row) in force on `day` until `next_day`: a
    version that held `day` with another definition is cut around it; one label's versions
    that meet with one definition are joined."""
    result = []
    for label_id in sorted({v["label_id"] for v in versions} | wanted.keys()):
        own = [v for v in versions if v["label_id"] == label_id]
        old = next((v for v in own if v["valid_from"] <= day and (v["valid_to"] is None or day < v["valid_to"])), None)
        new = wanted.get(label_id)
        if (old and old["definition_hash"]) != (new and new["definition_hash"]):
            if old is not None:
                own.remove(old)
                own += [{**old, "valid_to": day}] if old["valid_from"] < day else []
                own += [{**old, "valid_from": next_day}] if old["valid_to"] is None or old["valid_to"] > next_day else []
            own += [{**new, "valid_from": day, "valid_to": next_day}] if new is not None else []
        result += _joined(sorted(own, key=lambda v: v["valid_from"]))
    return result


def _joined(versions: list[dict]) -> list[dict]:
    """Consecutive versions of one definition as one."""
    joined: list[dict] = []
    for version in versions:
        if joined and joined[-1]["valid_to"] == version["valid_from"] and joined[-1]["definition_hash"] == version["definition_hash"]:
            joined[-1] = {**joined[-1], "valid_to": version["valid_to"]}
        else:
            joined.append(version)
    return joined


def _sort_key(version: dict) -> tuple:
    return tuple(str(version[name]) for name in sorted(version))
