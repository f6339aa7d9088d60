"""`labelspark diff`: how labels moved between two dates, and whether their definitions did.

The two snapshot partitions are read a few label columns at a time (the key and those
labels, of those two dates only); the entities are matched by one hash join of the two key
columns, and each chunk's rows are taken by position. Memory holds one chunk of two dates'
columns, not the table. Definitions come from `label_catalog`:
the versions valid on each date.
"""
from __future__ import annotations

import datetime as dt

import pyarrow as pa
import pyarrow.compute as pc

from labelspark.analytics.values import buckets_of, joined_elements, text_of
from labelspark.analytics.scans import batches, dates_of, labels_named, on_date, pick_date, schema_of
from labelspark.config import Project
from labelspark.warehouse.deltars import read_rows, sql_in, sql_literal
from labelspark.warehouse.names import CATALOG_TABLE, SNAPSHOT_TABLE, table_path

LABELS_PER_READ = 8  # label columns read together: fewer reads of the key, more memory
SUMMARY_COLUMNS = ["label", "changed", "entered", "left", "definition_changed"]
TRANSITION_COLUMNS = ["label", "from", "to", "users"]


def diff(project: Project, start: dt.date, end: dt.date, label_id: str | None = None, top: int = 20) -> dict:
    """`{"from", "to", "labels": [{"label", "changed", "entered", "left", "definition_changed",
    "transitions": [{"from", "to", "users"}], "transitions_total"}]}`.

    changed: a value on both dates, not the same; entered: a value on `end` and none (or no
    row) on `start`; left: the reverse. An empty list counts as no value. Transitions are the
    (from, to) pairs of every entity with a value on either date, null standing for none, the
    `top` most frequent (0: all); bucketed metrics move between buckets.
    """
    dates = dates_of(project, SNAPSHOT_TABLE)
    start, end = pick_date(start, dates), pick_date(end, dates)
    present = set(schema_of(project, SNAPSHOT_TABLE).names)
    labels = labels_named(project, [label_id] if label_id else None, present, (label for label in project.labels if label.id in present))
    definitions = _definitions(project, [label.id for label in labels], start), _definitions(project, [label.id for label in labels], end)
    matched, results = _Matched(project.key), []
    for first in range(0, len(labels), LABELS_PER_READ):
        chunk = labels[first:first + LABELS_PER_READ]
        joined = _joined(table_path(project.warehouse, SNAPSHOT_TABLE), project.key, chunk, start, end, matched)
        for label in chunk:
            before, after = definitions[0].get(label.id), definitions[1].get(label.id)
            changed = None if before is None and after is None else before != after
            results.append({"label": label.id, **_moves(label, joined, top), "definition_changed": changed})
    return {"from": start, "to": end, "labels": results}


def _joined(snapshot: str, key: str, labels: list, start: dt.date, end: dt.date, matched: "_Matched") -> pa.Table:
    """Per label `<id>.from` and `<id>.to`: each date's value, comparable, one row per entity of either date."""
    tables = [read_rows(snapshot, [key, *(label.id for label in labels)], on_date(day)) for day in (start, end)]
    rows = matched.rows(tables[0].column(key), tables[1].column(key))
    aligned = [table.drop_columns([key]).combine_chunks().take(taken) for table, taken in zip(tables, rows)]
    return pa.table({
        f"{label.id}.{side}": _comparable(label, table.column(label.id).combine_chunks())
        for table, side in zip(aligned, ("from", "to"))
        for label in labels
    })


def _comparable(label, values: pa.Array) -> pa.Array:
    return joined_elements(values) if label.type == "list" else values


class _Matched:
    """The row of each date's partition that holds each entity of either date, found by one
    hash join of the two key columns. Later reads of the same partitions (same files, same
    order) reuse it; keys read in another order are joined again."""

    def __init__(self, key: str):
        self.key, self.keys, self.found = key, None, None

    def rows(self, start_keys: pa.ChunkedArray, end_keys: pa.ChunkedArray) -> tuple[pa.Array, pa.Array]:
        if self.keys is None or not (start_keys.equals(self.keys[0]) and end_keys.equals(self.keys[1])):
            numbered = [pa.table({self.key: keys, side: pa.array(range(len(keys)), pa.int64())})
                        for keys, side in ((start_keys, "from"), (end_keys, "to"))]
            joined = numbered[0].join(numbered[1], keys=self.key, join_type="full outer")
            self.keys, self.found = (start_keys, end_keys), (joined.column("from").combine_chunks(), joined.column("to").combine_chunks())
        return self.found


def _moves(label, joined: pa.Table, top: int) -> dict:
    before, after = joined.column(f"{label.id}.from"), joined.column(f"{label.id}.to")
    had, has = pc.is_valid(before), pc.is_valid(after)
    both = pc.and_(had, has)
    changed = pc.sum(pc.and_(both, pc.fill_null(pc.not_equal(before, after), False))).as_py() or 0
    entered = pc.sum(pc.and_(pc.invert(had), has)).as_py() or 0
    left = pc.sum(pc.and_(had, pc.invert(has))).as_py() or 0
    if label.bucketed:  # transitions between buckets, not between every amount
        before, after = (buckets_of(column.combine_chunks(), label.buckets) for column in (before, after))
    pairs = pa.table({"from": before, "to": after}).filter(pc.or_(had, has))
    counted = pairs.group_by(["from", "to"]).aggregate([([], "count_all")])
    counted = counted.sort_by([("count_all", "descending"), ("from", "ascending"), ("to", "ascending")])  # ties in one order
    kind = "string" if label.type == "list" or label.bucketed else label.type
    shown = counted if not top else counted.slice(0, top)
    transitions = [
        {"from": text_of(row["from"], kind), "to": text_of(row["to"], kind), "users": row["count_all"]}
        for row in shown.to_pylist()
    ]
    return {"changed": changed, "entered": entered, "left": left, "transitions": transitions, "transitions_total": counted.num_rows}


def _definitions(project: Project, label_ids: list[str], day: dt.date) -> dict[str, str]:
    """label -> hash of its definition valid on `day` in `label_catalog`."""
    on = sql_literal(day)
    valid = f"{sql_in('label_id', label_ids)} AND valid_from <= {on} AND (valid_to IS NULL OR valid_to > {on})"
    found = {}
    for batch in batches(project, CATALOG_TABLE, ["label_id", "definition_hash"], valid):
        found.update(zip(batch.column(0).to_pylist(), batch.column(1).to_pylist()))
    return found


def rows_of(document: dict) -> list[dict]:
    """The transitions as flat rows (label, from, to, users), for CSV."""
    return [{"label": label["label"], **move} for label in document["labels"] for move in label["transitions"]]
