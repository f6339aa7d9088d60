"""The kind checks of a run before it writes anything, against the sources' schemas.

`validate` checks rules against the kinds the config fixes. Kinds only the data tells — a
`column:` indicator, `max` of a column, an `expr` over those — are read here from the sources'
schemas (no rows are read), so a rule comparing a text column with a number stops `run` with a
config error (exit 2) before the warehouse lock, a table or a run-log row exists. A source that
cannot be read is left to the run, which reports it and records it in label_runs.
"""
from __future__ import annotations

from typing import Iterable, Mapping

from pyspark.errors import PySparkException
from pyspark.sql import SparkSession
from pyspark.sql import functions as F
from pyspark.sql import types as T

from labelspark.config import Project
from labelspark.config.expr_kinds import expression_kind
from labelspark.config.models import Indicator
from labelspark.errors import SourceError
from labelspark.kinds import Kind
from labelspark.compute.plan import label_inputs
from labelspark.compute.sources import read_source
from labelspark.engine.spark_types import SPARK_TYPE_OF_KIND, kind_of

# aggregates whose value is of the kind of the column they read (None: a `column:` indicator)
_KEEPS_COLUMN_KIND = (None, "min", "max", "first", "last", "mode")


def check_label_kinds(spark: SparkSession, project: Project, only: list[str] | None = None) -> None:
    """Raises ConfigError, located, where the rules or indicator of an enabled label (or of
    `only` those) do not fit the kinds the sources' schemas give."""
    labels = [label for label in project.enabled_labels if not only or label.id in only]
    kinds = indicator_kinds(spark, project, labels)
    problems = project.kind_problems(kinds, labels)
    if problems:
        raise project.error(problems)


def indicator_kinds(spark: SparkSession, project: Project, labels: Iterable) -> dict[str, Kind | None]:
    """The kinds of the indicators `labels` read, as the run will find them; None where the schemas do not tell."""
    needed = set().union(*(label_inputs(project, label) for label in labels))
    sources = {project.indicators[name].source for name in needed} - {None}
    columns = {name: source_kinds(spark, project, name) for name in sources}
    kinds = {
        name: _aggregate_kind(indicator, columns.get(indicator.source))
        for name, indicator in project.indicators.items()
        if name in needed and indicator.expr is None
    }
    for name in project.expression_order:
        if name in needed:
            sql = project.indicators[name].expr
            kinds[name] = expression_kind(sql, kinds) or _analysed_kind(spark, sql, kinds, project.expression_inputs[name])
    return kinds


def source_kinds(spark: SparkSession, project: Project, name: str) -> dict[str, Kind | None] | None:
    """The kind of each column of a source as its indicators see it (after cleaning); None when
    the source cannot be read."""
    try:
        schema = read_source(spark, project, name, allow_empty=True).schema
    except SourceError:
        return None
    source = project.sources[name]
    made_text = {*(source.clean.trim or ()), *(source.clean.lower or ())}
    kinds = {field.name: "string" if field.name in made_text else kind_of(field.dataType) for field in schema.fields}
    if source.time in kinds:
        kinds[source.time] = "date"  # the run reads it as a time (or refuses the source)
    return kinds


def _aggregate_kind(indicator: Indicator, columns: Mapping[str, Kind | None] | None) -> Kind | None:
    if indicator.agg not in _KEEPS_COLUMN_KIND:
        return indicator.static_kind  # count, sum, ...: the aggregate fixes it
    return None if columns is None else columns.get(indicator.of or indicator.column)


def _analysed_kind(spark: SparkSession, sql: str, kinds: Mapping[str, Kind | None], inputs: Iterable[str]) -> Kind | None:
    """The engine's kind for `sql` over an empty frame of its inputs' kinds: an analysis, no data.

    A list stands for lists of any element type, so an expression over one is left to the run.
    """
    if any(kinds.get(name) in (None, "list") for name in inputs):
        return None
    fields = [T.StructField(name, SPARK_TYPE_OF_KIND[kinds[name]]) for name in sorted(inputs)]
    empty = spark.createDataFrame([], T.StructType([*fields, T.StructField("run_date", T.DateType())]))
    try:
        return kind_of(empty.select(F.expr(sql)).schema.fields[0].dataType)
    except PySparkException:  # the run reports the expression's own error
        return None
