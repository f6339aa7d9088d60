"""Compiles a rule tree to one boolean Column, one method per node class.

Every leaf is made null-safe (`null_false`) so a comparison with a null field is false
and `not` of it is true: no three-valued logic leaks into labels.
"""
from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Mapping

from pyspark.sql import Column
from pyspark.sql import functions as F

from labelspark.errors import ConfigError, Problem
from labelspark.kinds import Kind
from labelspark.rules.ast import AllOf, AnyOf, Leaf, Node, Not
from labelspark.rules.operators import OPERATORS, BadValue, resolve
from labelspark.udfs import null_false


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
        return null_false(OPERATORS[leaf.op].build(column, value, field.kind, self.run_date))
