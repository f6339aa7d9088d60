"""Checks across config items: references, rule types, expressions, ids, cycles, real-time labels.

The same kind checks run three times: at validate time with the kinds known statically
(declared, fixed by the aggregate or by an `expr`'s SQL), before a run writes anything with
the kinds the sources' schemas give (`labelspark.compute.preflight`), and on the computed indicators,
so a mismatch is always reported as a config problem with its YAML location.
"""
from __future__ import annotations

import collections
from typing import Iterable, Mapping

import sqlglot
from sqlglot import exp

from labelspark.errors import Problem
from labelspark.kinds import Kind
from labelspark.rules import BadValue, Node, leaves, resolve
from labelspark.rules.operators import coerce_scalar
from labelspark.warehouse.names import DATE

RESERVED_NAMES = ("run_date", DATE)


def parse_sql_expression(text: str, path: str, problems: list[Problem]) -> set[str] | None:
    """Parses trusted SQL (an `expr` or a `filter`); returns the column names it reads."""
    try:
        trees = sqlglot.parse(text, read="spark")
    except sqlglot.errors.SqlglotError as exc:
        problems.append(Problem(path, f"not a valid SQL expression: {str(exc).splitlines()[0]}"))
        return None
    if len(trees) != 1 or not isinstance(trees[0], exp.Condition):
        problems.append(Problem(path, "must be one SQL expression, not a statement"))
        return None
    return {column.name for column in trees[0].find_all(exp.Column)}


def expression_order(expr_refs: Mapping[str, set[str]], path_of: Mapping[str, str], problems: list[Problem]) -> list[str]:
    """`expr` indicators in an order where each comes after those it reads; reports cycles."""
    order: list[str] = []
    state: dict[str, str] = {}

    def visit(name: str, trail: list[str]) -> None:
        if state.get(name) == "done":
            return
        if state.get(name) == "visiting":
            cycle = " -> ".join(trail[trail.index(name):] + [name])
            problems.append(Problem(path_of[name], f"expressions refer to each other in a cycle: {cycle}"))
            return
        state[name] = "visiting"
        for ref in sorted(expr_refs[name]):
            if ref in expr_refs:
                visit(ref, trail + [name])
        state[name] = "done"
        order.append(name)

    for name in expr_refs:
        visit(name, [])
    return order


def rule_problems(node: Node, kinds: Mapping[str, Kind | None], what: str) -> list[Problem]:
    """Unknown names and operator/value/kind mismatches in one rule tree."""
    problems = []
    for leaf in leaves(node):
        if leaf.ref not in kinds:
            known = ", ".join(sorted(kinds)) or "none"
            problems.append(Problem(leaf.path, f"unknown {what} '{leaf.ref}' (known: {known})"))
            continue
        try:
            resolve(leaf, kinds[leaf.ref])
        except BadValue as exc:
            problems.append(Problem(leaf.path, str(exc)))
    return problems


def fits(label_type: Kind, kind: Kind | None) -> bool:
    """Whether an indicator of `kind` can fill a label of `label_type` (strings take any scalar)."""
    if kind is None or label_type == kind:
        return True
    return label_type == "string" and kind != "list"


def value_problems(values: Iterable, label_type: Kind, path: str) -> list[Problem]:
    """Rule labels' output values must be of the label's type (list labels hold strings)."""
    problems = []
    element_kind = "string" if label_type == "list" else label_type
    for i, value in enumerate(values):
        try:
            coerce_scalar(value, element_kind, text=False)
        except BadValue as exc:
            problems.append(Problem(f"{path}.values[{i}].value", f"label of type {label_type}: {exc}"))
    return problems


def label_kind_problems(labels, label_rules: Mapping[str, tuple[Node, ...]], indicator_kinds: Mapping[str, Kind | None]) -> list[Problem]:
    """Rule and indicator checks of (path, label) pairs against indicator kinds."""
    problems: list[Problem] = []
    for path, label in labels:
        for tree in label_rules.get(label.id, ()):
            problems += rule_problems(tree, indicator_kinds, "indicator")
        wanted = label.wanted_kind
        if wanted is None:  # no single indicator: a rules label (checked above) or an import
            continue
        indicator = label.indicator
        if indicator not in indicator_kinds:
            problems.append(Problem(f"{path}.indicator", f"unknown indicator '{indicator}'"))
            continue
        kind = indicator_kinds[indicator]
        if not fits(wanted, kind):
            problems.append(Problem(f"{path}.indicator", f"indicator '{indicator}' is {kind}, the label needs {wanted}"))
    return problems


STREAM_FORMATS = ("delta", "parquet", "csv", "json")
# methods whose values no entity's new rows can update, and why
_NOT_REALTIME = {
    "distribution": "its tiers are quantiles of the whole population, which only the nightly run over every entity computes",
    "import": "its values come from a file (`path`), not from source rows",
}


def stream_problems(name: str, source) -> list[Problem]:
    """A `stream: true` source must be one Structured Streaming reads new rows of: a Delta table or a folder of files."""
    if not source.stream or source.format in STREAM_FORMATS:
        return []
    return [Problem(f"sources.{name}.stream", f"a {source.format} source cannot be streamed: `stream: true` reads the new rows "
                    "of a Delta table or of a folder of parquet, csv or json files (`path`)")]


def indicators_read(direct: Iterable[str], expression_inputs: Mapping[str, Iterable[str]]) -> list[str]:
    """`direct`, then every indicator the `expr` indicators among them read, transitively, each once."""
    found: dict[str, None] = {}
    pending = collections.deque(direct)
    while pending:
        name = pending.popleft()
        if name not in found:
            found[name] = None
            pending.extend(sorted(expression_inputs.get(name, ())))
    return list(found)


def label_sources(label, trees: tuple[Node, ...] | None, indicators: Mapping, expression_inputs: Mapping[str, Iterable[str]],
                  sources: Mapping) -> list[str] | None:
    """The sources (in config order) of the indicators `label` reads, through `expr` indicators; `trees`
    are its parsed rules. None where a rule, indicator or source on the way has problems of its own."""
    if label.rules and trees is None:
        return None
    read = set()
    for name in indicators_read(label.direct_inputs(trees or ()), expression_inputs):
        indicator = indicators.get(name)
        if indicator is None or (indicator.expr is not None and name not in expression_inputs):
            return None
        if indicator.source is not None and indicator.source not in sources:
            return None
        read.add(indicator.source)
    return [name for name in sources if name in read]


def realtime_problems(path: str, label, sources_read: list[str] | None, streamed: Iterable[str]) -> list[Problem]:
    """Why a `realtime: true` label cannot follow new rows. `sources_read`: as `label_sources` gives them."""
    where = f"{path}.realtime"
    if label.method in _NOT_REALTIME:
        return [Problem(where, f"label '{label.id}' cannot be real-time: {_NOT_REALTIME[label.method]}")]
    problems = []
    schedule = label.due_schedule
    if schedule.kind != "daily":
        problems.append(Problem(where, f"label '{label.id}' cannot be real-time on `schedule: {schedule}`: between due days "
                                "it keeps its last due day's value, which new rows must not change (a real-time label is daily)"))
    if sources_read is not None and not set(sources_read) & set(streamed):
        read = f"none of the sources it reads ({', '.join(sources_read)}) has `stream: true`" if sources_read else "its indicators read no source"
        problems.append(Problem(where, f"label '{label.id}' cannot be real-time: {read}, so no new row can change it"))
    return problems
