"""A model of labelspark's output tables in plain Python, written from CONTRACT.md sections 3
and 4 (and the README's stated choices where the contract is silent), sharing no code with
labelspark: what a warehouse must hold after a sequence of runs.

The scenario supplies, per run, the entities with their indicator values (computed with the
helpers here: as-of cut, windows, latest row) and the labels of the config as `OracleLabel`s
whose `compute` is hand-written Python. The model keeps the snapshot of every date, the
daily values that history saw, and the label definitions that the catalog saw.

Readings of the contract made here:
- Carry-over: a label not due keeps, per entity, its value in the latest snapshot on or before
  the date (the date's own partition on a re-run or back-fill); an entity not in that snapshot
  gets null.
- A label with no column in the snapshot (disabled since), or that no date before this one
  computed (dates, not the order of runs: "a back-fill carries not-due labels as a run in date
  order would"), is due on any date; a `once` label only then (README, "Schedules").
- History observes a label only on the dates it is in the snapshot: while disabled, a label's
  versions are neither closed nor opened; when it comes back, a value that differs from its
  current version closes that version on the day it comes back.
- Back-fills (dates before the latest succeeded run) rewrite their snapshot, stats and
  segments; history does not see them; the catalog records the definitions they computed with
  for their date ("definitions are compared by what was in force on each date"). A rewind to
  D forgets every later date.
"""
from __future__ import annotations

import calendar
import datetime as dt
import json
from collections import Counter
from dataclasses import dataclass, field
from typing import Any, Callable, Iterable
from zoneinfo import ZoneInfo

WEEKDAYS = ("MON", "TUE", "WED", "THU", "FRI", "SAT", "SUN")


# --- sources: the as-of cut, the latest row, windows ---------------------------------------


def local_day(instant: dt.datetime, timezone: str) -> dt.date:
    return instant.astimezone(ZoneInfo(timezone)).date()


def as_of(rows: Iterable, time: str, day: dt.date, timezone: str) -> list:
    """Rows whose `time` falls on or before the end of `day` in `timezone`."""
    return [row for row in rows if local_day(getattr(row, time), timezone) <= day]


def latest_by(rows: Iterable, key: str, time: str) -> dict[Any, Any]:
    """Per key, the row with the greatest `time` (the scenarios keep times unique per key)."""
    latest: dict[Any, Any] = {}
    for row in rows:
        k = getattr(row, key)
        if k is not None and (k not in latest or getattr(row, time) > getattr(latest[k], time)):
            latest[k] = row
    return latest


def in_window(day_of_row: dt.date, day: dt.date, days: int) -> bool:
    """`window: Nd`: the N calendar days ending with `day`, `day` included."""
    return day - dt.timedelta(days=days - 1) <= day_of_row <= day


# --- schedules -----------------------------------------------------------------------------


def is_due(schedule: str, day: dt.date, computed_before: bool) -> bool:
    if not computed_before:
        return True
    if schedule == "daily":
        return True
    if schedule == "once":
        return False
    kind, _, arg = schedule.partition(":")
    if kind == "weekly":
        return WEEKDAYS[day.weekday()] == arg
    last = calendar.monthrange(day.year, day.month)[1]
    return day.day == min(int(arg), last)


# --- text forms ----------------------------------------------------------------------------


def as_text(value: Any, kind: str) -> str | None:
    """A value as label_history and label_stats spell it (README, "Output tables")."""
    if value is None:
        return None
    if kind == "list":
        return json.dumps(sorted(value), separators=(",", ":"))
    if kind == "number":
        if float(value).is_integer():
            return str(int(value))
        return f"{value:.9f}".rstrip("0").rstrip(".")
    if kind == "boolean":
        return "true" if value else "false"
    if kind == "date":
        return value.isoformat()
    return str(value)


def bucket_of(value: float | None, edges: list[float]) -> str | None:
    """`[0, 100, 500]` -> `(-inf,0)`, `[0,100)`, `[100,500)`, `[500,+inf)`."""
    if value is None:
        return None
    names = [str(int(e)) if float(e).is_integer() else repr(float(e)) for e in edges]
    if value < edges[0]:
        return f"(-inf,{names[0]})"
    for low, high, edge in zip(names, names[1:], edges[1:]):
        if value < edge:
            return f"[{low},{high})"
    return f"[{names[-1]},+inf)"


# --- labels, segments ----------------------------------------------------------------------


@dataclass(frozen=True)
class OracleLabel:
    id: str
    type: str  # string | number | boolean | date | list
    schedule: str
    compute: Callable[[dict], Any]  # an entity's indicators -> its value
    definition: dict  # the label as written in the config (the catalog's unit of change)
    buckets: list[float] | None = None

    @property
    def enabled(self) -> bool:
        return self.definition.get("status", "enabled") == "enabled"


@dataclass(frozen=True)
class OracleSegment:
    id: str
    member: Callable[[dict], bool]  # a snapshot row -> whether the entity belongs


def stats_rows(snapshot: dict[str, dict], labels: list[OracleLabel], day: dt.date) -> list[tuple]:
    """(label_id, snapshot_date, value, users, proportion, rank): nulls counted as value null;
    list elements once per entity; ranks by users descending, then value (nulls last)."""
    total = len(snapshot)
    rows = []
    for label in labels:
        counts: Counter = Counter()
        for values in snapshot.values():
            value = values[label.id]
            if label.type == "list":
                counts.update(set(value) if value else [None])
            elif label.buckets:
                counts[bucket_of(value, label.buckets)] += 1
            else:
                counts[as_text(value, label.type)] += 1
        ordered = sorted(counts.items(), key=lambda item: (-item[1], item[0] is None, item[0] or ""))
        rows += [(label.id, day, value, users, users / total, rank) for rank, (value, users) in enumerate(ordered, 1)]
    return sorted(rows, key=repr)


def segment_rows(snapshot: dict[str, dict], segments: list[OracleSegment], day: dt.date) -> list[tuple]:
    return sorted((s.id, entity, day) for s in segments for entity, row in snapshot.items() if s.member(row))


# --- the warehouse -------------------------------------------------------------------------


@dataclass
class Version:
    entity: str
    label_id: str
    value: str
    valid_from: dt.date
    valid_to: dt.date | None = None

    def row(self) -> tuple:
        return (self.entity, self.label_id, self.value, self.valid_from, self.valid_to, self.valid_to is None)


@dataclass
class Warehouse:
    """What the tables must hold: the snapshot of every date run, the values history saw per
    date (runs in date order only), and the definitions the catalog saw per date."""

    snapshots: dict[dt.date, dict[str, dict]] = field(default_factory=dict)
    columns: set[str] = field(default_factory=set)  # labels with a column in label_snapshot
    observed: dict[dt.date, dict[str, dict]] = field(default_factory=dict)  # date -> entity -> label -> text
    observed_labels: dict[dt.date, list[OracleLabel]] = field(default_factory=dict)
    definitions: dict[dt.date, dict[str, dict]] = field(default_factory=dict)  # date -> label -> definition
    computed: dict[dt.date, set[str]] = field(default_factory=dict)  # date -> labels computed on it
    latest: dt.date | None = None  # latest date with a succeeded run

    def run(self, day: dt.date, entities: dict[str, dict], labels: list[OracleLabel]) -> dict[str, dict]:
        """One successful run of `day` with these entities (key -> indicators) and labels."""
        enabled = [label for label in labels if label.enabled]
        previous_day = max((d for d in self.snapshots if d <= day), default=None)
        previous = self.snapshots.get(previous_day, {})
        snapshot = {}
        before = set().union(*(labels for d, labels in self.computed.items() if d < day))
        due = {label.id for label in enabled if is_due(label.schedule, day, label.id in self.columns and label.id in before)}
        for entity, indicators in entities.items():
            values = {}
            for label in enabled:
                if label.id in due:
                    values[label.id] = label.compute(indicators)
                else:
                    values[label.id] = previous.get(entity, {}).get(label.id)
            snapshot[entity] = values
        self.snapshots[day] = snapshot
        self.computed[day] = due
        self.definitions[day] = {label.id: label.definition for label in labels}
        self.columns = {label.id for label in enabled}
        if self.latest is None or day >= self.latest:
            self.observed[day] = {
                entity: {label.id: as_text(values[label.id], label.type) for label in enabled}
                for entity, values in snapshot.items()
            }
            self.observed_labels[day] = enabled
            self.latest = day
        return snapshot

    def rewind(self, to: dt.date) -> None:
        """As if no date after `to` had run (`labelspark rewind --to`)."""
        for dated in (self.snapshots, self.observed, self.observed_labels, self.definitions, self.computed):
            for day in [d for d in dated if d > to]:
                del dated[day]
        self.latest = max(self.observed, default=None)
        self.columns = {label.id for label in self.observed_labels.get(self.latest, [])}

    def history(self) -> list[tuple]:
        """label_history as the run-length encoding of each entity's observed daily values."""
        versions: list[Version] = []
        current: dict[tuple[str, str], Version] = {}
        for day in sorted(self.observed):
            values = self.observed[day]
            for label in self.observed_labels[day]:
                entities = {e for e, lid in current if lid == label.id} | set(values)
                for entity in sorted(entities):
                    text = values.get(entity, {}).get(label.id)
                    open_version = current.get((entity, label.id))
                    if open_version is not None and open_version.value == text:
                        continue
                    if open_version is not None:
                        open_version.valid_to = day
                        del current[(entity, label.id)]
                    if text is not None:
                        current[(entity, label.id)] = Version(entity, label.id, text, day)
                        versions.append(current[(entity, label.id)])
        return sorted(v.row() for v in versions)

    def catalog(self) -> list[tuple]:
        """(label_id, definition, valid_from, valid_to): a version per change of a label's
        definition (status included), across the dates run (back-fills included) in date order."""
        versions: list[list] = []
        current: dict[str, list] = {}
        for day in sorted(self.definitions):
            seen = self.definitions[day]
            for label_id in sorted(set(seen) | set(current)):
                definition = seen.get(label_id)
                version = current.get(label_id)
                if version is not None and version[1] == definition:
                    continue
                if version is not None:
                    version[3] = day
                    del current[label_id]
                if definition is not None:
                    current[label_id] = [label_id, definition, day, None]
                    versions.append(current[label_id])
        return sorted((tuple(v) for v in versions), key=lambda v: (v[0], v[2]))
