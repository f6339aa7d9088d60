"""Rules: a small AST parsed from YAML or query-builder JSON, compiled to Spark Columns."""
from labelspark.rules.ast import AllOf, AnyOf, Leaf, Node, Not, RuleParser, leaves
from labelspark.rules.compiler import Field, RuleCompiler
from labelspark.rules.operators import OPERATORS, BadValue, resolve

__all__ = [
    "AllOf", "AnyOf", "BadValue", "Field", "Leaf", "Node", "Not", "OPERATORS",
    "RuleCompiler", "RuleParser", "leaves", "resolve",
]
