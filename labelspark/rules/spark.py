"""Rules on Spark: one table of operator -> Column builder, and the compiler of a rule tree
to one boolean Column, one method per node class.

Every leaf is made null-safe (`null_false`) so a comparison with a null field is false
and `not` of it is true: no three-valued logic leaks into labels. An operator without a
builder (or a node class without a method) fails by name, never compiles to a silent value.
"""
from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any, Callable, Mapping

from pyspark.sql import Column
from pyspark.sql import functions as F

from labelspark.errors import ConfigError, Problem
from labelspark.kinds import Kind
from labelspark.rules.operators import BadValue, resolve
from labelspark.rules.tree import AllOf, AnyOf, Leaf, Node, Not
from labelspark.udfs import null_false, within_last

# (field column, the value `resolve` gave, the field's kind, run date) -> condition
Build = Callable[[Column, Any, "Kind | None", dt.date], Column]


def _is_in(col: Column, values: list, kind: Kind | None, run_date: dt.date) -> Column:
    return col.isin(*(F.lit(v) for v in values)) if values else F.lit(False)


def _not_in(col: Column, values: list, kind: Kind | None, run_date: dt.date) -> Column:
    return col.isNotNull() & ~_is_in(col, values, kind, run_date)


def _has(col: Column, value: str) -> Column:
    """Whether a list holds `value`; null for a null list. `array_position` rather than
    `array_contains`, whose null-element rule Sail spells out as three calls (a third faster)."""
    return F.array_position(col, value) > 0


def _contains(col: Column, value: str, kind: Kind | None, run_date: dt.date) -> Column:
    return _has(col, value) if kind == "list" else col.contains(F.lit(value))


def _has_any(col: Column, values: list, kind: Kind | None, run_date: dt.date) -> Column:
    # An OR of single lookups: Sail rejects array_except/arrays_overlap against literal arrays.
    result = F.lit(False)
    for value in values:
        result = result | _has(col, value)
    return result


def _has_all(col: Column, values: list, kind: Kind | None, run_date: dt.date) -> Column:
    result = col.isNotNull()
    for value in values:
        result = result & _has(col, value)
    return result


def _day(value: Any, run_date: dt.date) -> dt.date:
    """A date given as a date, or as `Nd`: N days before the run date."""
    return run_date - dt.timedelta(days=value) if isinstance(value, int) else value


BUILDERS: dict[str, Build] = {
    "eq": lambda c, v, k, d: c == F.lit(v),
    "ne": lambda c, v, k, d: c != F.lit(v),
    "lt": lambda c, v, k, d: c < F.lit(v),
    "lte": lambda c, v, k, d: c <= F.lit(v),
    "gt": lambda c, v, k, d: c > F.lit(v),
    "gte": lambda c, v, k, d: c >= F.lit(v),
    "between": lambda c, v, k, d: c.between(F.lit(v[0]), F.lit(v[1])),
    "in": _is_in,
    "not_in": _not_in,
    "is_null": lambda c, v, k, d: c.isNull(),
    "not_null": lambda c, v, k, d: c.isNotNull(),
    "contains": _contains,
    "starts_with": lambda c, v, k, d: c.startswith(F.lit(v)),
    "ends_with": lambda c, v, k, d: c.endswith(F.lit(v)),
    "matches": lambda c, v, k, d: F.regexp_like(c, F.lit(v)),
    "has_any": _has_any,
    "has_all": _has_all,
    "within_last": lambda c, v, k, d: within_last(c, d, v),
    "before": lambda c, v, k, d: c < F.lit(_day(v, d)),
    "after": lambda c, v, k, d: c > F.lit(_day(v, d)),
}


def builder_of(op: str) -> Build:
    """The Column builder of operator `op`; the default for an operator without one raises."""

    def unsupported(col: Column, value: Any, kind: Kind | None, run_date: dt.date) -> Column:
        raise NotImplementedError(f"operator '{op}' has no Spark Column builder (labelspark.rules.spark.BUILDERS)")

    return BUILDERS.get(op, unsupported)


@dataclass(frozen=True)
class Field:
    column: Column
    kind: Kind


class RuleCompiler:
    """Turns rule trees into Columns over named fields (indicators, source columns or labels)."""

    def __init__(self, fields: Mapping[str, Field], run_date: dt.date, config_file: str | None = None):
        self.fields = fields
        self.run_date = run_date
        self.config_file = config_file

    def compile(self, node: Node) -> Column:
        method = getattr(self, f"_compile_{type(node).__name__}", None)
        if method is None:
            raise TypeError(f"no compile rule for node type {type(node).__name__}")
        return method(node)

    def _compile_AllOf(self, node: AllOf) -> Column:
        result = self.compile(node.rules[0])
        for child in node.rules[1:]:
            result = result & self.compile(child)
        return result

    def _compile_AnyOf(self, node: AnyOf) -> Column:
        result = self.compile(node.rules[0])
        for child in node.rules[1:]:
            result = result | self.compile(child)
        return result

    def _compile_Not(self, node: Not) -> Column:
        return ~self.compile(node.rule)

    def _compile_Leaf(self, leaf: Leaf) -> Column:
        field = self.fields.get(leaf.ref)
        if field is None:
            raise ConfigError(self.config_file, [Problem(leaf.path, f"unknown field '{leaf.ref}'")])
        try:
            value = resolve(leaf, field.kind)
        except BadValue as exc:
            raise ConfigError(self.config_file, [Problem(leaf.path, str(exc))]) from None
        column = F.to_date(field.column) if field.kind == "date" else field.column
        return null_false(builder_of(leaf.op)(column, value, field.kind, self.run_date))
