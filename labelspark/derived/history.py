"""label_history's rows of one day: the values an entity holds, as text, one row per label."""
from __future__ import annotations

from pyspark.sql import DataFrame
from pyspark.sql import functions as F

from labelspark.config import Project
from labelspark.udfs import as_text, stacked


def history_values(snapshot: DataFrame, project: Project, labels: list) -> DataFrame:
    """(entity key, label_id, value) of the day's non-null label values, values as text."""
    texts = {label.id: as_text(F.col(label.id), label.type) for label in labels}
    return snapshot.select(project.key, stacked(texts, "value")).where(F.col("value").isNotNull())
