"""`labelspark compare`: two groups' label distributions side by side, with each value's lift.

Group A is a segment's members on the date (from `segment_members`); B another segment's or,
with `--rest`, every other entity of the snapshot. The date's snapshot partition is read in
batches of the key and the compared labels; only the two member lists and the per-value
counts stay in memory.
"""
from __future__ import annotations

import collections
import datetime as dt
from pathlib import Path

import pyarrow as pa
import pyarrow.compute as pc

from labelspark.analytics.values import is_categorical, value_counts
from labelspark.analytics.scans import batches, dates_of, labels_named, on_date, pick_date, schema_of
from labelspark.config import Project
from labelspark.errors import UnknownReference
from labelspark.warehouse.deltars import sql_literal
from labelspark.warehouse.names import SEGMENTS_TABLE, SNAPSHOT_TABLE

REST = "rest"
COLUMNS = ["label", "value", "a_users", "a_share", "b_users", "b_share", "lift"]


def compare(project: Project, segment_a: str, segment_b: str | None = None, day: dt.date | None = None,
            label_ids: list[str] | None = None) -> dict:
    """`{"date", "a": {"name", "entities"}, "b": {...}, "labels": [{"label", "values": [...]}]}`.

    Per value: users and share of each group (share = users / the group's entities; a list
    label counts each element, so its shares may add up to more than 1) and the lift,
    share in A / share in B (null where B has none). Labels default to those with
    categorical values (numbers without buckets and dates are left out unless named).
    """
    day = pick_date(day, dates_of(project, SNAPSHOT_TABLE))
    schema = schema_of(project, SNAPSHOT_TABLE)
    present = set(schema.names)
    labels = labels_named(project, label_ids, present, (label for label in project.labels if label.id in present and is_categorical(label)))
    key_type = schema.field(project.key).type
    members_a = _members(project, segment_a, day, key_type)
    members_b = _members(project, segment_b, day, key_type) if segment_b else None
    counts = {label.id: (collections.Counter(), collections.Counter()) for label in labels}
    entities = [0, 0]
    for batch in batches(project, SNAPSHOT_TABLE, [project.key, *counts], on_date(day)):
        in_a = pc.is_in(batch.column(0), value_set=members_a)
        in_b = pc.is_in(batch.column(0), value_set=members_b) if members_b is not None else pc.invert(in_a)
        for side, mask in enumerate((in_a, in_b)):
            group = batch.filter(mask)
            entities[side] += group.num_rows
            for label in labels:
                counts[label.id][side].update(value_counts(label, group.column(label.id)))
    return {
        "date": day,
        "a": {"name": segment_a, "entities": entities[0]},
        "b": {"name": segment_b or REST, "entities": entities[1]},
        "labels": [{"label": label.id, "values": _values(*counts[label.id], *entities)} for label in labels],
    }


def _members(project: Project, segment_id: str, day: dt.date, key_type: pa.DataType) -> pa.Array:
    project.segment(segment_id)  # an unknown id is an UnknownReference with the closest known one
    condition = f"{on_date(day)} AND segment_id = {sql_literal(segment_id)}"
    found = [batch.column(0) for batch in batches(project, SEGMENTS_TABLE, [project.key], condition)]
    return pa.chunked_array(found, type=key_type).combine_chunks() if found else pa.array([], type=key_type)


def _values(a: collections.Counter, b: collections.Counter, a_entities: int, b_entities: int) -> list[dict]:
    """One row per value of either group, the most frequent first, null last."""
    rows = []
    for value in sorted(a.keys() | b.keys(), key=lambda v: (v is None, -(a[v] + b[v]), v or "")):
        a_share = a[value] / a_entities if a_entities else None
        b_share = b[value] / b_entities if b_entities else None
        lift = a_share / b_share if a_share is not None and b_share else None
        rows.append({"value": value, "a_users": a[value], "a_share": a_share, "b_users": b[value], "b_share": b_share, "lift": lift})
    return rows


def rows_of(document: dict) -> list[dict]:
    """The document as flat rows (one per label and value), for tables and CSV."""
    return [{"label": label["label"], **value} for label in document["labels"] for value in label["values"]]


def draw_chart(document: dict, path: Path) -> None:
    """One horizontal bar chart per label: each value's share in A and in B, as PNG."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    import numpy as np

    labels = [label for label in document["labels"] if label["values"]]
    if not labels:
        raise UnknownReference("nothing to draw: no compared label has a value")
    heights = [0.35 * len(label["values"]) + 0.9 for label in labels]
    figure, axes = plt.subplots(len(labels), 1, figsize=(8, sum(heights) + 0.6), gridspec_kw={"height_ratios": heights}, squeeze=False)
    a_name, b_name = document["a"]["name"], document["b"]["name"]
    for axis, label in zip(axes[:, 0], labels):
        names = ["(null)" if row["value"] is None else row["value"] for row in label["values"]][::-1]
        rows = label["values"][::-1]
        y = np.arange(len(rows))
        axis.barh(y + 0.2, [row["a_share"] or 0 for row in rows], height=0.4, label=a_name, color="#4C72B0")
        axis.barh(y - 0.2, [row["b_share"] or 0 for row in rows], height=0.4, label=b_name, color="#DD8452")
        axis.set_yticks(y, names)
        axis.xaxis.set_major_formatter(matplotlib.ticker.PercentFormatter(1.0))
        axis.set_title(label["label"], loc="left", fontsize=10)
    axes[0, 0].legend(loc="lower right", fontsize=8)
    figure.suptitle(f"{a_name} vs {b_name} on {document['date']}")
    figure.tight_layout()
    figure.savefig(path, dpi=120)
    plt.close(figure)
