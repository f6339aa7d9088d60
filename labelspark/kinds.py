"""The five value kinds of labels and indicators, and the text values of a bucketed number.

Rules are type-checked against kinds, not Spark types: an `int` and a `double` column are
both `number`, a `date` and a `timestamp` are both `date`. The Spark types of the kinds are
in `labelspark.engine.spark_types`; this module, like the config and the rules, needs no Spark.
"""
from __future__ import annotations

from typing import Literal

Kind = Literal["string", "number", "boolean", "date", "list"]
KINDS: tuple[Kind, ...] = ("string", "number", "boolean", "date", "list")


def bucket_names(edges: list[float]) -> list[str]:
    """The buckets of `edges` in order: `(-inf,e0)`, `[e0,e1)`, …, `[en,+inf)` (as `label_stats` names them)."""
    names = [str(int(e)) if float(e).is_integer() else repr(float(e)) for e in edges]
    inner = [f"[{low},{high})" for low, high in zip(names, names[1:])]
    return [f"(-inf,{names[0]})"] + inner + [f"[{names[-1]},+inf)"]
