"""Rules: a small tree parsed from YAML or query-builder JSON, and its operators' kinds and
values. No Spark here: `labelspark.rules.spark` compiles trees to Spark Columns."""
from labelspark.rules.operators import OPERATORS, BadValue, resolve
from labelspark.rules.tree import AllOf, AnyOf, Leaf, Node, Not, RuleParser, leaves

__all__ = ["AllOf", "AnyOf", "BadValue", "Leaf", "Node", "Not", "OPERATORS", "RuleParser", "leaves", "resolve"]
