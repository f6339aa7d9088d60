"""`labelspark profile`: one entity's portrait on a date, every label by its group, with the
date its current value started. Two pruned reads with delta-rs: the entity's row of the
date's snapshot partition, and its history versions valid on that date.
"""
from __future__ import annotations

import datetime as dt

from labelspark.analytics.scans import batches, dates_of, entity_value, is_entity, on_date, pick_date, schema_of, unknown_entity
from labelspark.config import Project
from labelspark.warehouse.deltars import sql_in, sql_literal
from labelspark.warehouse.names import HISTORY_TABLE, SNAPSHOT_TABLE

COLUMNS = ["group", "label", "value", "since"]


def profile(project: Project, entity: str, day: dt.date | None = None) -> dict:
    """`{"entity", "date", "labels": [{"label", "name", "group", "value", "since"}]}`, labels by group, then in config order."""
    day = pick_date(day, dates_of(project, SNAPSHOT_TABLE))
    schema = schema_of(project, SNAPSHOT_TABLE)
    key = entity_value(schema, project.key, entity)
    labels = [label for label in project.labels if label.id in schema.names]
    condition = f"{on_date(day)} AND {is_entity(project, key)}"
    rows = [row for batch in batches(project, SNAPSHOT_TABLE, [label.id for label in labels], condition) for row in batch.to_pylist()]
    if not rows:
        raise unknown_entity(project, key, day)
    since = _since(project, key, day, [label.id for label in labels])
    order = {label.id: i for i, label in enumerate(labels)}
    portrait = [
        {"label": label.id, "name": label.name, "group": label.group, "value": rows[0][label.id], "since": since.get(label.id)}
        for label in labels
    ]
    portrait.sort(key=lambda row: (row["group"] is None, row["group"] or "", order[row["label"]]))
    return {"entity": key, "date": day, "labels": portrait}


def _since(project: Project, key, day: dt.date, label_ids: list[str]) -> dict[str, dt.date]:
    """Per label, the start of the entity's history version valid on `day` (none for a null value)."""
    on = sql_literal(day)
    valid = f"{is_entity(project, key)} AND {sql_in('label_id', label_ids)} AND valid_from <= {on} AND (valid_to IS NULL OR valid_to > {on})"
    since = {}
    for batch in batches(project, HISTORY_TABLE, ["label_id", "valid_from"], valid):
        since.update(zip(batch.column(0).to_pylist(), batch.column(1).to_pylist()))
    return since


def table_rows(document: dict) -> list[dict]:
    """The portrait as table rows: a group's name only on its first row, so the labels read as grouped."""
    rows, previous = [], object()
    for row in document["labels"]:
        rows.append({**row, "group": row["group"] if row["group"] != previous else ""})
        previous = row["group"]
    return rows
