"""Label and segment definitions in words for business users: schedules, methods, rule trees
as indented conditions, indicators as sentences."""
from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

from labelspark.compute.plan import label_inputs
from labelspark.config import Project
from labelspark.config.models import Indicator
from labelspark.config.schedule import Schedule
from labelspark.rules import AllOf, BadValue, Leaf, Node, Not, resolve

AGGREGATES = {"count": "number of rows", "count_distinct": "number of distinct", "sum": "sum of", "avg": "average of",
              "min": "smallest", "max": "largest", "first": "first", "last": "last", "mode": "most frequent",
              "collect_set": "distinct values of"}
# how each operator reads; {field} and {value} are filled in, `between` takes {low} and {high}
PHRASES = {
    "eq": "{field} = {value}", "ne": "{field} ≠ {value}", "lt": "{field} < {value}", "lte": "{field} ≤ {value}",
    "gt": "{field} > {value}", "gte": "{field} ≥ {value}", "between": "{field} between {low} and {high}",
    "in": "{field} is one of {value}", "not_in": "{field} is none of {value}", "is_null": "{field} is empty",
    "not_null": "{field} has a value", "contains": "{field} contains {value}", "starts_with": "{field} starts with {value}",
    "ends_with": "{field} ends with {value}", "matches": "{field} matches the pattern {value}",
    "has_any": "{field} has any of {value}", "has_all": "{field} has all of {value}",
    "within_last": "{field} is within the last {value} days", "before": "{field} is before {value}",
    "after": "{field} is after {value}",
}


@dataclass(frozen=True)
class Condition:
    """One line of a rule tree: a group heading ("all of") with children, or a leaf condition."""

    text: str
    children: tuple["Condition", ...] = ()


@dataclass(frozen=True)
class ValueRule:
    value: Any
    when: Condition


@dataclass(frozen=True)
class LabelInfo:
    """What the label page says about a label's definition."""

    label: Any
    method: str
    schedule: str
    dynamic: bool
    values: tuple[ValueRule, ...] = ()  # rules labels: each value and when it applies
    facts: tuple[tuple[str, str], ...] = ()  # other methods: (what, how) lines
    indicators: tuple[tuple[str, str], ...] = ()  # (name, description) of the indicators read


def schedule_text(schedule: str) -> str:
    """A config's schedule in words (the templates' `schedule` filter)."""
    return Schedule.parse(schedule).describe()


def describe_label(project: Project, label) -> LabelInfo:
    """A label's method, schedule and definition; static labels are computed once, others on their schedule."""
    trees = project.label_rules.get(label.id, ())
    values = tuple(ValueRule(rule.value, condition(tree, indicator_kinds(project))) for rule, tree in zip(label.rules, trees))
    return LabelInfo(
        label=label, method=label.display_name, schedule=label.due_schedule.describe(),
        dynamic=label.due_schedule.dynamic, values=values, facts=tuple(label.described()),
        indicators=tuple((name, describe_indicator(project, name)) for name in label_inputs(project, label)),
    )


def condition(node: Node, kinds: dict[str, str | None]) -> Condition:
    """A rule tree as nested conditions: groups become headings over their children.
    `kinds` gives each field's kind, so query-builder text ("1000,100000") reads as numbers."""
    if isinstance(node, Leaf):
        return Condition(leaf_text(node, kinds.get(node.ref)))
    if isinstance(node, Not):
        return Condition("not:", (condition(node.rule, kinds),))
    heading = "all of:" if isinstance(node, AllOf) else "any of:"
    return Condition(heading, tuple(condition(child, kinds) for child in node.rules))


def leaf_text(leaf: Leaf, kind: str | None) -> str:
    try:
        value = resolve(leaf, kind)
    except BadValue:  # checked when the config was loaded; a kind learnt from data can differ
        value = leaf.value
    phrase = PHRASES.get(leaf.op, "{field} " + leaf.op + " {value}")
    if leaf.op == "between" and isinstance(value, (list, tuple)) and len(value) == 2:
        return phrase.format(field=leaf.ref, low=_literal(value[0]), high=_literal(value[1]))
    if leaf.op in ("before", "after") and isinstance(value, int):
        return phrase.format(field=leaf.ref, value=f"the run date − {value} days")
    return phrase.format(field=leaf.ref, value=_literal(value))


def indicator_kinds(project: Project) -> dict[str, str | None]:
    """Kinds known from the config (declared or implied by the aggregate); None where data decides."""
    return {name: indicator.static_kind for name, indicator in project.indicators.items()}


def describe_indicator(project: Project, name: str) -> str:
    indicator: Indicator | None = project.indicators.get(name)
    if indicator is None:
        return "(not defined)"
    if indicator.expr is not None:
        return f"computed as {indicator.expr}"
    if indicator.column is not None:
        text = f"{indicator.column} of the latest row in {indicator.source}"
    elif indicator.agg == "count":
        text = f"number of rows in {indicator.source}"
    else:
        text = f"{AGGREGATES[indicator.agg]} {indicator.of} in {indicator.source}"
    if indicator.window_days:
        text += f" over the last {indicator.window_days} days"
    where = project.where_rules.get(name)
    if where is not None:
        text += f", counting rows where {_inline(where)}"
    return text


def _inline(node: Node) -> str:
    """A small rule on one line (an indicator's `where`)."""
    if isinstance(node, Leaf):
        return leaf_text(node, None)
    if isinstance(node, Not):
        return f"not ({_inline(node.rule)})"
    joiner = " and " if isinstance(node, AllOf) else " or "
    return "(" + joiner.join(_inline(child) for child in node.rules) + ")"


def _literal(value: Any) -> str:
    if isinstance(value, (list, tuple)):
        return ", ".join(_literal(item) for item in value) if value else "(nothing)"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, str):
        return f"“{value}”"
    if isinstance(value, float):
        return _number(value)
    if isinstance(value, dt.date):
        return value.isoformat()
    return str(value)


def _number(value: float) -> str:
    return f"{value:g}" if isinstance(value, float) else str(value)
