"""`labelspark audit`: label governance on a date, from `label_stats` and `label_runs` alone.

The date's stats already hold every label's distribution (nulls included), so coverage,
distinct values, the top value's share and the drift from the previous date are read from
two pruned partitions of `label_stats`, never from the snapshot.
"""
from __future__ import annotations

import bisect
import collections
import datetime as dt
import math

from labelspark.analytics.values import is_categorical
from labelspark.analytics.scans import batches, dates_of, pick_date
from labelspark.config import Project
from labelspark.warehouse.deltars import sql_in, sql_literal
from labelspark.warehouse.names import DATE, RUNS_TABLE, STATS_TABLE

FLAGS = ("empty", "constant", "stale", "drifting")
DRIFTING_PSI = 0.25  # the usual reading: below 0.1 stable, 0.1-0.25 some change, above 0.25 a shift
EPSILON = 1e-4  # the share given to a value one date lacks, so ln(a/b) stays finite
COLUMNS = ["label", "coverage", "distinct", "top_share", "days_since_computed", "psi", "flags"]


def psi(current: dict, previous: dict) -> float:
    """Population stability index of two distributions given as counts per value (or bucket):
    sum over values of (a - b) * ln(a / b), where a and b are the value's shares of each
    distribution's total and a share of 0 counts as EPSILON. 0 for equal distributions."""
    a_total, b_total = sum(current.values()), sum(previous.values())
    total = 0.0
    for value in current.keys() | previous.keys():
        a = max(current.get(value, 0) / a_total if a_total else 0.0, EPSILON)
        b = max(previous.get(value, 0) / b_total if b_total else 0.0, EPSILON)
        total += (a - b) * math.log(a / b)
    return total


def audit(project: Project, day: dt.date | None = None, drifting_psi: float | None = None) -> dict:
    """`{"date", "previous_date", "labels": [{"label", "coverage", "distinct", "top_share",
    "days_since_computed", "psi", "flags"}]}`.

    coverage: share of entities with a value; distinct and top_share: over the values the
    stats count (buckets of bucketed metrics, elements of lists), top_share among entities
    with a value; psi: against the previous date with stats, over values (open numbers and
    dates: the previous date's deciles), null counting as a value of its own.
    Flags: empty (no entity has a value), constant (every entity has the same value), stale
    (not computed for longer than its schedule's period, or never: a daily label computed the
    day before passes), drifting (psi at or above `drifting_psi`, default DRIFTING_PSI).
    """
    drifting_psi = DRIFTING_PSI if drifting_psi is None else drifting_psi
    dates = dates_of(project, STATS_TABLE)
    day = pick_date(day, dates, STATS_TABLE)
    previous = max((d for d in dates if d < day), default=None)
    stats = _stats(project, [d for d in (day, previous) if d])
    computed = _last_computed(project, day)
    labels = [label for label in project.labels if label.enabled or (label.id, day) in stats]
    rows = []
    for label in labels:
        now, before = stats.get((label.id, day)), stats.get((label.id, previous))
        days = (day - computed[label.id]).days if label.id in computed else None
        rows.append(_governance(label, now, before, days, drifting_psi))
    return {"date": day, "previous_date": previous, "labels": rows}


def _governance(label, now: dict | None, before: dict | None, days: int | None, drifting_psi: float) -> dict:
    row = {"label": label.id, "coverage": None, "distinct": None, "top_share": None, "days_since_computed": days, "psi": None}
    flags = []
    if now is not None:
        entities, with_value = now["entities"], now["entities"] - now["users"].get(None, 0)
        values = {value: users for value, users in now["users"].items() if value is not None}
        row["coverage"] = with_value / entities if entities else 0.0
        row["distinct"] = len(values)
        row["top_share"] = max(values.values()) / with_value if values and with_value else None
        flags += ["empty"] if not values else (["constant"] if len(values) == 1 and with_value == entities else [])
        if before is not None:
            row["psi"] = psi(*_binned(label, now["users"], before["users"]))
    period = label.due_schedule.period_days
    if days is None or (period is not None and days > period):
        flags.append("stale")
    if row["psi"] is not None and row["psi"] >= drifting_psi:
        flags.append("drifting")
    return {**row, "flags": flags}


def _stats(project: Project, days: list[dt.date]) -> dict:
    """(label, date) -> {"entities", "users": {value: users}} of the dates' stats partitions."""
    found: dict = collections.defaultdict(lambda: {"entities": 0, "users": {}})
    columns = ["label_id", DATE, "value", "users", "proportion"]
    for batch in batches(project, STATS_TABLE, columns, sql_in(DATE, days)):
        for label_id, day, value, users, proportion in zip(*(column.to_pylist() for column in batch.columns)):
            entry = found[(label_id, day)]
            entry["users"][value] = users
            if proportion:
                entry["entities"] = round(users / proportion)
    return dict(found)


def _last_computed(project: Project, day: dt.date) -> dict[str, dt.date]:
    """Per label, the latest date up to `day` a succeeded run computed it (from `label_runs`)."""
    last: dict[str, dt.date] = {}
    condition = f"status = 'succeeded' AND {DATE} <= {sql_literal(day)}"
    for batch in batches(project, RUNS_TABLE, [DATE, "labels"], condition):
        for run_date, labels in zip(batch.column(0).to_pylist(), batch.column(1).to_pylist()):
            for label_id in labels or ():
                last[label_id] = max(last.get(label_id, run_date), run_date)
    return last


def _binned(label, now: dict, before: dict) -> tuple[dict, dict]:
    """The two distributions over the bins PSI compares: values, or for open numbers and dates
    the deciles of the earlier one (each bin holds values up to and including its upper edge)."""
    if is_categorical(label):
        return now, before
    order = float if label.type == "number" else str
    edges = _deciles({order(v): n for v, n in before.items() if v is not None})

    def binned(counts: dict) -> dict:
        bins: collections.Counter = collections.Counter()
        for value, users in counts.items():
            bins[None if value is None else bisect.bisect_left(edges, order(value))] += users
        return bins

    return binned(now), binned(before)


def _deciles(counts: dict) -> list:
    """The distinct values at the 10%, 20%, ... 90% points of a weighted distribution."""
    total, edges, seen = sum(counts.values()), [], 0
    wanted = [total * i / 10 for i in range(1, 10)]
    for value in sorted(counts):
        seen += counts[value]
        while wanted and seen >= wanted[0]:
            wanted.pop(0)
            if not edges or edges[-1] != value:
                edges.append(value)
    return edges
