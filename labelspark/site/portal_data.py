"""What the portal shows, read from the Delta tables with delta-rs (no Spark session).

Each table is scanned once (label_history once for the versions opened, once for those
closed), for every label at a time, filtered to the dates shown and to the columns needed,
batch by batch: memory follows what the site holds (the most frequent values of each label
and date, counts per date), not the size of the tables.
"""
from __future__ import annotations

import collections
import datetime as dt
from dataclasses import dataclass

import pyarrow as pa
import pyarrow.compute as pc

from labelspark.config import Project
from labelspark.errors import NoResults
from labelspark.warehouse.deltars import existing_table, open_table, read_rows, scan_rows, sql_in, sql_literal, table_schema
from labelspark.warehouse.readers import history_matches_stats
from labelspark.warehouse.names import CATALOG_TABLE, DATE, HISTORY_TABLE, RUNS_TABLE, SEGMENTS_TABLE, STATS_TABLE, table_path

TOP_VALUES = 50  # values kept per label and date: the distribution's "top N" goes up to this
RECENT_RUNS = 500


@dataclass
class LabelFigures:
    """One label's stats over the dates shown."""

    ranked: dict[dt.date, list[tuple[str | None, int]]]  # date -> (value, users) by rank, at most TOP_VALUES
    distinct: dict[dt.date, int]  # date -> how many values the date has in all
    nulls: dict[dt.date, int]  # date -> entities without a value
    changes: dict[tuple[dt.date, str], list[int]] | None  # (date, value) -> [versions entered, left]; None: not comparable


@dataclass
class Warehouse:
    """The tables' figures for the dates `start` .. `day`."""

    day: dt.date  # the latest date with stats in the window
    start: dt.date
    dates: list[dt.date]  # dates with stats, ascending
    entities: dict[dt.date, int]
    labels: dict[str, LabelFigures]
    segment_sizes: dict[str, dict[dt.date, int]]
    runs: list[dict]
    definition_since: dict[str, dt.date]  # label id -> first date of its current definition


def read_warehouse(project: Project, day: dt.date | None, days: int) -> Warehouse:
    """The figures of the `days` dates ending with `day` (default: the latest date with stats)."""
    day = day or latest_stats_date(project)
    start = day - dt.timedelta(days=days - 1)
    window = _between(DATE, start, day)
    ranked, distinct, nulls, entities = _stats(table_path(project.warehouse, STATS_TABLE), window)
    if not entities:
        raise NoResults(f"no stats between {start} and {day} under {project.warehouse}")
    comparable = [label.id for label in project.labels if history_matches_stats(label)]
    changes = _changes(_optional(project, HISTORY_TABLE), comparable, start, day)
    labels = {
        label.id: LabelFigures(ranked.get(label.id, {}), distinct.get(label.id, {}), nulls.get(label.id, {}),
                               changes.get(label.id, {}) if label.id in comparable else None)
        for label in project.labels
    }
    return Warehouse(
        day=max(entities), start=start, dates=sorted(entities), entities=entities, labels=labels,
        segment_sizes=_segment_sizes(_optional(project, SEGMENTS_TABLE), window),
        runs=_runs(_optional(project, RUNS_TABLE), window),
        definition_since=_definition_since(_optional(project, CATALOG_TABLE)),
    )


def latest_stats_date(project: Project) -> dt.date:
    """The latest date of label_stats, from the table's log (its partitions), without reading data."""
    actions = pa.table(open_table(table_path(project.warehouse, STATS_TABLE)).get_add_actions(flatten=True))
    latest = pc.max(actions[f"partition.{DATE}"]).as_py() if actions.num_rows else None
    if latest is None:
        raise NoResults(f"label_stats under {project.warehouse} holds no date yet: run `labelspark run` first")
    return latest


def _optional(project: Project, table: str) -> str | None:
    """The path of the warehouse's `table`; None when there is no such table yet."""
    path = table_path(project.warehouse, table)
    return None if existing_table(path) is None else path


def _between(column: str, start: dt.date, end: dt.date) -> str:
    return f"{column} BETWEEN {sql_literal(start)} AND {sql_literal(end)}"


def _stats(stats: str, window: str):
    """Per label and date: the top values by rank, how many values in all, the nulls; entities per date."""
    ranked: dict = collections.defaultdict(lambda: collections.defaultdict(list))
    distinct: dict = collections.defaultdict(dict)
    nulls: dict = collections.defaultdict(dict)
    entities: dict[dt.date, int] = {}
    columns = ["label_id", DATE, "value", "users", "proportion", "rank"]
    for batch in scan_rows(stats, columns, window):
        table = pa.Table.from_batches([batch])
        for row in table.filter(pc.field("rank") <= TOP_VALUES).to_pylist():
            ranked[row["label_id"]][row[DATE]].append((row["rank"], row["value"], row["users"]))
            if row[DATE] not in entities and row["proportion"]:
                # proportion = users / entities of the date: every label's rows give the same count
                entities[row[DATE]] = round(row["users"] / row["proportion"])
        for row in table.filter(pc.field("value").is_null()).select(["label_id", DATE, "users"]).to_pylist():
            nulls[row["label_id"]][row[DATE]] = row["users"]
        for row in table.group_by(["label_id", DATE]).aggregate([("rank", "max")]).to_pylist():
            known = distinct[row["label_id"]].get(row[DATE], 0)
            distinct[row["label_id"]][row[DATE]] = max(known, row["rank_max"])
    by_rank = {
        label_id: {day: [(value, users) for _, value, users in sorted(rows, key=lambda r: r[0])] for day, rows in days.items()}
        for label_id, days in ranked.items()
    }
    return by_rank, dict(distinct), dict(nulls), entities


def _changes(history: str | None, label_ids: list[str], start: dt.date, end: dt.date) -> dict:
    """label id -> (date, value) -> [versions opened, versions closed] on that date: one scan
    per side, each pruned to the versions its date column puts in the window."""
    changes: dict = collections.defaultdict(lambda: collections.defaultdict(lambda: [0, 0]))
    if history is None or not label_ids:
        return changes
    for side, column in enumerate(("valid_from", "valid_to")):
        counter, where = _GroupCounter(["label_id", column, "value"]), f"{sql_in('label_id', label_ids)} AND {_between(column, start, end)}"
        for batch in scan_rows(history, ["label_id", column, "value"], where):
            counter.add(pa.Table.from_batches([batch]))
        for row in counter.totals().to_pylist():
            changes[row["label_id"]][(row[column], row["value"])][side] = row["rows"]
    return changes


def _segment_sizes(members: str | None, window: str) -> dict[str, dict[dt.date, int]]:
    sizes: dict = collections.defaultdict(dict)
    if members is None:
        return sizes
    counter = _GroupCounter(["segment_id", DATE])
    for batch in scan_rows(members, ["segment_id", DATE], window):
        counter.add(pa.Table.from_batches([batch]))
    for row in counter.totals().to_pylist():
        sizes[row["segment_id"]][row[DATE]] = row["rows"]
    return sizes


class _GroupCounter:
    """Rows per group over a stream of tables, counted by Arrow; partial counts are folded
    together as they pile up, so memory follows the number of groups, not of rows."""

    FOLD_AT = 1_000_000  # partial count rows held before folding

    def __init__(self, keys: list[str]):
        self.keys = keys
        self.parts: list[pa.Table] = []

    def add(self, table: pa.Table) -> None:
        counted = table.group_by(self.keys).aggregate([([], "count_all")])
        self.parts.append(counted.select(self.keys).append_column("rows", counted["count_all"]))
        if sum(part.num_rows for part in self.parts) > self.FOLD_AT:
            self.parts = [self.totals()]

    def totals(self) -> pa.Table:
        if not self.parts:
            return pa.table({key: [] for key in [*self.keys, "rows"]})
        summed = pa.concat_tables(self.parts).group_by(self.keys).aggregate([("rows", "sum")])
        return summed.select(self.keys).append_column("rows", summed["rows_sum"])


def _runs(runs: str | None, window: str) -> list[dict]:
    """The latest runs of the dates shown, newest first."""
    if runs is None:
        return []
    columns = ["run_id", DATE, "status", "labels", "rows", "started_at", "finished_at", "index", "error", "details"]
    present = table_schema(runs).names
    rows = read_rows(runs, [c for c in columns if c in present], window).to_pylist()
    rows.sort(key=lambda row: row["started_at"], reverse=True)
    return rows[:RECENT_RUNS]


def _definition_since(catalog: str | None) -> dict[str, dt.date]:
    if catalog is None:
        return {}
    current = read_rows(catalog, ["label_id", "valid_from"], "valid_to IS NULL")
    return {row["label_id"]: row["valid_from"] for row in current.to_pylist()}
