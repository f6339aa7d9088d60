"""label_history: SCD type 2 versions of every entity's label values, advanced by one MERGE per run.

A value that changes on D closes the current version (valid_to = D, exclusive) and opens one
from D; a value or entity that disappears closes its version. Only labels present in the
day's snapshot are touched: a disabled label's history stays as it was.
"""
from __future__ import annotations

import datetime as dt

from pyspark.sql import DataFrame, SparkSession
from pyspark.sql import functions as F

from labelspark.config import Project
from labelspark.storage.delta import create_table, date_literal, merge, read_table, run_sql_on
from labelspark.derived.history import history_values


def advance_history(spark: SparkSession, snapshot: DataFrame, project: Project, labels: list, path: str, run_date: dt.date) -> None:
    """Advances history to `run_date`, first undoing what an earlier (or failed) run of that date did."""
    if not labels:  # every label disabled: no history to touch
        return
    today = history_values(snapshot, project, labels)
    day = date_literal(run_date)
    key = project.key
    if read_table(spark, path) is None:
        create_table(today.select(
            key, "label_id", "value", F.lit(run_date).alias("valid_from"),
            F.lit(None).cast("date").alias("valid_to"), F.lit(True).alias("is_current"),
        ), path)
        return
    if changed_on(spark, path, run_date):
        run_sql_on(spark, path, f"DELETE FROM {{table}} WHERE valid_from = {day}")
        run_sql_on(spark, path, f"UPDATE {{table}} SET valid_to = NULL, is_current = true WHERE valid_to = {day}")
    # label ids are validated identifiers ([a-z][a-z0-9_]*), safe as SQL string literals
    touched = ", ".join(f"'{label.id}'" for label in labels)
    merge(
        spark, today, path,
        f"ON t.`{key}` = s.`{key}` AND t.label_id = s.label_id AND t.value = s.value AND t.is_current "
        f"WHEN NOT MATCHED THEN INSERT (`{key}`, label_id, value, valid_from, valid_to, is_current) "
        f"VALUES (s.`{key}`, s.label_id, s.value, {day}, NULL, true) "
        f"WHEN NOT MATCHED BY SOURCE AND t.is_current AND t.label_id IN ({touched}) "
        f"THEN UPDATE SET valid_to = {day}, is_current = false",
    )


def changed_on(spark: SparkSession, path: str, day: dt.date) -> bool:
    """Whether a version of the table at `path` was opened or closed on `day`."""
    touched = (F.col("valid_from") == F.lit(day)) | (F.col("valid_to") == F.lit(day))
    return bool(spark.read.format("delta").load(path).where(touched).limit(1).count())
