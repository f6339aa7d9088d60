"""Which labels are due on a date, and the source passes that compute them. No Spark here."""
from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import Iterable

from labelspark.config import Project
from labelspark.config.checks import indicators_read
from labelspark.rules import leaves
from labelspark.timeutil import parse_days

_RUN_DATE_OPERATORS = ("within_last", "before", "after")


@dataclass
class SourcePass:
    source: str
    full_pass_because: str | None = None  # None: its indicators merge from tiles
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


def _with_expression_inputs(project: Project, names: Iterable[str]) -> list[str]:
    """`names` in order, then every indicator their `expr` indicators read, transitively
    (breadth first, each expression's inputs sorted), each once."""
    return indicators_read(names, project.expression_inputs)


def needed_indicators(project: Project, names: set[str]) -> set[str]:
    """`names` plus every indicator their expressions read, transitively."""
    return set(_with_expression_inputs(project, names))


def label_inputs(project: Project, label) -> list[str]:
    """The indicators a label reads: its own in order, then those the `expr` indicators among them
    read (the plan's passes and preflight take them as a set, the label portal lists them)."""
    return _with_expression_inputs(project, label.direct_inputs(project.label_rules.get(label.id, ())))


def indicators_by_source(project: Project, indicators: set[str]) -> dict[str, list[str]]:
    """The source indicators among `indicators`, by the source whose one pass computes them
    (`expr` indicators are computed after the passes are joined)."""
    grouped: dict[str, list[str]] = {}
    for name, indicator in project.indicators.items():  # in config order
        if name in indicators and indicator.source:
            grouped.setdefault(indicator.source, []).append(name)
    return grouped


def make_plan(project: Project, day: dt.date, *, computed: set[str] | None = None, only: list[str] | None = None) -> Plan:
    """`computed`: labels that have values in the snapshot already (None: all, for `plan` without a warehouse).

    `only` forces those labels and carries every other one over.
    """
    due, carried = [], []
    for label in project.enabled_labels:
        before = computed is None or label.id in computed
        wanted = label.id in only if only else label.due_schedule.due(day, computed_before=before)
        (due if wanted else carried).append(label)
    passes = {name: SourcePass(name, why_full_pass(project, name)) for name in project.sources}
    cross, imports, indicators = [], [], set()
    for label in due:
        if label.imported:
            imports.append(label.id)
            continue
        inputs = label_inputs(project, label)
        indicators.update(inputs)
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


def why_full_pass(project: Project, source_name: str) -> str | None:
    """Why the source's indicators need every row each day (None: they merge from tiles)."""
    source = project.sources[source_name]
    if not source.incremental:
        return "`incremental` is off (the default; tiles pay for sources with many rows per entity and day)"
    if source.time is None:
        return "no `time` column: rows have no day to be tiled by"
    if source.clean.dedupe is not None:
        return "`dedupe` keeps one row out of all days: a later row can replace an earlier day's"
    if project.entity.id_map is not None:
        return "`entity.id_map` can map a source id to another entity any day"
    for name, indicator in project.indicators.items():
        rule = project.where_rules.get(name)
        if indicator.source == source_name and rule is not None and _reads_run_date(rule):
            return f"indicator {name}'s `where` is relative to the run date"
    return None


def _reads_run_date(rule) -> bool:
    return any(leaf.op == "within_last" or (leaf.op in _RUN_DATE_OPERATORS and _as_days(leaf.value)) for leaf in leaves(rule))


def _as_days(value: object) -> bool:
    return isinstance(value, int) or parse_days(value) is not None
