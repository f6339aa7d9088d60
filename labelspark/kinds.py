"""The five value kinds of labels and indicators.

Rules are type-checked against kinds, not Spark types: an `int` and a `double` column are
both `number`, a `date` and a `timestamp` are both `date`. The Spark types of the kinds are
in `labelspark.engine.spark_types`; this module, like the config and the rules, needs no Spark.
"""
from __future__ import annotations

from typing import Literal

Kind = Literal["string", "number", "boolean", "date", "list"]
KINDS: tuple[Kind, ...] = ("string", "number", "boolean", "date", "list")
