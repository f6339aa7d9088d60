"""Label evaluation: every due label as one Column, all of them in one `select`.

Distribution tiers take their thresholds from one exact-percentile aggregation over the
entities (one array of quantiles per indicator, for all tiers of all distribution labels),
cross-joined as a single row: nothing is collected to the driver.
"""
from __future__ import annotations

import datetime as dt
from typing import Mapping

from pyspark.sql import Column, DataFrame
from pyspark.sql import functions as F

from labelspark.config import Project
from labelspark.config.models import (
    DistributionLabel,
    FirstLastLabel,
    ImportLabel,
    MetricLabel,
    PreferenceLabel,
    RulesLabel,
)
from labelspark.kinds import SPARK_TYPE_OF_KIND, kind_of
from labelspark.rules import Field, RuleCompiler

_IMPORTED = "__import_{}"
_QUANTILES = "__quantiles_{}"


def _quantiles(labels: list) -> dict[str, list[float]]:
    """The quantiles to compute per indicator: one exact-percentile aggregate each, however
    many distribution labels and tiers read it (Sail's percentile keeps a map of every
    value; one map per indicator instead of one per tier)."""
    wanted: dict[str, set[float]] = {}
    for label in labels:
        wanted.setdefault(label.indicator, set()).update(label.tiers.values())
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
    quantiles = _quantiles([label for label in labels if isinstance(label, DistributionLabel)])
    if quantiles:
        thresholds = indicators.agg(*(
            F.percentile(F.col(indicator), F.array(*map(F.lit, qs))).alias(_QUANTILES.format(indicator)) for indicator, qs in quantiles.items()
        ))
        frame = thresholds.crossJoin(frame)  # the one-row side first: Sail builds a cross join's left side
    # each import on the left: engines build a join's left side (Sail collects it whole), and an
    # import is small where the entities are not
    for label_id, values in imports.items():
        frame = values.withColumnRenamed("value", _IMPORTED.format(label_id)).join(frame, on=project.key, how="right")
    columns = [label_column(label, project, compiler, quantiles).cast(SPARK_TYPE_OF_KIND[label.type]).alias(label.id) for label in labels]
    return frame.select(project.key, *columns)


def label_column(label, project: Project, compiler: RuleCompiler, quantiles: dict[str, list[float]]) -> Column:
    if isinstance(label, RulesLabel):
        trees = project.label_rules[label.id]
        if label.multi:
            matches = F.array_compact(F.array(*(F.when(compiler.compile(tree), F.lit(str(v.value))) for tree, v in zip(trees, label.values))))
            default = F.array(*(F.lit(str(v)) for v in label.default)) if label.default is not None else F.lit(None)
            return F.when(F.size(matches) > 0, matches).otherwise(default)
        column = None
        for tree, value in zip(trees, label.values):
            condition = compiler.compile(tree)
            column = F.when(condition, F.lit(value.value)) if column is None else column.when(condition, F.lit(value.value))
        return column.otherwise(F.lit(label.default))
    if isinstance(label, (MetricLabel, FirstLastLabel, PreferenceLabel)):
        return F.col(label.indicator)
    if isinstance(label, DistributionLabel):
        value, column = F.col(label.indicator), None
        for tier, q in label.tiers.items():
            fits = value <= F.get(F.col(_QUANTILES.format(label.indicator)), quantiles[label.indicator].index(q))
            column = F.when(fits, F.lit(tier)) if column is None else column.when(fits, F.lit(tier))
        return column
    if isinstance(label, ImportLabel):
        return F.col(_IMPORTED.format(label.id))
    raise TypeError(f"no evaluation for label method {label.method!r}")
