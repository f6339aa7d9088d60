"""Parsing the config's sections item by item into models, pydantic's errors as located problems."""
from __future__ import annotations

import re
import reprlib
from dataclasses import dataclass, field
from typing import Any

from pydantic import BaseModel, TypeAdapter, ValidationError

from labelspark.config.checks import RESERVED_NAMES
from labelspark.config.yaml_source import join
from labelspark.errors import Problem
from labelspark.rules import Node, RuleParser


class SectionParser:
    """Parses each section and item on its own so that one broken item hides no other problem."""

    def __init__(self, data: dict, problems: list[Problem]):
        self.data = data
        self.problems = problems

    def parse(self, model: Any, raw: Any, path: str):
        adapter = model if isinstance(model, TypeAdapter) else TypeAdapter(model)
        if raw is None and path:
            self.problems.append(Problem(path, "is required"))
            return None
        try:
            return adapter.validate_python(raw)
        except ValidationError as exc:
            for error in exc.errors(include_url=False):
                where = _path_of(path, error["loc"], raw, missing=error["type"] == "missing")
                self.problems.append(Problem(where, _message(error)))
            return None

    def parse_mapping(self, model: type[BaseModel], section: str, required: bool = False) -> "Parsed":
        raw = self.data.get(section)
        result = Parsed()
        if raw is None:
            if required:
                self.problems.append(Problem(section, "is required"))
            return result
        if not isinstance(raw, dict):
            self.problems.append(Problem(section, f"must be a mapping of name -> definition, got {type(raw).__name__}"))
            return result
        for name, item in raw.items():
            path = join(section, name)
            if not isinstance(name, str) or not _is_identifier(name):
                self.problems.append(Problem(path, f"name {reprlib.repr(name)} must match [a-z][a-z0-9_]*"))
                continue
            if name in RESERVED_NAMES:
                self.problems.append(Problem(path, f"'{name}' is reserved"))
            parsed = self.parse(model, item, path)
            (result.parsed if parsed is not None else result.broken)[name] = parsed
        return result

    def parse_list(self, model: Any, section: str) -> "Parsed":
        raw = self.data.get(section)
        result = Parsed()
        if raw is None:
            return result
        if not isinstance(raw, list):
            self.problems.append(Problem(section, f"must be a list, got {type(raw).__name__}"))
            return result
        for i, item in enumerate(raw):
            parsed = self.parse(model, item, f"{section}[{i}]")
            item_id = item.get("id") if isinstance(item, dict) else None
            if isinstance(item_id, str) and (item_id in result.parsed or item_id in result.broken):
                self.problems.append(Problem(f"{section}[{i}].id", f"duplicate id '{item_id}'"))
                continue
            if parsed is not None:
                result.parsed[parsed.id] = parsed
                result.paths[parsed.id] = f"{section}[{i}]"
            elif isinstance(item_id, str):
                result.broken[item_id] = None
        return result

    def parse_rule(self, raw: Any, path: str, ref_key: str = "field") -> Node | None:
        parser = RuleParser(ref_key=ref_key)
        tree = parser.parse(raw, path)
        self.problems += parser.problems
        return tree


@dataclass
class Parsed:
    """A section's items by name: those that parsed, those with problems of their own, and paths."""

    parsed: dict = field(default_factory=dict)
    broken: dict = field(default_factory=dict)  # names whose definition has problems of its own
    paths: dict = field(default_factory=dict)


def _is_identifier(name: str) -> bool:
    return re.fullmatch(r"[a-z][a-z0-9_]*", name) is not None


def _path_of(base: str, loc: tuple, raw: Any, missing: bool) -> str:
    """A pydantic error location as a YAML path; union tags (not in the data) are skipped,
    a missing key is named."""
    path, current = base, raw
    for i, part in enumerate(loc):
        if isinstance(current, dict) and part in current:
            path, current = join(path, part), current[part]
        elif isinstance(current, list) and isinstance(part, int) and part < len(current):
            path, current = join(path, part), current[part]
        elif missing and i == len(loc) - 1:
            path = join(path, part)
    return path


def _message(error: dict) -> str:
    kind, message = error["type"], error["msg"]
    if kind == "missing":
        return "is required"
    if kind == "extra_forbidden":
        return "unknown key"
    if kind == "union_tag_invalid":
        return f"unknown method {error['input'].get('method')!r} (methods: {error['ctx']['expected_tags']})"
    if kind == "union_tag_not_found":
        return "needs `method`"
    if message.startswith("Value error, "):
        return message[len("Value error, "):]
    return f"{message}, got {reprlib.repr(error['input'])}"
