"""The kind of an `expr` indicator, read from its SQL before any data (sqlglot's type annotation).

Where the SQL fixes the result (`floor(...)`, `datediff`, comparisons, casts, string functions,
a `CASE` whose branches agree) the kind is known at `validate`, so rules over the indicator are
checked there. Where sqlglot's typing and Spark's may part — arithmetic on dates or text, `||` of
lists, branches of different kinds, functions sqlglot does not know — the answer is None and the
kind is learnt from the data. No Spark here.
"""
from __future__ import annotations

from typing import TYPE_CHECKING, Mapping

import sqlglot
from sqlglot import exp
from sqlglot.optimizer.annotate_types import annotate_types

if TYPE_CHECKING:
    from labelspark.kinds import Kind

_TABLE = "indicators"
_UNSURE = "__labelspark_unsure"  # stands in for a part whose type sqlglot may get wrong
# one Spark type per kind: numbers and dates of every width behave alike at the level of kinds;
# a list's elements are not known (collect_set of numbers is a list of numbers)
_SQL_TYPE_OF_KIND = {"string": "STRING", "number": "DOUBLE", "boolean": "BOOLEAN", "date": "DATE", "list": "ARRAY<UNKNOWN>"}
_DATE_TYPES = {
    exp.DataType.Type.DATE, exp.DataType.Type.DATETIME, exp.DataType.Type.TIMESTAMP,
    exp.DataType.Type.TIMESTAMPTZ, exp.DataType.Type.TIMESTAMPLTZ, exp.DataType.Type.TIMESTAMPNTZ,
}


def _nodes(names: str) -> frozenset[type]:
    return frozenset(getattr(exp, name) for name in names.split())


# typed after their operands by sqlglot; Spark's answer differs unless every operand is a number
# (date - date is an interval, '1' + 1 a number, -date an error)
_ARITHMETIC = _nodes("Add Sub Mul Div Mod IntDiv Neg Abs Round Floor Ceil Sign Pow")
_CONCATENATION = _nodes("DPipe Concat")  # text of scalars; of lists (`||`), a list
_CONDITIONAL = _nodes("Case If Coalesce Greatest Least")  # Spark's common type of text and a number is its own
# nodes whose type sqlglot gives as Spark does, checked one by one. Any other node with a type is
# unsure (sqlglot types `array_position` as a list): the nodes above it that take their type from it
# become unknown, those of a fixed type (a comparison, `datediff`) keep theirs
_TRUSTED = _ARITHMETIC | _CONCATENATION | _CONDITIONAL | _nodes("""
    Column Literal Boolean Null Paren Cast TryCast Nullif Sqrt Ln Log Exp Rand Pi
    EQ NEQ GT GTE LT LTE NullSafeEQ Like ILike RegexpLike In Between Is Not And Or
    Contains StartsWith EndsWith ArrayContains IsNan Exists
    ConcatWs Upper Lower Trim Substring Length Initcap RegexpReplace RegexpExtract Replace Pad Repeat Left Right
    Translate StrPosition Levenshtein Reverse Hex MD5 SHA2 ToBase64 Ascii BitLength Space Format ToChar Typeof
    TimeToStr UnixToStr ArrayToString JSONExtractScalar
    DateDiff MonthsBetween TsOrDsToDate StrToTime StrToDate TsOrDsAdd AddMonths LastDay NextDay DateTrunc
    CurrentDate CurrentTimestamp AtTimeZone TimestampAdd StrToUnix UnixDate DateFromUnixDate Extract
    Year Quarter Month WeekOfYear Day DayOfMonth DayOfWeek DayOfYear Hour Minute Second
    Array ArraySize RegexpSplit ArrayFilter ArraySort ArrayDistinct ArraySlice Bracket GenerateSeries
""")
_NOT_VALUES = _nodes("DataType PropertyEQ")  # a cast's target type, a struct's field: typed, but no values
_SCALARS = {"string", "number", "boolean", "date"}


def expression_kind(sql: str, kinds: Mapping[str, Kind | None]) -> Kind | None:
    """The kind of `sql` over columns of the given `kinds` (and `run_date`, a date); None when unsure."""
    try:
        tree = sqlglot.parse_one(sql, read="spark")
    except sqlglot.errors.SqlglotError:
        return None
    query = exp.select(tree).from_(_TABLE)
    for column in query.find_all(exp.Column):
        if not column.table:  # `a.b` is no indicator: left unknown
            column.set("table", exp.to_identifier(_TABLE))
    columns = {name: _SQL_TYPE_OF_KIND.get(kind, "UNKNOWN") for name, kind in kinds.items()}
    schema = {_TABLE: {**columns, "run_date": "DATE"}}
    while True:
        try:
            query = annotate_types(query, schema=schema, dialect="spark")
        except Exception:  # the annotator is not total: `floor()` raises AttributeError
            return None
        unsure = [node for node in query.selects[0].walk() if _unsure(node)]
        if not unsure:
            return kind_of_sql_type(query.selects[0].type)
        for node in unsure:  # typed UNKNOWN on the next pass, and so is whatever takes its type
            node.replace(exp.column(_UNSURE, table=_TABLE))


def kind_of_sql_type(data_type: exp.DataType | None) -> Kind | None:
    """The kind of a sqlglot type, as `labelspark.engine.spark_types.kind_of` gives it for the Spark type."""
    if data_type is None:
        return None
    if data_type.is_type(*exp.DataType.NUMERIC_TYPES):
        return "number"
    if data_type.is_type(*exp.DataType.TEXT_TYPES):
        return "string"
    if data_type.is_type(exp.DataType.Type.BOOLEAN):
        return "boolean"
    if data_type.is_type(*_DATE_TYPES):
        return "date"
    if data_type.is_type(exp.DataType.Type.ARRAY):
        return "list"
    return None


def _unsure(node: exp.Expression) -> bool:
    """Whether sqlglot may type `node` otherwise than Spark does."""
    node_class = type(node)
    if node_class in _ARITHMETIC:
        return any(_kind(operand) != "number" for operand in node.iter_expressions())
    if node_class in _CONCATENATION:
        return any(_kind(operand) not in _SCALARS for operand in node.iter_expressions())
    if node_class is exp.If and isinstance(node.parent, exp.Case):
        return False  # one WHEN of a CASE: the CASE weighs its branches
    if node_class in _CONDITIONAL:
        values = {_kind(value) for value in _branches(node) if not _is_null(value)}
        return len(values) > 1 or None in values
    return node_class not in _TRUSTED and node_class not in _NOT_VALUES and _kind(node) is not None


def _branches(node: exp.Expression) -> list[exp.Expression]:
    """The values a conditional or `coalesce`-like node may take."""
    if isinstance(node, exp.Case):
        values = [branch.args.get("true") for branch in node.args.get("ifs") or []] + [node.args.get("default")]
    elif isinstance(node, exp.If):
        values = [node.args.get("true"), node.args.get("false")]
    else:
        values = [node.this, *node.expressions]
    return [value for value in values if value is not None]


def _kind(node: exp.Expression) -> Kind | None:
    return kind_of_sql_type(node.type)


def _is_null(node: exp.Expression) -> bool:
    return node.type is not None and node.type.is_type(exp.DataType.Type.NULL)
