"""`stats` and `history`: answers read straight from the Delta tables with delta-rs, no Spark.

History is scanned batch by batch (counts per date and value), so memory stays flat
however many versions the table holds.
"""
from __future__ import annotations

import collections
import csv
import datetime as dt
import logging
from pathlib import Path

from labelspark.config import Project
from labelspark.errors import NoResults, UnknownReference
from labelspark.warehouse.deltars import existing_table, read_rows, scan_rows, sql_literal
from labelspark.warehouse.names import DATE, HISTORY_TABLE, SNAPSHOT_TABLE, STATS_TABLE, UPDATES_TABLE, table_path

log = logging.getLogger(__name__)
STATS_COLUMNS = ["rank", "value", "users", "proportion"]
HISTORY_COLUMNS = [DATE, "value", "users", "proportion", "entered", "left"]
INTRADAY_COLUMNS = [DATE, "value", "entered", "left"]
CHART_TYPES = ("bar", "column", "donut")


def pick_date(day: dt.date | None, dates: list[dt.date], table: str = SNAPSHOT_TABLE) -> dt.date:
    """`day`, which must be one of `dates` (sorted); default the latest. A date the table does not
    hold is an argument error (exit 2) naming the nearest one: every command looks dates up here."""
    if not dates:
        raise UnknownReference(f"no {table} yet: run `labelspark run` first")
    if day is None:
        return dates[-1]
    if day not in dates:
        nearest = min(dates, key=lambda known: (abs((known - day).days), known))
        raise UnknownReference(f"no {table} for {day} (nearest: {nearest}; dates: {_listed(dates)})")
    return day


def _listed(dates: list[dt.date]) -> str:
    return ", ".join(map(str, dates)) if len(dates) <= 6 else f"{dates[0]} .. {dates[-1]}, {len(dates)} dates"


def stats_rows(project: Project, label_id: str, day: dt.date | None = None, top: int | None = None) -> tuple[dt.date, list[dict]]:
    """The value distribution of a label on `day` (default: the latest date with stats), by rank."""
    project.label(label_id)  # an unknown id is an UnknownReference with the closest known one
    table = read_rows(table_path(project.warehouse, STATS_TABLE), where=f"label_id = {sql_literal(label_id)}")
    if table.num_rows == 0:
        raise NoResults(f"no stats for label '{label_id}' yet")
    day = pick_date(day, sorted(set(table.column(DATE).to_pylist())), f"{STATS_TABLE} of label '{label_id}'")
    rows = [row for row in table.to_pylist() if row[DATE] == day]
    rows.sort(key=lambda row: row["rank"])
    return day, rows[:top] if top else rows


def history_rows(project: Project, label_id: str, value: str | None = None, start: dt.date | None = None, end: dt.date | None = None) -> list[dict]:
    """Per date and value: users and proportion (from label_stats), versions entered and left (label_history)."""
    label = project.label(label_id)
    conditions = [f"label_id = {sql_literal(label_id)}"]
    if start:
        conditions.append(f"{DATE} >= {sql_literal(start)}")
    if end:
        conditions.append(f"{DATE} <= {sql_literal(end)}")
    stats = read_rows(table_path(project.warehouse, STATS_TABLE), where=" AND ".join(conditions)).to_pylist()
    if value is not None:
        known = sorted({row["value"] for row in stats if row["value"] is not None})
        stats = [row for row in stats if row["value"] == value]
        if not stats and known:
            raise UnknownReference(f"label '{label_id}' never had the value {value!r} in this range (values: {', '.join(known)})")
    entered, left = _changes(project, label_id) if history_matches_stats(label) else ({}, {})
    rows = [
        {
            DATE: row[DATE],
            "value": row["value"],
            "users": row["users"],
            "proportion": row["proportion"],
            "entered": entered.get((row[DATE], row["value"]), 0) if entered or left else None,
            "left": left.get((row[DATE], row["value"]), 0) if entered or left else None,
        }
        for row in stats
    ]
    if not rows:
        raise NoResults(f"no history for label '{label_id}'" + (f" with value {value!r}" if value is not None else ""))
    rows.sort(key=lambda row: (row[DATE], -row["users"], row["value"] is None, row["value"] or ""))
    return rows


def intraday_rows(project: Project, label_id: str, value: str | None = None, start: dt.date | None = None,
                  end: dt.date | None = None) -> list[dict]:
    """Per date and value, the real-time stream's changes (label_updates): into the value, out of it."""
    project.label(label_id)
    conditions = [f"label_id = {sql_literal(label_id)}"]
    conditions += [f"{DATE} >= {sql_literal(start)}"] if start else []
    conditions += [f"{DATE} <= {sql_literal(end)}"] if end else []
    path = table_path(project.warehouse, UPDATES_TABLE)
    if existing_table(path) is None:
        raise NoResults(f"no {UPDATES_TABLE} yet: `labelspark stream` writes it")
    counts: dict[tuple, collections.Counter] = collections.defaultdict(collections.Counter)
    for row in read_rows(path, [DATE, "value", "previous_value"], " AND ".join(conditions)).to_pylist():
        counts[(row[DATE], row["value"])]["entered"] += 1
        counts[(row[DATE], row["previous_value"])]["left"] += 1
    rows = [{DATE: day, "value": shown, "entered": n["entered"], "left": n["left"]} for (day, shown), n in counts.items()
            if value is None or shown == value]
    if not rows:
        raise NoResults(f"no intraday changes of label '{label_id}'" + (f" to or from {value!r}" if value is not None else ""))
    rows.sort(key=lambda row: (row[DATE], row["value"] is None, row["value"] or ""))
    return rows


def history_matches_stats(label) -> bool:
    """History holds whole values; stats split lists into elements and numbers into buckets."""
    return label.type != "list" and not label.bucketed


def _changes(project: Project, label_id: str) -> tuple[dict, dict]:
    """Versions opened and closed per (date, value), counted batch by batch."""
    entered: collections.Counter = collections.Counter()
    left: collections.Counter = collections.Counter()
    try:
        history = scan_rows(table_path(project.warehouse, HISTORY_TABLE), ["value", "valid_from", "valid_to"],
                            where=f"label_id = {sql_literal(label_id)}")
    except NoResults:
        return {}, {}
    for batch in history:
        for column, counter in (("valid_from", entered), ("valid_to", left)):
            counts = batch.select([column, "value"]).to_pandas().value_counts(dropna=True)
            for (day, value), n in counts.items():
                counter[(day, value)] += int(n)
    return dict(entered), dict(left)


def write_csv(rows: list[dict], path: Path, columns: list[str]) -> None:
    with open(path, "w", newline="", encoding="utf-8") as out:
        writer = csv.DictWriter(out, fieldnames=columns, extrasaction="ignore")
        writer.writeheader()
        writer.writerows(rows)


def draw_chart(rows: list[dict], path: Path, kind: str, title: str, list_label: bool = False) -> None:
    """A bar (horizontal), column (vertical) or donut chart of users per value, as PNG.

    Donut slices are the table's proportions (shares of all entities), with what the rows leave
    out (--top) as a slice of its own. A list label's entities hold several values, so its shares
    are no parts of one whole: it is drawn as bars (each the share of all entities).
    """
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    labels = ["(null)" if row["value"] is None else str(row["value"]) for row in rows]
    users = [row["users"] for row in rows]
    shares = [row["proportion"] for row in rows]
    if kind == "donut" and list_label:
        log.warning("%s: an entity holds several values of a list label, so its shares add up to more than 100%%: "
                    "drawn as bars, not a donut", title)
        kind = "bar"
    figure, axes = plt.subplots(figsize=(8, max(3.0, 0.4 * len(rows) + 1.5)) if kind == "bar" else (8, 5))
    if kind == "bar":
        axes.barh(labels[::-1], users[::-1], color="#4C72B0")
        axes.set_xlabel("users")
    elif kind == "column":
        axes.bar(labels, users, color="#4C72B0")
        axes.set_ylabel("users")
        axes.tick_params(axis="x", labelrotation=30)
    else:
        if sum(shares) < 1 - 1e-9:
            labels, shares = [*labels, "(other values)"], [*shares, 1 - sum(shares)]
        slice_labels = [f"{label}\n{share:.1%}" for label, share in zip(labels, shares)]
        axes.pie(shares, labels=slice_labels, startangle=90, counterclock=False, wedgeprops={"width": 0.4})
        axes.axis("equal")
    axes.set_title(title)
    figure.tight_layout()
    figure.savefig(path, dpi=120)
    plt.close(figure)


def print_table(rows: list[dict], columns: list[str], title: str) -> None:
    from rich.console import Console
    from rich.table import Table

    table = Table(title=title)
    for column in columns:
        table.add_column(column, justify="right" if column in ("rank", "users", "proportion", "entered", "left") else "left")
    for row in rows:
        table.add_row(*(_cell(column, row.get(column)) for column in columns))
    Console().print(table)


def _cell(column: str, value) -> str:
    if value is None:
        return "(null)" if column == "value" else "-"
    if column == "proportion":
        return f"{value:.2%}"
    if column in ("users", "entered", "left"):
        return f"{value:,}"
    return str(value)
