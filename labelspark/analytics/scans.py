"""Reading the warehouse with delta-rs for the analytics commands (and `plan`), and naming what they ask for.

Every read names its partition (`snapshot_date`) and a predicate (SQL text for `scan_rows`,
values as literals), so delta-rs skips the other dates' files and the row groups that cannot
match; rows arrive in batches.
An unknown label, segment, entity or date is an `UnknownReference` (exit 2) that lists the
known ones.
"""
from __future__ import annotations

import datetime as dt
from typing import Iterable

import pyarrow as pa
import pyarrow.compute as pc

from labelspark.config import Project
from labelspark.errors import UnknownReference
from labelspark.warehouse.readers import pick_date  # noqa: F401 - the date lookup, shared with `stats`
from labelspark.warehouse.deltars import existing_table, is_local, quoted, scan_rows, sql_literal, table_schema
from labelspark.warehouse.names import DATE, SNAPSHOT_TABLE, table_path


def dates_of(project: Project, table: str) -> list[dt.date]:
    """The partition dates of a date-partitioned table, from its log alone (no data file is read)."""
    found = existing_table(table_path(project.warehouse, table))
    if found is None:
        return []
    return sorted({dt.date.fromisoformat(p[DATE]) for p in found.partitions() if p.get(DATE)})


def snapshot_label_columns(project: Project) -> set[str] | None:
    """The columns of a local label_snapshot (empty: no table yet); None for a remote
    warehouse, which `plan` does not reach out to."""
    if not is_local(project.warehouse):
        return None
    snapshot = existing_table(table_path(project.warehouse, SNAPSHOT_TABLE))
    return set() if snapshot is None else set(snapshot.schema().to_arrow().names)


def labels_named(project: Project, label_ids: Iterable[str] | None, present: set[str], default: Iterable) -> list:
    """The labels asked for (all of `default` when none), each one a column of the table read."""
    labels = [project.label(label_id) for label_id in label_ids] if label_ids else list(default)
    missing = [label.id for label in labels if label.id not in present]
    if missing:
        raise UnknownReference(f"not in the snapshot (disabled, or never computed by that date): {', '.join(missing)} "
                               f"(labels there: {', '.join(label.id for label in project.labels if label.id in present)})")
    return labels


def entity_value(schema: pa.Schema, key: str, text: str):
    """The entity id typed as the table stores it (an id that cannot be one matches nothing)."""
    key_type = schema.field(key).type
    if pa.types.is_integer(key_type):
        try:
            return int(text)
        except ValueError:
            raise UnknownReference(f"no entity '{text}': {key} is a number") from None
    return text


def schema_of(project: Project, table: str) -> pa.Schema:
    """The columns of the warehouse's `table`; a missing table is `NoResults`."""
    return table_schema(table_path(project.warehouse, table))


def on_date(day: dt.date) -> str:
    return f"{DATE} = {sql_literal(day)}"


def is_entity(project: Project, key) -> str:
    """The condition matching the entity whose key is `key` (typed by `entity_value`)."""
    return f"{quoted(project.key)} = {sql_literal(key)}"


def batches(project: Project, table: str, columns: list[str], where: str) -> pa.RecordBatchReader:
    """The rows of the warehouse's `table` matching `where`, batch by batch (only `columns` are
    read, one file at a time): memory follows a batch, not the table. A missing table is `NoResults`."""
    return scan_rows(table_path(project.warehouse, table), columns, where)


def unknown_entity(project: Project, value, day: dt.date) -> UnknownReference:
    """The error for an id not in the snapshot of `day`, naming its nearest ids there (one scan of the key column)."""
    below = above = None
    for batch in batches(project, SNAPSHOT_TABLE, [project.key], on_date(day)):
        keys = batch.column(0)
        lower, higher = pc.max(pc.filter(keys, pc.less(keys, value))).as_py(), pc.min(pc.filter(keys, pc.greater(keys, value))).as_py()
        below = lower if below is None or (lower is not None and lower > below) else below
        above = higher if above is None or (higher is not None and higher < above) else above
    nearest = ", ".join(str(v) for v in (below, above) if v is not None)
    return UnknownReference(f"no entity '{value}' in {SNAPSHOT_TABLE} on {day}" + (f" (nearest ids: {nearest})" if nearest else ""))
