"""Label evaluation: every due label as one Column (`labelspark.compute.methods`), all of them in one `select`.

Distribution tiers take their thresholds from one exact-percentile aggregation over the
entities (one array of quantiles per indicator, for all tiers of all distribution labels),
cross-joined as a single row: nothing is collected to the driver.
"""
from __future__ import annotations

import datetime as dt
from typing import Mapping

from pyspark.sql import DataFrame
from pyspark.sql import functions as F

from labelspark.config import Project
from labelspark.compute.methods import IMPORTED, QUANTILES, Context, label_column
from labelspark.rules.spark import Field, RuleCompiler
from labelspark.engine.spark_types import kind_of


def _quantiles(labels: list) -> dict[str, list[float]]:
    """The quantiles to compute per indicator: one exact-percentile aggregate each, however
    many distribution labels and tiers read it (Sail's percentile keeps a map of every
    value; one map per indicator instead of one per tier)."""
    wanted: dict[str, set[float]] = {}
    for label in labels:
        if label.quantiles:
            wanted.setdefault(label.indicator, set()).update(label.quantiles)
    return {indicator: sorted(qs) for indicator, qs in wanted.items()}


def evaluate(indicators: DataFrame, project: Project, labels: list, run_date: dt.date, imports: Mapping[str, DataFrame]) -> DataFrame:
    """Entity key plus one typed column per label in `labels`.

    `imports` holds, per import label, a frame of (entity key, value) with one row per entity.
    """
    kinds = {field.name: kind_of(field.dataType) for field in indicators.schema.fields if field.name in project.indicators}
    problems = project.kind_problems(kinds, labels)
    if problems:
        raise project.error(problems)
    compiler = RuleCompiler({name: Field(F.col(name), kind) for name, kind in kinds.items()}, run_date, str(project.file))

    frame = indicators
    quantiles = _quantiles(labels)
    if quantiles:
        thresholds = indicators.agg(*(
            F.percentile(F.col(indicator), F.array(*map(F.lit, qs))).alias(QUANTILES.format(indicator)) for indicator, qs in quantiles.items()
        ))
        frame = thresholds.crossJoin(frame)  # the one-row side first: Sail builds a cross join's left side
    # each import on the left: engines build a join's left side (Sail collects it whole), and an
    # import is small where the entities are not
    for label_id, values in imports.items():
        frame = values.withColumnRenamed("value", IMPORTED.format(label_id)).join(frame, on=project.key, how="right")
    context = Context(project, compiler, quantiles)
    return frame.select(project.key, *(label_column(label, context).alias(label.id) for label in labels))
