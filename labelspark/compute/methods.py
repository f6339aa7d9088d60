"""The one registry of label methods on Spark: per label class, the Column of its value and
how `label_stats` counts it.

A method's pure facts (the indicators it reads, the values it can take, the kind it needs of
its indicator) are on its model in `labelspark.config.labels`; this table holds what needs
Spark. `tests/test_methods.py` checks that it covers every class of the `Label` union, and a
class without an entry fails by name (`method_of`) instead of computing nulls.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Callable, Mapping

from pyspark.sql import Column
from pyspark.sql import functions as F

from labelspark.config import Project
from labelspark.config.labels import (
    DistributionLabel,
    FirstLastLabel,
    ImportLabel,
    MetricLabel,
    PreferenceLabel,
    RulesLabel,
)
from labelspark.rules.spark import RuleCompiler
from labelspark.engine.spark_types import SPARK_TYPE_OF_KIND
from labelspark.udfs import as_text, bucket_name

IMPORTED = "__import_{}"  # column of an import label's values, joined on the entity key
QUANTILES = "__quantiles_{}"  # column of an indicator's quantiles (one row, cross-joined)


@dataclass(frozen=True)
class Context:
    """What a label's Column reads besides its own definition."""

    project: Project
    compiler: RuleCompiler  # over the indicators
    quantiles: Mapping[str, list[float]] = field(default_factory=dict)  # indicator -> those in QUANTILES


@dataclass(frozen=True)
class Method:
    column: Callable[[Any, Context], Column]
    counted: Callable[[Any, Column], Column]  # the label's value as `label_stats` counts it (`_counted`)


def _rules(label: RulesLabel, context: Context) -> Column:
    trees, compile_ = context.project.label_rules[label.id], context.compiler.compile
    if label.multi:
        matches = F.array_compact(F.array(*(F.when(compile_(tree), F.lit(str(v.value))) for tree, v in zip(trees, label.values))))
        default = F.array(*(F.lit(str(v)) for v in label.default)) if label.default is not None else F.lit(None)
        return F.when(F.size(matches) > 0, matches).otherwise(default)
    column = None
    for tree, value in zip(trees, label.values):
        condition = compile_(tree)
        column = F.when(condition, F.lit(value.value)) if column is None else column.when(condition, F.lit(value.value))
    return column.otherwise(F.lit(label.default))


def _indicator_value(label, context: Context) -> Column:
    return F.col(label.indicator)


def _tier(label: DistributionLabel, context: Context) -> Column:
    """The first tier whose quantile of the population the indicator is at or below."""
    value, column = F.col(label.indicator), None
    for tier, q in label.tiers.items():
        fits = value <= F.get(F.col(QUANTILES.format(label.indicator)), context.quantiles[label.indicator].index(q))
        column = F.when(fits, F.lit(tier)) if column is None else column.when(fits, F.lit(tier))
    return column


def _imported(label: ImportLabel, context: Context) -> Column:
    return F.col(IMPORTED.format(label.id))


def _counted(label, column: Column) -> Column:
    """The text `label_stats` counts: the value as text (null with the nulls), or for a list
    label the array of its distinct elements (an empty list counts with the nulls)."""
    if label.type == "list":
        return F.when(F.size(column) > 0, F.array_distinct(column)).otherwise(F.array(F.lit(None).cast("string")))
    return as_text(column, label.type)


def _counted_in_buckets(label: MetricLabel, column: Column) -> Column:
    """A metric with `buckets` counts its bucket names."""
    return bucket_name(column, label.buckets) if label.buckets else _counted(label, column)


METHODS: dict[type, Method] = {
    RulesLabel: Method(_rules, _counted),
    MetricLabel: Method(_indicator_value, _counted_in_buckets),
    FirstLastLabel: Method(_indicator_value, _counted),
    PreferenceLabel: Method(_indicator_value, _counted),
    DistributionLabel: Method(_tier, _counted),
    ImportLabel: Method(_imported, _counted),
}


def method_of(label) -> Method:
    """The label's entry; a label class without one is refused by name."""
    method = METHODS.get(type(label))
    if method is None:
        raise NotImplementedError(f"label method '{label.method}' ({type(label).__name__}) has no entry in labelspark.compute.methods.METHODS")
    return method


def label_column(label, context: Context) -> Column:
    """The label's value for each entity, typed as its kind."""
    return method_of(label).column(label, context).cast(SPARK_TYPE_OF_KIND[label.type])
