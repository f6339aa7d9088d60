"""Golden rule errors from tests/fixtures/rule_errors.txt, one test case per block.

Each rule is parsed, then checked against its fields' kinds the way `validate` does
(`rule_problems`, which calls `resolve` on every leaf); it must give exactly one problem,
located at a leaf of the rule, whose message holds the expected text.
"""
from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest
import yaml

from labelspark.config.checks import rule_problems
from labelspark.rules import BadValue, Leaf, RuleParser, resolve

pytestmark = pytest.mark.portable

FIXTURE = Path(__file__).parent / "fixtures" / "rule_errors.txt"


def load_cases(path: Path) -> list:
    """Blocks of `rule`, `; kinds`, `; message` lines; ids are the rules' line numbers."""
    cases, block = [], []
    lines = path.read_text(encoding="utf-8").splitlines() + [""]
    for number, line in enumerate(lines, start=1):
        if line.startswith("#"):
            continue
        if line.strip():
            block.append((number, line))
            continue
        if not block:
            continue
        if len(block) != 3 or not all(text.startswith("; ") for _, text in block[1:]):
            raise ValueError(f"{path.name}:{block[0][0]}: a case is three lines: rule, '; kinds', '; message'")
        (start, rule), (_, kinds), (_, message) = block
        cases.append(pytest.param(rule, kinds[2:], message[2:], id=f"line{start}"))
        block = []
    return cases


@pytest.mark.parametrize("rule, kinds, message", load_cases(FIXTURE))
def test_rule_error(rule, kinds, message):
    parser = RuleParser()
    tree = parser.parse(yaml.safe_load(rule), "when")
    assert parser.problems == []
    found = rule_problems(tree, yaml.safe_load(kinds), "field")
    assert len(found) == 1, found
    assert found[0].path.startswith("when")
    assert message in found[0].message


def test_fixture_has_cases():
    assert len(load_cases(FIXTURE)) >= 60


def test_every_problem_of_a_tree_is_reported_at_its_leaf():
    raw = {"all": [{"field": "age", "op": "gte", "value": "18"}, {"any": [{"field": "x", "op": "eq", "value": 1}, {"field": "city", "op": "contains", "value": 5}]}]}
    tree = RuleParser().parse(raw, "labels[0].values[1].when")
    found = rule_problems(tree, {"age": "number", "city": "string"}, "field")
    assert [p.path for p in found] == [
        "labels[0].values[1].when.all[0]",
        "labels[0].values[1].when.all[1].any[0]",
        "labels[0].values[1].when.all[1].any[1]",
    ]
    assert "unknown field 'x' (known: age, city)" in found[1].message


def test_segments_name_labels():
    tree = RuleParser(ref_key="label").parse({"label": "gone", "op": "is_null"}, "segments[0].when")
    [problem] = rule_problems(tree, {}, "enabled label")
    assert problem.message == "unknown enabled label 'gone' (known: none)"


@pytest.mark.parametrize(
    "leaf, kind, value",
    [
        (Leaf("age", "gte", 18), "number", 18),
        (Leaf("age", "gte", "18", from_text=True), "number", 18),
        (Leaf("age", "eq", "18.5", from_text=True), "number", 18.5),
        (Leaf("age", "between", "18, 60", from_text=True), "number", (18, 60)),
        (Leaf("city", "in", "gold, silver", from_text=True), "string", ["gold", "silver"]),
        (Leaf("city", "in", "", from_text=True), "string", []),
        (Leaf("city", "eq", 18, from_text=True), "string", "18"),
        (Leaf("vip", "eq", "TRUE", from_text=True), "boolean", True),
        (Leaf("tags", "has_any", "a, b", from_text=True), "list", ["a", "b"]),
        (Leaf("d", "eq", "2026-03-01"), "date", dt.date(2026, 3, 1)),
        (Leaf("d", "within_last", "30d"), "date", 30),
        (Leaf("d", "within_last", 7), "date", 7),
        (Leaf("d", "before", "30d"), "date", 30),
        (Leaf("d", "after", "2026-01-01"), "date", dt.date(2026, 1, 1)),
        (Leaf("email", "is_null", ""), "string", None),
        (Leaf("amount", "in", [5, "x"]), None, [5, "x"]),
    ],
)
def test_resolve_accepts(leaf, kind, value):
    assert resolve(leaf, kind) == value


def test_resolve_raises_bad_value():
    with pytest.raises(BadValue, match="unknown operator 'like'"):
        resolve(Leaf("age", "like", 1), "number")
