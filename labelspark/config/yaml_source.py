"""YAML loading that remembers where each value stood, for errors a user can act on."""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import yaml

from labelspark.errors import Problem


@dataclass
class Locator:
    """Maps YAML paths (`labels[0].values[1].when`) to 1-based line numbers."""

    lines: dict[str, int] = field(default_factory=dict)

    def line_of(self, path: str) -> int | None:
        while True:
            if path in self.lines:
                return self.lines[path]
            cut = max(path.rfind("."), path.rfind("["))
            if cut <= 0:
                return self.lines.get(path)
            path = path[:cut]

    def locate(self, problems: list[Problem]) -> list[Problem]:
        return [Problem(p.path, p.message, p.line or self.line_of(p.path)) for p in problems]


def join(path: str, key: Any) -> str:
    if isinstance(key, int):
        return f"{path}[{key}]"
    return f"{path}.{key}" if path else str(key)


def load_yaml(text: str) -> tuple[Any, Locator, list[Problem]]:
    """The document, where its parts stand, and duplicate-key problems (YAML keeps the last)."""
    try:
        node = yaml.compose(text, Loader=yaml.SafeLoader)
        data = yaml.safe_load(text)
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        line = mark.line + 1 if mark else None
        return None, Locator(), [Problem("", f"not valid YAML: {exc.problem or exc}", line)]
    except yaml.YAMLError as exc:
        return None, Locator(), [Problem("", f"not valid YAML: {exc}")]
    except RecursionError:
        return None, Locator(), [Problem("", "the YAML is nested too deeply")]
    except ValueError as exc:  # e.g. an integer of thousands of digits
        return None, Locator(), [Problem("", f"not valid YAML: {exc}")]
    locator, problems = Locator(), []
    try:
        data = _paired_surrogates(data, {})
    except UnicodeError:
        return None, Locator(), [Problem("", "the config holds an unpaired UTF-16 surrogate escape (\\uD800-\\uDFFF)")]
    if node is not None:
        try:
            _walk(node, "", locator, problems, set())
        except RecursionError:
            return None, Locator(), [Problem("", "the YAML is nested too deeply")]
    return data, locator, problems


def _walk(node: yaml.Node, path: str, locator: Locator, problems: list[Problem], seen_nodes: set[int]) -> None:
    locator.lines.setdefault(path, node.start_mark.line + 1)
    if id(node) in seen_nodes:  # an alias: its node was walked where it was anchored (no exponential walk)
        return
    seen_nodes.add(id(node))
    if isinstance(node, yaml.MappingNode):
        seen: set = set()
        for key_node, value_node in node.value:
            key = key_node.value
            child = join(path, key)
            if key in seen:
                problems.append(Problem(child, f"duplicate key '{key}'", key_node.start_mark.line + 1))
            seen.add(key)
            locator.lines[child] = key_node.start_mark.line + 1
            _walk(value_node, child, locator, problems, seen_nodes)
    elif isinstance(node, yaml.SequenceNode):
        for i, item in enumerate(node.value):
            _walk(item, join(path, i), locator, problems, seen_nodes)


def _paired_surrogates(value: Any, done: dict) -> Any:
    """Joins the UTF-16 surrogate pairs of `\\ud83d\\ude00`-style escapes, which YAML leaves split
    (JSON joins them: query-builder rules arrive so). Shared nodes (aliases) are fixed once."""
    if isinstance(value, str):
        if any("\ud800" <= ch <= "\udfff" for ch in value):
            return value.encode("utf-16", "surrogatepass").decode("utf-16")
        return value
    if isinstance(value, (dict, list)):
        if id(value) in done:
            return done[id(value)]
        done[id(value)] = value
        if isinstance(value, list):
            value[:] = [_paired_surrogates(item, done) for item in value]
        else:
            items = [(_paired_surrogates(k, done), _paired_surrogates(v, done)) for k, v in value.items()]
            value.clear()
            value.update(items)
    return value
