"""The 20 rule operators: which kinds each applies to and the value it takes. No Spark here.

Values are checked and converted here once; `labelspark.rules.spark` turns them into Spark
literals (`F.lit`), never SQL text. `contains`, `starts_with` and `ends_with` match
literally, only `matches` takes a regular expression.
"""
from __future__ import annotations

import datetime as dt
import math
import re
from dataclasses import dataclass
from typing import Any

from labelspark.kinds import Kind
from labelspark.rules.tree import Leaf
from labelspark.timeutil import parse_days


MAX_DAYS = 99999  # what `Nd` allows: further back than that, dates overflow


class BadValue(ValueError):
    """A rule value that does not fit its operator or its field's kind."""


EQUALITY = frozenset({"string", "number", "boolean", "date"})
ORDERED = frozenset({"string", "number", "date"})
ALL_KINDS = frozenset({"string", "number", "boolean", "date", "list"})


@dataclass(frozen=True)
class Operator:
    name: str
    kinds: frozenset
    shape: str  # none | scalar | pair | list | text | regex | days | day_or_days


OPERATORS: dict[str, Operator] = {
    op.name: op
    for op in [
        Operator("eq", EQUALITY, "scalar"),
        Operator("ne", EQUALITY, "scalar"),
        Operator("lt", ORDERED, "scalar"),
        Operator("lte", ORDERED, "scalar"),
        Operator("gt", ORDERED, "scalar"),
        Operator("gte", ORDERED, "scalar"),
        Operator("between", ORDERED, "pair"),
        Operator("in", EQUALITY, "list"),
        Operator("not_in", EQUALITY, "list"),
        Operator("is_null", ALL_KINDS, "none"),
        Operator("not_null", ALL_KINDS, "none"),
        Operator("contains", frozenset({"string", "list"}), "text"),
        Operator("starts_with", frozenset({"string"}), "text"),
        Operator("ends_with", frozenset({"string"}), "text"),
        Operator("matches", frozenset({"string"}), "regex"),
        Operator("has_any", frozenset({"list"}), "list"),
        Operator("has_all", frozenset({"list"}), "list"),
        Operator("within_last", frozenset({"date"}), "days"),
        Operator("before", frozenset({"date"}), "day_or_days"),
        Operator("after", frozenset({"date"}), "day_or_days"),
    ]
}


def resolve(leaf: Leaf, kind: Kind | None) -> Any:
    """The leaf's value as Python literals fit for its field's kind; raises BadValue.

    With `kind` None (not known before the data is read) only the value's shape is checked.
    """
    op = OPERATORS.get(leaf.op)
    if op is None:
        raise BadValue(f"unknown operator '{leaf.op}' (operators: {', '.join(OPERATORS)})")
    if kind is not None and kind not in op.kinds:
        supported = ", ".join(name for name, o in OPERATORS.items() if kind in o.kinds)
        raise BadValue(f"operator '{leaf.op}' does not apply to {kind} field '{leaf.ref}' ({kind} supports: {supported})")
    element_kind = "string" if kind == "list" else kind
    value, text = leaf.value, leaf.from_text
    if op.shape == "none":
        if value not in (None, ""):
            raise BadValue(f"operator '{leaf.op}' takes no value, got {value!r}")
        return None
    if op.shape == "scalar":
        return coerce_scalar(value, element_kind, text)
    if op.shape == "pair":
        low, high = (coerce_scalar(v, element_kind, text) for v in _items(value, text, exactly=2))
        numbers = all(isinstance(v, (int, float)) and not isinstance(v, bool) for v in (low, high))
        if (numbers or type(low) is type(high)) and low > high:
            raise BadValue(f"between takes [low, high] with low <= high, got {value!r}")
        return (low, high)
    if op.shape == "list":
        return [coerce_scalar(v, element_kind, text) for v in _items(value, text)]
    if op.shape in ("text", "regex"):
        if isinstance(value, (int, float)) and text and not isinstance(value, bool):
            value = str(value)
        if not isinstance(value, str):
            raise BadValue(f"operator '{leaf.op}' takes text, got {_describe(value)}")
        if op.shape == "regex":
            try:
                re.compile(value)
            except re.error as exc:
                raise BadValue(f"invalid regular expression {value!r}: {exc}") from None
            unportable = unportable_regex(value)
            if unportable:
                raise BadValue(f"regular expression {value!r} uses {unportable}, which not every engine runs "
                               "(Sail: Rust regex, Spark: java.util.regex)")
        return value
    if op.shape == "days":
        days = value if isinstance(value, int) and not isinstance(value, bool) and 0 < value <= MAX_DAYS else parse_days(value)
        if days is None:
            raise BadValue(f"operator '{leaf.op}' takes a number of days like '30d', got {value!r}"[:300])
        return days
    # day_or_days
    days = parse_days(value)
    return days if days is not None else coerce_scalar(value, "date", text)


_ESCAPE = re.compile(r"\\(.)", re.DOTALL)
_UNPORTABLE_ESCAPES = {"1": "a backreference", "2": "a backreference", "3": "a backreference", "4": "a backreference",
                       "5": "a backreference", "6": "a backreference", "7": "a backreference", "8": "a backreference",
                       "9": "a backreference", "Z": "\\Z (write $)", "N": "\\N{...} (write the character)"}
_UNPORTABLE_SYNTAX = [
    (re.compile(r"\(\?<?[=!]"), "a lookaround"),
    (re.compile(r"\(\?>"), "an atomic group"),
    (re.compile(r"\(\?P="), "a backreference"),
    (re.compile(r"\(\?P<"), "a Python-style named group (write a plain group)"),
    (re.compile(r"\{,"), "{,n} (write {0,n})"),
    (re.compile(r"[*+?}]\+"), "a possessive quantifier"),
]


def unportable_regex(pattern: str) -> str | None:
    """The first construct of `pattern` outside what Java and Rust regexes share, or None."""
    for escaped in _ESCAPE.findall(pattern):
        if escaped in _UNPORTABLE_ESCAPES:
            return _UNPORTABLE_ESCAPES[escaped]
    plain = _ESCAPE.sub("", pattern)
    for syntax, name in _UNPORTABLE_SYNTAX:
        if syntax.search(plain):
            return name
    return None


def _items(value: Any, text: bool, exactly: int | None = None) -> list:
    if text and isinstance(value, str):
        value = [part.strip() for part in value.split(",")] if value.strip() else []
    if not isinstance(value, (list, tuple)):
        raise BadValue(f"expected a list, got {_describe(value)}")
    if exactly is not None and len(value) != exactly:
        raise BadValue(f"expected a list of {exactly} values, got {len(value)}")
    return list(value)


def coerce_scalar(value: Any, kind: Kind | None, text: bool) -> Any:
    if kind is None:
        if isinstance(value, (str, int, float, bool, dt.date)):
            return value
        raise BadValue(f"expected a single value, got {_describe(value)}")
    if kind == "number":
        if text and isinstance(value, str):
            try:
                value = float(value) if any(ch in value for ch in ".eE") else int(value)
            except ValueError:
                pass
        if isinstance(value, int) and not isinstance(value, bool) and not -(2**63) <= value < 2**63:
            value = float(value) if abs(value) < 2**1023 else math.inf  # beyond a 64-bit integer: a double
        if isinstance(value, float) and not math.isfinite(value):
            raise BadValue(f"expected a finite number, got {_describe(value)}")
        if isinstance(value, (int, float)) and not isinstance(value, bool):
            return value
    elif kind == "string":
        if isinstance(value, str):
            return value
        if text and isinstance(value, (int, float)) and not isinstance(value, bool):
            return str(value)
    elif kind == "boolean":
        if isinstance(value, bool):
            return value
        if text and isinstance(value, str) and value.lower() in ("true", "false"):
            return value.lower() == "true"
    elif kind == "date":
        if isinstance(value, dt.datetime):
            return value.date()
        if isinstance(value, dt.date):
            return value
        if isinstance(value, str):
            try:
                return dt.date.fromisoformat(value)
            except ValueError:
                pass
    raise BadValue(f"expected a {kind} value, got {_describe(value)}")


def _describe(value: Any) -> str:
    return f"{type(value).__name__} {value!r}"[:80]
