"""`labelspark explain`: why an entity has its value of a label on a date.

The sources are narrowed to the entity's rows before anything is aggregated, so its
indicators cost a filtered read; for a rules label every node of every value's rule is
compiled with `RuleCompiler` and all are evaluated in one `select` over that one row. A
distribution label needs the population's quantiles: one aggregation over all entities.
The value computed is compared with the one `label_snapshot` holds (read with delta-rs).
"""
from __future__ import annotations

import datetime as dt
import itertools

from pyspark.sql import DataFrame, SparkSession
from pyspark.sql import functions as F

from labelspark.compute import indicators as indicator_pass
from labelspark.analytics import trace
from labelspark.analytics.dry_run import as_configured, narrowed, sources_as_of
from labelspark.analytics.values import text_of
from labelspark.analytics.scans import batches, dates_of, entity_value, is_entity, on_date, schema_of, unknown_entity
from labelspark.config import Project
from labelspark.config.labels import DistributionLabel, ImportLabel
from labelspark.errors import UnknownReference
from labelspark.compute.label_columns import evaluate
from labelspark.compute.methods import Context, label_column
from labelspark.compute.imports import read_import
from labelspark.compute.plan import label_inputs
from labelspark.rules.spark import Field, RuleCompiler
from labelspark.engine.spark_types import kind_of
from labelspark.warehouse.names import SNAPSHOT_TABLE
from labelspark.timeutil import yesterday
from labelspark.udfs import try_cast

_VALUE = "__value"


def default_day(project: Project) -> dt.date:
    """The latest snapshot's date (the value users see), else yesterday in the config's timezone."""
    dates = dates_of(project, SNAPSHOT_TABLE)
    return dates[-1] if dates else yesterday(project.timezone)


def explain(spark: SparkSession, project: Project, label_id: str, entity: str, day: dt.date) -> dict:
    """`{"label", "entity", "date", "value", "snapshot_value", "in_snapshot", "equals_snapshot",
    "indicators", "trace"}`; `trace` is a tree of `{"rule", "result", "children"}`."""
    project, label = as_configured(project, label_id)
    frames = sources_as_of(spark, project, day)
    inputs = sorted(label_inputs(project, label))
    one = indicator_pass.extract(narrowed(frames, project, [entity]), project, set(inputs), day)
    if label.quantiles:  # of the population: computed over all entities
        value, indicators, explained = _distribution(project, label, frames, one, entity, inputs, day)
    elif label.imported:
        value, indicators, explained = _imported(spark, project, label, one, entity, day)
    else:
        value, indicators, explained = _row_wise(project, label, one, entity, inputs, day)
    return {
        "label": label.id,
        "entity": entity,
        "date": day,
        "value": value,
        **_snapshot(project, label.id, entity, day, value),
        "indicators": indicators,
        "trace": explained,
    }


def _row_wise(project: Project, label, one: DataFrame, entity: str, inputs: list[str], day: dt.date):
    """Rules, metric, first_last and preference labels: every node and the value in one select."""
    compiler = _compiler(project, label, one, day)
    trees = project.label_rules.get(label.id, ())
    per_tree = [trace.nodes_of(tree) for tree in trees]
    nodes = [node for tree_nodes in per_tree for node in tree_nodes]
    value = label_column(label, Context(project, compiler)).alias(_VALUE)
    row = _only_row(one.select(*inputs, value, *(compiler.compile(node).alias(f"__node{i}") for i, node in enumerate(nodes))), project, entity, day)
    indicators = {name: row[name] for name in inputs}
    if not trees:
        return row[_VALUE], indicators, {"rule": f"{label.id} = indicator {label.indicator}", "result": row[_VALUE] is not None, "children": []}
    results = [row[f"__node{i}"] for i in range(len(nodes))]
    roots = itertools.accumulate((len(tree_nodes) for tree_nodes in per_tree[:-1]), initial=0)
    holds = [results[root] for root in roots]  # as decided: a lone leaf on a null field is false, not null
    field_kinds = {name: compiler.fields[name].kind for name in inputs}
    chosen = [i for i, held in enumerate(holds) if held]
    chosen = chosen if label.multi else chosen[:1]
    children = [
        {"rule": f"value {trace.literal(v.value)}", "value": v.value, "result": held, "matched": i in chosen,
         "children": [trace.build(tree, results, indicators, field_kinds)]}
        for i, (v, tree, held) in enumerate(zip(label.values, trees, holds))
    ]
    how = "every value whose rule holds" if label.multi else "the first value whose rule holds"
    return row[_VALUE], indicators, {"rule": f"{label.id}: {how}", "result": bool(chosen), "children": children}


def _distribution(project: Project, label: DistributionLabel, frames, one: DataFrame, entity: str, inputs: list[str], day: dt.date):
    """The tier thresholds (population quantiles) and the value, in one job over all entities."""
    population = indicator_pass.extract(frames, project, set(inputs), day)
    quantiles = list(label.tiers.values())
    thresholds = population.agg(F.percentile(F.col(label.indicator), F.array(*map(F.lit, quantiles))).alias("thresholds"))
    key_type = population.schema[project.key].dataType
    valued = evaluate(population, project, [label], day, {}).where(F.col(project.key) == try_cast(F.lit(entity), key_type))
    row = _only_row(thresholds.crossJoin(valued), project, entity, day)
    indicators = _only_row(one.select(*inputs), project, entity, day).asDict()
    actual, value = indicators.get(label.indicator), row[label.id]
    tiers = []
    for (tier, q), threshold in zip(label.tiers.items(), row["thresholds"] or [None] * len(quantiles)):
        holds = None if actual is None or threshold is None else actual <= threshold
        tiers.append({"rule": f"{label.indicator} <= {text_of(threshold, 'number')} (quantile {q}) -> {tier}", "value": tier, "quantile": q,
                      "threshold": threshold, "result": holds, "matched": value == tier, "children": []})
    return value, indicators, {"rule": f"{label.id}: the first tier whose quantile {label.indicator} is at or below",
                               "result": value is not None, "children": tiers}


def _imported(spark: SparkSession, project: Project, label: ImportLabel, one: DataFrame, entity: str, day: dt.date):
    """The import file's row for the entity, and the value a run takes from it."""
    key_type = one.schema[project.key].dataType
    rows = read_import(spark, project, label, one).where(F.col(project.key) == try_cast(F.lit(entity), key_type))
    row = _only_row(evaluate(one, project, [label], day, {label.id: rows}), project, entity, day)
    found = rows.collect()
    return row[label.id], {}, {
        "rule": f"{label.id}: column '{label.value}' of {label.path} where {label.key} = {entity}"
                + (f": {found[0]['value']}" if found else ": no such row"),
        "result": bool(found), "children": [], "row": {label.key: entity, label.value: found[0]["value"]} if found else None,
    }


def _compiler(project: Project, label, one: DataFrame, day: dt.date) -> RuleCompiler:
    kinds = {field.name: kind_of(field.dataType) for field in one.schema.fields if field.name in project.indicators}
    problems = project.kind_problems(kinds, [label])
    if problems:
        raise project.error(problems)
    return RuleCompiler({name: Field(F.col(name), kind) for name, kind in kinds.items()}, day, str(project.file))


def _only_row(frame: DataFrame, project: Project, entity: str, day: dt.date):
    """The entity's one row; none: the id is no entity of any source as of `day`."""
    rows = frame.collect()
    if rows:
        return rows[0]
    if day in dates_of(project, SNAPSHOT_TABLE):
        raise unknown_entity(project, entity_value(schema_of(project, SNAPSHOT_TABLE), project.key, entity), day)
    raise UnknownReference(f"no entity '{entity}' in any source as of {day}")


def _snapshot(project: Project, label_id: str, entity: str, day: dt.date, value) -> dict:
    """The entity's value in `label_snapshot` on `day`, and whether the explained value equals it."""
    found = None
    if day in dates_of(project, SNAPSHOT_TABLE):
        schema = schema_of(project, SNAPSHOT_TABLE)
        if label_id in schema.names:
            condition = f"{on_date(day)} AND {is_entity(project, entity_value(schema, project.key, entity))}"
            found = next((row for batch in batches(project, SNAPSHOT_TABLE, [label_id], condition) for row in batch.to_pylist()), None)
    return {
        "snapshot_value": found[label_id] if found else None,
        "in_snapshot": found is not None,
        "equals_snapshot": found[label_id] == value if found else None,
    }
