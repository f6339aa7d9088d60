"""Which labels are due on a date, and the source passes that compute them. No Spark here."""
from __future__ import annotations

import calendar
import datetime as dt
from dataclasses import dataclass, field

from labelspark.config import Project
from labelspark.config.labels import WEEKDAYS


def is_due(schedule: str, day: dt.date, computed_before: bool) -> bool:
    """daily; weekly:XXX on that weekday; monthly:N on day N (or the month's last day); once if never computed."""
    if not computed_before:
        return True
    if schedule == "daily":
        return True
    if schedule == "once":
        return False
    kind, _, arg = schedule.partition(":")
    if kind == "weekly":
        return WEEKDAYS[day.weekday()] == arg
    last_day = calendar.monthrange(day.year, day.month)[1]
    return day.day == min(int(arg), last_day)


@dataclass
class SourcePass:
    source: str
    indicators: list[str] = field(default_factory=list)
    labels: list[str] = field(default_factory=list)


@dataclass
class Plan:
    run_date: dt.date
    due: list  # label models computed on this date
    carried: list  # enabled labels not due: kept from the previous snapshot
    passes: list[SourcePass]
    cross_source: list[str]  # labels reading indicators of several sources
    imports: list[str]
    indicators: set[str]


def needed_indicators(project: Project, names: set[str]) -> set[str]:
    """`names` plus every indicator their expressions read, transitively."""
    needed, todo = set(), list(names)
    while todo:
        name = todo.pop()
        if name not in needed:
            needed.add(name)
            todo.extend(project.expression_inputs.get(name, ()))
    return needed


def label_inputs(project: Project, label) -> set[str]:
    """The indicators a label reads, directly or through `expr` indicators."""
    return needed_indicators(project, set(label.direct_inputs(project.label_rules.get(label.id, ()))))


def indicators_by_source(project: Project, indicators: set[str]) -> dict[str, list[str]]:
    """The source indicators among `indicators`, by the source whose one pass computes them
    (`expr` indicators are computed after the passes are joined)."""
    grouped: dict[str, list[str]] = {}
    for name, indicator in project.indicators.items():  # in config order
        if name in indicators and indicator.source:
            grouped.setdefault(indicator.source, []).append(name)
    return grouped


def make_plan(project: Project, day: dt.date, computed: set[str] | None = None, only: list[str] | None = None) -> Plan:
    """`computed`: labels that have values in the snapshot already (None: all, for `plan` without a warehouse).

    `only` forces those labels and carries every other one over.
    """
    due, carried = [], []
    for label in project.enabled_labels:
        before = computed is None or label.id in computed
        wanted = label.id in only if only else is_due(label.schedule, day, before)
        (due if wanted else carried).append(label)
    passes = {name: SourcePass(name) for name in project.sources}
    cross, imports, indicators = [], [], set()
    for label in due:
        if label.imported:
            imports.append(label.id)
            continue
        inputs = label_inputs(project, label)
        indicators |= inputs
        sources = {project.indicators[name].source for name in inputs if project.indicators[name].source}
        if len(sources) == 1:
            passes[sources.pop()].labels.append(label.id)
        else:
            cross.append(label.id)
    for source, names in indicators_by_source(project, indicators).items():
        passes[source].indicators.extend(sorted(names))
    id_map = project.entity.id_map.source if project.entity.id_map else None
    ordered = [p for name, p in passes.items() if name != id_map]
    return Plan(day, due, carried, ordered, cross, imports, indicators)
