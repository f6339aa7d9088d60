"""Rule traces: each node of a rule tree with its result for one entity, as a tree of
`{"rule", "result", "children"}` (leaves add `field`, `op`, `value`, `actual`).

A node's result is the one labelspark decided with, except that a leaf whose field is null
shows null (it counts as false: a null never matches, only `is_null` does).
"""
from __future__ import annotations

import json

from labelspark.rules import AllOf, AnyOf, Leaf, Node, Not, resolve

_SYMBOLS = {"eq": "=", "ne": "!=", "lt": "<", "lte": "<=", "gt": ">", "gte": ">="}
_DECIDED_ON_NULL = ("is_null", "not_null")


def nodes_of(tree: Node) -> list[Node]:
    """Every node of a tree, parents before children (the order `build` reads results in)."""
    if isinstance(tree, Leaf):
        return [tree]
    children = [tree.rule] if isinstance(tree, Not) else list(tree.rules)
    return [tree, *(node for child in children for node in nodes_of(child))]


def build(tree: Node, results: list, actual: dict, kinds: dict) -> dict:
    """The traced tree, reading `results` (one per node, in `nodes_of` order) from the front;
    `actual` and `kinds`: each field's value and kind (rule values are shown as compared)."""
    result = results.pop(0)
    if isinstance(tree, Leaf):
        value = actual.get(tree.ref)
        shown = None if value is None and tree.op not in _DECIDED_ON_NULL else result
        compared = resolve(tree, kinds.get(tree.ref))
        return {"rule": rule_text(tree, compared), "result": shown, "children": [], "field": tree.ref, "op": tree.op,
                "value": compared, "actual": value}
    children = [tree.rule] if isinstance(tree, Not) else list(tree.rules)
    return {"rule": rule_text(tree), "result": result, "children": [build(child, results, actual, kinds) for child in children]}


def rule_text(node: Node, value=None) -> str:
    """A node as a person reads it: `all of`, `not`, `age >= 18` (`value`: a leaf's value as compared)."""
    if isinstance(node, AllOf):
        return "all of"
    if isinstance(node, AnyOf):
        return "any of"
    if isinstance(node, Not):
        return "not"
    if node.op in _DECIDED_ON_NULL:
        return f"{node.ref} {node.op}"
    return f"{node.ref} {_SYMBOLS.get(node.op, node.op)} {literal(value)}"


def literal(value) -> str:
    """A rule value as written in a trace: text quoted, lists in brackets."""
    if isinstance(value, (list, tuple)):
        return "[" + ", ".join(literal(v) for v in value) + "]"
    return json.dumps(value, ensure_ascii=False, default=str)


def flattened(trace: dict, depth: int = 0) -> list[dict]:
    """The trace as rows (depth, rule, result, actual), parents first: for CSV."""
    row = {"depth": depth, "rule": trace["rule"], "result": trace["result"], "actual": trace.get("actual")}
    return [row, *(r for child in trace["children"] for r in flattened(child, depth + 1))]


def print_trace(trace: dict) -> None:
    """The trace as an indented tree on the terminal: ✓ true, ✗ false, ∅ null (counts as false)."""
    from rich.console import Console
    from rich.tree import Tree

    def line(node: dict) -> str:
        mark = {True: "[green]✓ true[/]", False: "[red]✗ false[/]", None: "[yellow]∅ null[/]"}[node["result"]]
        text = f"{_escape(node['rule'])}  {mark}"
        if "actual" in node:
            text += f"  [dim]({node['field']} = {_escape(literal(node['actual']))})[/]"
        if node.get("matched"):
            text += "  [bold]← chosen[/]"
        return text

    def add(parent: Tree, node: dict) -> None:
        branch = parent.add(line(node))
        for child in node["children"]:
            add(branch, child)

    root = Tree(line(trace))
    for child in trace["children"]:
        add(root, child)
    Console().print(root)


def _escape(text: str) -> str:
    from rich.markup import escape

    return escape(text)
