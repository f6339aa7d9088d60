"""`labelspark preview`: a label test. Computes one label as the config defines it now (new,
edited or disabled) on a date's data, and shows its distribution and a sample of entities
with the indicators it read. Writes nothing and takes no lock: it reads only the sources.

Only the sources the label's indicators come from are aggregated; the others give their
entity ids alone, so the shares are over the same entities as in a run. The distribution is
`label_stats`' aggregation over the computed column and the sample a `limit`: the engine
counts, nothing but the answer reaches the driver.
"""
from __future__ import annotations

import datetime as dt

from pyspark.sql import SparkSession
from pyspark.sql import functions as F

from labelspark.compute import indicators as indicator_pass
from labelspark.analytics.dry_run import as_configured, narrowed, sources_as_of
from labelspark.config import Project
from labelspark.compute.label_columns import evaluate
from labelspark.compute.imports import read_import
from labelspark.compute.plan import make_plan
from labelspark.compute.derived.stats import label_stats

COLUMNS = ["value", "users", "proportion"]


def preview(spark: SparkSession, project: Project, label_id: str, day: dt.date, sample: int = 5, top: int = 0) -> dict:
    """`{"label", "date", "entities", "distribution": [{"value", "users", "proportion"}],
    "sample": [{"<key>", "value", "indicators": {...}}]}`; `top` keeps the most frequent values (0: all)."""
    project, label = as_configured(project, label_id)
    plan = make_plan(project, day, computed=set(), only=[label.id])
    frames = sources_as_of(spark, project, day)
    entities = indicator_pass.extract(frames, project, plan.indicators, day)
    imports = {label.id: read_import(spark, project, label, entities)} if plan.imports else {}
    labelled = evaluate(entities, project, [label], day, imports)

    stats = label_stats(labelled, project, [label], day)
    distribution = stats.where(F.col("rank") <= top) if top else stats
    counted = [row.asDict() for row in distribution.orderBy("rank").collect()]
    total = next((round(row["users"] / row["proportion"]) for row in counted if row["proportion"]), 0)

    picked = labelled.where(F.col(label.id).isNotNull()).limit(sample).collect() if sample else []
    ids = [row[project.key] for row in picked]
    read = _indicators(project, narrowed(frames, project, ids), sorted(plan.indicators), day) if ids else {}
    return {
        "label": label.id,
        "date": day,
        "entities": total,
        "distribution": [{column: row[column] for column in COLUMNS} for row in counted],
        "sample": [{project.key: row[project.key], "value": row[label.id], "indicators": read.get(row[project.key], {})} for row in picked],
    }


def _indicators(project: Project, frames, names: list[str], day: dt.date) -> dict:
    """entity -> {indicator: value} of a few entities, from their rows alone."""
    if not names:
        return {}
    rows = indicator_pass.extract(frames, project, set(names), day).select(project.key, *names).collect()
    return {row[project.key]: {name: row[name] for name in names} for row in rows}


def sample_rows(document: dict, key: str) -> list[dict]:
    """The sample as table rows: the entity, its value, then each indicator it read."""
    return [{key: entry[key], "value": entry["value"], **entry["indicators"]} for entry in document["sample"]]
