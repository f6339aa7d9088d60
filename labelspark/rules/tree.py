"""The rule tree and its two input forms: the YAML form and query-builder JSON.

YAML form: leaf `{field: x, op: gte, value: 18}` (segments: `{label: x, ...}`), groups
`{all: [...]}`, `{any: [...]}`, `{not: rule}`. Query-builder form (react-querybuilder and
kin): `{"combinator": "and", "not": false, "rules": [{"field", "operator", "value"}]}`.
Parsing collects every problem with its path instead of stopping at the first.
"""
from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any, Union

from labelspark.errors import Problem


@dataclass(frozen=True)
class Leaf:
    ref: str
    op: str
    value: Any = None
    path: str = ""
    # Query-builder UIs send every value as text; such values are parsed to the field's kind.
    from_text: bool = False


@dataclass(frozen=True)
class AllOf:
    rules: tuple["Node", ...]
    path: str = ""


@dataclass(frozen=True)
class AnyOf:
    rules: tuple["Node", ...]
    path: str = ""


@dataclass(frozen=True)
class Not:
    rule: "Node"
    path: str = ""


Node = Union[Leaf, AllOf, AnyOf, Not]

# query-builder operator -> (our operator, negated)
QUERY_BUILDER_OPERATORS: dict[str, tuple[str, bool]] = {
    "=": ("eq", False),
    "!=": ("ne", False),
    "<": ("lt", False),
    "<=": ("lte", False),
    ">": ("gt", False),
    ">=": ("gte", False),
    "between": ("between", False),
    "notBetween": ("between", True),
    "in": ("in", False),
    "notIn": ("not_in", False),
    "null": ("is_null", False),
    "notNull": ("not_null", False),
    "contains": ("contains", False),
    "doesNotContain": ("contains", True),
    "beginsWith": ("starts_with", False),
    "doesNotBeginWith": ("starts_with", True),
    "endsWith": ("ends_with", False),
    "doesNotEndWith": ("ends_with", True),
}


@dataclass
class RuleParser:
    """Parses one rule tree; `ref_key` is `field` for labels and `where`, `label` for segments."""

    ref_key: str = "field"
    problems: list[Problem] = field(default_factory=list)
    max_depth: int = 64  # a YAML alias can make a rule contain itself
    _depth: int = 0

    def parse(self, raw: Any, path: str) -> Node | None:
        if self._depth >= self.max_depth:
            return self._fail(path, f"a rule nests more than {self.max_depth} levels deep (or contains itself)")
        self._depth += 1
        try:
            return self._parse(raw, path)
        finally:
            self._depth -= 1

    def _parse(self, raw: Any, path: str) -> Node | None:
        if isinstance(raw, str):
            try:
                raw = json.loads(raw)
            except json.JSONDecodeError as exc:
                return self._fail(path, f"a rule given as text must be query-builder JSON: {exc}")
        if not isinstance(raw, dict):
            return self._fail(path, f"a rule must be a mapping, got {_describe(raw)}")
        if "combinator" in raw or "rules" in raw:
            return self._parse_query_builder(raw, path)
        groups = [k for k in ("all", "any", "not") if k in raw]
        if groups:
            if len(raw) != 1:
                return self._fail(path, f"a group has exactly one key ({'/'.join(groups)}), got {sorted(map(str, raw))}")
            return self._parse_group(groups[0], raw[groups[0]], f"{path}.{groups[0]}")
        return self._parse_leaf(raw, path)

    def _parse_group(self, kind: str, body: Any, path: str) -> Node | None:
        if kind == "not":
            child = self.parse(body, path)
            return Not(child, path) if child is not None else None
        if not isinstance(body, list) or not body:
            return self._fail(path, f"`{kind}` takes a non-empty list of rules")
        children = [self.parse(item, f"{path}[{i}]") for i, item in enumerate(body)]
        if any(child is None for child in children):
            return None
        return (AllOf if kind == "all" else AnyOf)(tuple(children), path)

    def _parse_leaf(self, raw: dict, path: str) -> Node | None:
        found_before = len(self.problems)
        unknown = sorted(map(str, set(raw) - {self.ref_key, "op", "value"}))
        if unknown:
            self._fail(path, f"unknown key(s) {unknown} in a rule leaf (expected {self.ref_key}, op, value)")
        ref = raw.get(self.ref_key)
        if not isinstance(ref, str) or not ref:
            self._fail(f"{path}.{self.ref_key}", f"a rule leaf needs `{self.ref_key}`: the name it tests")
        op = raw.get("op")
        if not isinstance(op, str):
            self._fail(f"{path}.op", "a rule leaf needs `op`")
        if len(self.problems) > found_before:
            return None
        return Leaf(ref, op, raw.get("value"), path)

    def _parse_query_builder(self, raw: dict, path: str) -> Node | None:
        unknown = sorted(map(str, set(raw) - {"combinator", "not", "rules", "id"}))
        if unknown:
            return self._fail(path, f"unknown key(s) {unknown} in a query-builder group")
        combinator = str(raw.get("combinator", "and")).lower()
        if combinator not in ("and", "or"):
            return self._fail(f"{path}.combinator", f"combinator must be 'and' or 'or', got {raw.get('combinator')!r}")
        rules = raw.get("rules")
        if not isinstance(rules, list) or not rules:
            return self._fail(f"{path}.rules", "a query-builder group needs a non-empty `rules` list")
        children = []
        for i, item in enumerate(rules):
            item_path = f"{path}.rules[{i}]"
            if isinstance(item, dict) and "operator" in item:
                children.append(self._parse_query_builder_leaf(item, item_path))
            else:
                children.append(self.parse(item, item_path))
        if any(child is None for child in children):
            return None
        node: Node = (AllOf if combinator == "and" else AnyOf)(tuple(children), path)
        negate = raw.get("not", False)
        if not isinstance(negate, bool):
            return self._fail(f"{path}.not", f"`not` must be true or false, got {negate!r}")
        return Not(node, path) if negate else node

    def _parse_query_builder_leaf(self, raw: dict, path: str) -> Node | None:
        unknown = sorted(map(str, set(raw) - {"field", "operator", "value", "id", "valueSource"}))
        if unknown:
            return self._fail(path, f"unknown key(s) {unknown} in a query-builder rule")
        if raw.get("valueSource", "value") != "value":
            return self._fail(f"{path}.valueSource", "only literal values are supported (valueSource: value)")
        ref = raw.get("field")
        if not isinstance(ref, str) or not ref:
            return self._fail(f"{path}.field", "a query-builder rule needs `field`")
        operator = raw["operator"]
        if isinstance(operator, str) and operator in QUERY_BUILDER_OPERATORS:
            op, negated = QUERY_BUILDER_OPERATORS[operator]
        elif isinstance(operator, str):
            op, negated = operator, False
        else:
            return self._fail(f"{path}.operator", f"operator must be text, got {_describe(operator)}")
        leaf = Leaf(ref, op, raw.get("value"), path, from_text=True)
        return Not(leaf, path) if negated else leaf

    def _fail(self, path: str, message: str) -> None:
        self.problems.append(Problem(path, message))
        return None


def leaves(node: Node):
    """Every leaf of a rule tree, left to right."""
    if isinstance(node, Leaf):
        yield node
    elif isinstance(node, Not):
        yield from leaves(node.rule)
    else:
        for child in node.rules:
            yield from leaves(child)


def _describe(value: Any) -> str:
    return f"{type(value).__name__} {value!r}"[:80]
