"""The portal's pages: Jinja2 templates filled with the config's definitions and the tables' figures.

Each page carries its figures as JSON inside the page (a `<script type="application/json">`
block, escaped by Jinja2's `tojson`), so the site works opened from disk (`file://`, where
browsers refuse to fetch files) as well as from any static host.
"""
from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from jinja2 import Environment, PackageLoader, StrictUndefined, select_autoescape

from labelspark.config import Project
from labelspark.warehouse.names import DATE
from labelspark.warehouse.readers import HISTORY_COLUMNS, STATS_COLUMNS
from labelspark.site.describe import condition, describe_label, schedule_text
from labelspark.site.portal_data import TOP_VALUES, LabelFigures, Warehouse

UNGROUPED = "(no group)"


@dataclass(frozen=True)
class Page:
    path: str  # relative to the site's root, "/"-separated
    html: str


def render_pages(project: Project, warehouse: Warehouse, built_at: dt.datetime) -> list[Page]:
    environment = _environment()
    common = {"project": project, "warehouse": warehouse, "built_at": built_at.strftime("%Y-%m-%d %H:%M UTC"),
              "top_values": TOP_VALUES}

    def render(template: str, path: str, **context) -> Page:
        root = "../" * path.count("/")
        return Page(path, environment.get_template(template).render(**common, root=root, page=path, **context))

    pages = [
        render("index.html", "index.html", groups=_group_tree(project), data=_index_data(project, warehouse)),
        render("segments.html", "segments.html", segments=_segments(project), data=_segments_data(project, warehouse)),
        render("runs.html", "runs.html", data=_runs_data(warehouse)),
    ]
    for label in project.labels:
        figures = warehouse.labels[label.id]
        pages.append(render(
            "label.html", f"labels/{label.id}.html", info=describe_label(project, label),
            since=warehouse.definition_since.get(label.id), data=_label_data(label, figures, warehouse),
            has_stats=bool(figures.ranked),
        ))
    return pages


def _environment() -> Environment:
    environment = Environment(
        loader=PackageLoader("labelspark.site", "templates"),
        autoescape=select_autoescape(default=True),
        undefined=StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
    )
    environment.filters["schedule"] = schedule_text
    environment.policies["json.dumps_kwargs"] = {"separators": (",", ":"), "ensure_ascii": False}
    return environment


def _group_tree(project: Project) -> dict[str, dict[str, list]]:
    """First level -> second level ("" for labels directly in the first) -> labels, in config order."""
    tree: dict[str, dict[str, list]] = {}
    for label in project.labels:
        first, _, second = (label.group or UNGROUPED).partition("/")
        tree.setdefault(first.strip(), {}).setdefault(second.strip(), []).append(label)
    return tree


def _index_data(project: Project, warehouse: Warehouse) -> dict:
    """Per label: what the tree shows and searches, and the coverage on the latest date."""
    day = warehouse.day
    labels = []
    for label in project.labels:
        figures = warehouse.labels[label.id]
        has_stats = day in figures.ranked
        labels.append({
            "id": label.id, "name": label.name or label.id, "group": label.group or "", "type": label.type,
            "method": label.method, "schedule": label.schedule, "status": label.status,
            "coverage": 1 - figures.nulls.get(day, 0) / warehouse.entities[day] if has_stats else None,
        })
    return {"day": day.isoformat(), "entities": warehouse.entities[day], "labels": labels}


def _label_data(label, figures: LabelFigures, warehouse: Warehouse) -> dict:
    """One label's figures per date, columnar and with values by index, to keep pages small:
    `ranked[d]` are value indexes by rank, `users[d]` their users (rank = position + 1)."""
    values: dict = {}
    ranked, users, entered, left = [], [], [], []
    for day in warehouse.dates:
        rows = figures.ranked.get(day, [])
        ranked.append([values.setdefault(value, len(values)) for value, _ in rows])
        users.append([count for _, count in rows])
        if figures.changes is not None:
            changes = [figures.changes.get((day, value), (0, 0)) for value, _ in rows]
            entered.append([change[0] for change in changes])
            left.append([change[1] for change in changes])
    return {
        "id": label.id,
        "list": label.type == "list",
        "dates": [day.isoformat() for day in warehouse.dates],
        "entities": [warehouse.entities[day] for day in warehouse.dates],
        "distinct": [figures.distinct.get(day, 0) for day in warehouse.dates],
        "values": list(values),
        "ranked": ranked,
        "users": users,
        "entered": entered if figures.changes is not None else None,
        "left": left if figures.changes is not None else None,
        "statsColumns": ["label_id", DATE, *STATS_COLUMNS],
        "historyColumns": HISTORY_COLUMNS,
    }


def _segments(project: Project) -> list[tuple]:
    """(segment, its rule as conditions) in config order."""
    kinds = {label.id: label.type for label in project.labels}
    return [(segment, condition(project.segment_rules[segment.id], kinds)) for segment in project.segments]


def _segments_data(project: Project, warehouse: Warehouse) -> dict:
    return {
        "dates": [day.isoformat() for day in warehouse.dates],
        "entities": [warehouse.entities[day] for day in warehouse.dates],
        "members": {
            segment.id: [warehouse.segment_sizes.get(segment.id, {}).get(day, 0) for day in warehouse.dates]
            for segment in project.segments
        },
    }


def _runs_data(warehouse: Warehouse) -> dict:
    rows = []
    for run in warehouse.runs:
        started, finished = run["started_at"], run["finished_at"]
        rows.append({
            "run_id": run["run_id"],
            DATE: run[DATE].isoformat() if run[DATE] else None,
            "status": run["status"],
            "labels": len(run["labels"] or []),
            "rows": run["rows"],
            "started_at": _moment(started),
            "finished_at": _moment(finished),
            "duration_s": round((finished - started).total_seconds(), 1) if started and finished else None,
            "index": run["index"],
            "error": run["error"],
            "details": run.get("details"),
        })
    return {"runs": rows}


def _moment(value: dt.datetime | None) -> str | None:
    return value.astimezone(dt.timezone.utc).strftime("%Y-%m-%d %H:%M:%S") if value else None
