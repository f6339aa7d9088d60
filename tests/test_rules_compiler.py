"""RuleCompiler: every operator and group, case by case, as rows of input plus `expected`.

Each case is one rule over a field `x` of one Spark type, and rows `(x, expected)`; the
expected values are written out by hand. The run date is fixed: 2026-03-15, so

    within_last 7d   = 2026-03-09 .. 2026-03-15 (inclusive)
    within_last 30d  = 2026-02-14 .. 2026-03-15 (2026 has no Feb 29)
    before 30d       = x < 2026-02-13        after 30d = x > 2026-02-13

A null field never matches (only `is_null` does); `not` of such a comparison is true.
"""
from __future__ import annotations

import datetime as dt

import chispa
import pytest
from pyspark.sql import functions as F
from pyspark.sql import types as T

from labelspark.errors import ConfigError
from labelspark.rules import OPERATORS, RuleParser
from labelspark.rules.spark import BUILDERS, Field, RuleCompiler, builder_of

pytestmark = pytest.mark.portable

RUN_DATE = dt.date(2026, 3, 15)

STRING = T.StringType()
DOUBLE = T.DoubleType()
LONG = T.LongType()
BOOLEAN = T.BooleanType()
DATE = T.DateType()
TIMESTAMP = T.TimestampType()
TIMESTAMP_NTZ = T.TimestampNTZType()
LIST = T.ArrayType(T.StringType())

UTC = dt.timezone.utc


def d(text: str) -> dt.date:
    return dt.date.fromisoformat(text)


def ts(text: str) -> dt.datetime:
    """An instant in UTC (the tests' session time zone)."""
    return dt.datetime.fromisoformat(text).replace(tzinfo=UTC)


def ntz(text: str) -> dt.datetime:
    return dt.datetime.fromisoformat(text)


def compiled(spark, rule, schema: T.StructType, rows: list, kinds: dict):
    """The rows with a `result` column: the rule compiled over the named fields."""
    parser = RuleParser()
    tree = parser.parse(rule, "when")
    assert parser.problems == []
    fields = {name: Field(F.col(name), kind) for name, kind in kinds.items()}
    df = spark.createDataFrame(rows, schema)
    return df.withColumn("result", RuleCompiler(fields, RUN_DATE).compile(tree))


def x_schema(data_type: T.DataType) -> T.StructType:
    return T.StructType([T.StructField("x", data_type, True), T.StructField("expected", T.BooleanType(), False)])


def case(rule, data_type, kind, rows, id):
    return pytest.param(rule, data_type, kind, rows, id=id)


def x(op, value=None):
    return {"field": "x", "op": op} if value is None else {"field": "x", "op": op, "value": value}


def qb(operator, value, combinator="and", negate=False):
    return {"combinator": combinator, "not": negate, "rules": [{"field": "x", "operator": operator, "value": value}]}


CASES = [
    # -- eq / ne -----------------------------------------------------------------------------
    case(x("eq", "gold"), STRING, "string",
         [("gold", True), ("Gold", False), ("gold ", False), ("", False), (None, False)], "eq-string"),
    case(x("eq", "北京"), STRING, "string",
         [("北京", True), ("北京市", False), ("南京", False), (None, False)], "eq-unicode"),
    case(x("eq", 18), DOUBLE, "number",
         [(18.0, True), (18.5, False), (-18.0, False), (None, False)], "eq-number-double"),
    case(x("eq", 18.0), LONG, "number",
         [(18, True), (17, False), (None, False)], "eq-number-long"),
    case(x("eq", True), BOOLEAN, "boolean",
         [(True, True), (False, False), (None, False)], "eq-boolean"),
    case(x("eq", False), BOOLEAN, "boolean",
         [(True, False), (False, True), (None, False)], "eq-boolean-false"),
    case(x("eq", d("2026-03-01")), DATE, "date",
         [(d("2026-03-01"), True), (d("2026-03-02"), False), (None, False)], "eq-date"),
    case(x("eq", "2026-03-01"), TIMESTAMP, "date",
         [(ts("2026-03-01 00:00:00"), True), (ts("2026-03-01 23:59:59"), True),
          (ts("2026-02-28 23:59:59"), False), (None, False)], "eq-date-on-timestamp"),
    case(x("ne", "gold"), STRING, "string",
         [("gold", False), ("silver", True), ("", True), (None, False)], "ne-string"),
    case(x("ne", 0), DOUBLE, "number",
         [(0.0, False), (1.0, True), (None, False)], "ne-number"),
    case(x("ne", True), BOOLEAN, "boolean",
         [(True, False), (False, True), (None, False)], "ne-boolean"),
    case(x("ne", "2026-03-01"), DATE, "date",
         [(d("2026-03-01"), False), (d("2026-03-02"), True), (None, False)], "ne-date"),
    # -- lt / lte / gt / gte -----------------------------------------------------------------
    case(x("lt", 18), DOUBLE, "number",
         [(17.9, True), (18.0, False), (18.1, False), (-5.0, True), (None, False)], "lt-number"),
    case(x("lte", 18), DOUBLE, "number",
         [(17.9, True), (18.0, True), (18.1, False), (None, False)], "lte-number"),
    case(x("gt", 18), LONG, "number",
         [(18, False), (19, True), (None, False)], "gt-number-long"),
    case(x("gt", 17.5), LONG, "number",
         [(17, False), (18, True), (None, False)], "gt-fraction-on-long"),
    case(x("gte", 18), DOUBLE, "number",
         [(17.99, False), (18.0, True), (60.0, True), (None, False)], "gte-number"),
    case(x("lt", "m"), STRING, "string",
         [("apple", True), ("m", False), ("zebra", False), ("", True), (None, False)], "lt-string"),
    case(x("gte", "m"), STRING, "string",
         [("apple", False), ("m", True), ("mango", True), (None, False)], "gte-string"),
    case(x("lt", d("2026-03-01")), DATE, "date",
         [(d("2026-02-28"), True), (d("2026-03-01"), False), (None, False)], "lt-date"),
    case(x("lte", "2026-03-01"), DATE, "date",
         [(d("2026-03-01"), True), (d("2026-03-02"), False), (None, False)], "lte-date"),
    case(x("gt", "2026-03-01"), TIMESTAMP, "date",
         [(ts("2026-03-01 23:59:59"), False), (ts("2026-03-02 00:00:00"), True), (None, False)], "gt-date-on-timestamp"),
    case(x("gte", "2026-03-01"), TIMESTAMP_NTZ, "date",
         [(ntz("2026-02-28 23:59:59"), False), (ntz("2026-03-01 00:00:00"), True), (None, False)], "gte-date-on-timestamp-ntz"),
    # -- between (inclusive) -----------------------------------------------------------------
    case(x("between", [18, 60]), DOUBLE, "number",
         [(17.99, False), (18.0, True), (40.0, True), (60.0, True), (60.01, False), (None, False)], "between-number"),
    case(x("between", [5, 5]), LONG, "number",
         [(4, False), (5, True), (6, False)], "between-one-value"),
    case(x("between", ["b", "d"]), STRING, "string",
         [("a", False), ("b", True), ("c", True), ("d", True), ("da", False), (None, False)], "between-string"),
    case(x("between", ["2026-01-01", d("2026-01-31")]), DATE, "date",
         [(d("2025-12-31"), False), (d("2026-01-01"), True), (d("2026-01-31"), True),
          (d("2026-02-01"), False), (None, False)], "between-date"),
    case(x("between", ["2026-01-01", "2026-01-31"]), TIMESTAMP, "date",
         [(ts("2025-12-31 23:59:59"), False), (ts("2026-01-31 23:59:59"), True),
          (ts("2026-02-01 00:00:00"), False)], "between-date-on-timestamp"),
    # -- in / not_in -------------------------------------------------------------------------
    case(x("in", ["gold", "silver"]), STRING, "string",
         [("gold", True), ("silver", True), ("bronze", False), ("", False), (None, False)], "in-string"),
    case(x("in", [1, 2, 3]), LONG, "number",
         [(2, True), (4, False), (None, False)], "in-number"),
    case(x("in", [True]), BOOLEAN, "boolean",
         [(True, True), (False, False), (None, False)], "in-boolean"),
    case(x("in", ["2026-03-01", "2026-03-03"]), DATE, "date",
         [(d("2026-03-01"), True), (d("2026-03-02"), False), (None, False)], "in-date"),
    case(x("in", []), STRING, "string",
         [("gold", False), ("", False), (None, False)], "in-empty-list"),
    case(x("not_in", ["gold", "silver"]), STRING, "string",
         [("gold", False), ("bronze", True), ("", True), (None, False)], "not_in-string"),
    case(x("not_in", [1.5]), DOUBLE, "number",
         [(1.5, False), (2.0, True), (None, False)], "not_in-number"),
    case(x("not_in", []), STRING, "string",
         [("gold", True), (None, False)], "not_in-empty-list"),
    # -- is_null / not_null ------------------------------------------------------------------
    case(x("is_null"), STRING, "string",
         [(None, True), ("", False), ("x", False)], "is_null-string"),
    case(x("is_null"), DOUBLE, "number",
         [(None, True), (0.0, False)], "is_null-number"),
    case(x("is_null"), LIST, "list",
         [(None, True), ([], False), (["a"], False)], "is_null-list"),
    case(x("not_null"), BOOLEAN, "boolean",
         [(None, False), (False, True), (True, True)], "not_null-boolean"),
    case(x("not_null"), DATE, "date",
         [(None, False), (d("2026-03-01"), True)], "not_null-date"),
    case(x("not_null"), LIST, "list",
         [(None, False), ([], True)], "not_null-list"),
    # -- contains / starts_with / ends_with: literal text, never patterns --------------------
    case(x("contains", "old"), STRING, "string",
         [("gold", True), ("golden", True), ("GOLD", False), ("", False), (None, False)], "contains"),
    case(x("contains", "京"), STRING, "string",
         [("北京", True), ("南京市", True), ("上海", False)], "contains-unicode"),
    case(x("contains", "50%"), STRING, "string",
         [("50% off", True), ("500 off", False), ("5 off", False)], "contains-percent"),
    case(x("contains", "a_b"), STRING, "string",
         [("xa_by", True), ("axb", False), ("ab", False)], "contains-underscore"),
    case(x("contains", "it's"), STRING, "string",
         [("it's mine", True), ("its mine", False), ("it''s", False)], "contains-quote"),
    case(x("contains", 'say "hi"'), STRING, "string",
         [('they say "hi"', True), ("they say hi", False)], "contains-double-quote"),
    case(x("contains", "C:\\temp"), STRING, "string",
         [("C:\\temp\\a.txt", True), ("C:temp", False), ("C:\\\\temp", False)], "contains-backslash"),
    case(x("contains", "a.c"), STRING, "string",
         [("a.c", True), ("abc", False)], "contains-dot"),
    case(x("contains", "[ab]*"), STRING, "string",
         [("x[ab]*y", True), ("aab", False), ("", False)], "contains-regex-chars"),
    case(x("starts_with", "gold"), STRING, "string",
         [("golden", True), ("gold", True), ("Gold", False), ("rose gold", False), (None, False)], "starts_with"),
    case(x("starts_with", "%"), STRING, "string",
         [("%off", True), ("off", False), ("x%", False)], "starts_with-percent"),
    case(x("starts_with", "_"), STRING, "string",
         [("_id", True), ("aid", False)], "starts_with-underscore"),
    case(x("starts_with", "^a"), STRING, "string",
         [("^abc", True), ("abc", False)], "starts_with-caret"),
    case(x("starts_with", "\\"), STRING, "string",
         [("\\server", True), ("server", False)], "starts_with-backslash"),
    case(x("starts_with", "上"), STRING, "string",
         [("上海", True), ("海上", False)], "starts_with-unicode"),
    case(x("ends_with", ".com"), STRING, "string",
         [("a@x.com", True), ("a@xcom", False), ("a@x.com.cn", False), (None, False)], "ends_with"),
    case(x("ends_with", "$"), STRING, "string",
         [("100$", True), ("100", False)], "ends_with-dollar"),
    case(x("ends_with", "*"), STRING, "string",
         [("a*", True), ("ab", False)], "ends_with-star"),
    case(x("ends_with", "_%"), STRING, "string",
         [("rate_%", True), ("rate5%", False), ("rate_5", False)], "ends_with-like-chars"),
    case(x("ends_with", "'"), STRING, "string",
         [("rock'", True), ("rock", False)], "ends_with-quote"),
    case(x("ends_with", "市"), STRING, "string",
         [("上海市", True), ("上海", False)], "ends_with-unicode"),
    # -- matches: a regular expression, searched for anywhere unless anchored -----------------
    case(x("matches", r"^\d{3}-\d{4}$"), STRING, "string",
         [("555-1234", True), ("555-12345", False), ("x555-1234", False), (None, False)], "matches-anchored"),
    case(x("matches", "b+"), STRING, "string",
         [("abbc", True), ("ac", False)], "matches-unanchored"),
    case(x("matches", "^(gold|silver)$"), STRING, "string",
         [("gold", True), ("silver", True), ("golden", False)], "matches-alternation"),
    case(x("matches", "^北"), STRING, "string",
         [("北京", True), ("南京", False)], "matches-unicode"),
    case(x("matches", "(?i)^gold$"), STRING, "string",
         [("GOLD", True), ("Gold", True), ("golden", False)], "matches-case-insensitive"),
    # -- list fields: contains / has_any / has_all -------------------------------------------
    case(x("contains", "a"), LIST, "list",
         [(["a", "b"], True), (["ab"], False), ([], False), (None, False)], "contains-list"),
    case(x("contains", "%"), LIST, "list",
         [(["%"], True), (["50%"], False)], "contains-list-percent"),
    case(x("has_any", ["a", "b"]), LIST, "list",
         [(["b", "c"], True), (["a"], True), (["c"], False), ([], False), (None, False)], "has_any"),
    case(x("has_any", ["b"]), LIST, "list",
         [(["a", None], False), (["b", None], True)], "has_any-null-element"),
    case(x("has_any", ["it's", "北京"]), LIST, "list",
         [(["it's"], True), (["北京", "x"], True), (["its"], False)], "has_any-quote-unicode"),
    case(x("has_any", []), LIST, "list",
         [(["a"], False), ([], False), (None, False)], "has_any-empty-value"),
    case(x("has_all", ["a", "b"]), LIST, "list",
         [(["a", "b", "c"], True), (["b", "a"], True), (["a"], False), ([], False), (None, False)], "has_all"),
    case(x("has_all", []), LIST, "list",
         [(["a"], True), ([], True), (None, False)], "has_all-empty-value"),
    # -- within_last / before / after (run date 2026-03-15) ----------------------------------
    case(x("within_last", "7d"), DATE, "date",
         [(d("2026-03-15"), True), (d("2026-03-09"), True), (d("2026-03-08"), False),
          (d("2026-03-16"), False), (None, False)], "within_last-7d"),
    case(x("within_last", 7), DATE, "date",
         [(d("2026-03-09"), True), (d("2026-03-08"), False)], "within_last-7"),
    case(x("within_last", "1d"), DATE, "date",
         [(d("2026-03-15"), True), (d("2026-03-14"), False), (d("2026-03-16"), False)], "within_last-1d"),
    case(x("within_last", "30d"), DATE, "date",
         [(d("2026-02-14"), True), (d("2026-02-13"), False), (d("2026-03-01"), True)], "within_last-30d"),
    case(x("within_last", "7d"), TIMESTAMP, "date",
         [(ts("2026-03-09 00:00:00"), True), (ts("2026-03-08 23:59:59"), False),
          (ts("2026-03-15 23:59:59"), True), (ts("2026-03-16 00:00:00"), False), (None, False)], "within_last-timestamp"),
    case(x("within_last", "7d"), TIMESTAMP_NTZ, "date",
         [(ntz("2026-03-09 00:00:00"), True), (ntz("2026-03-08 23:59:59"), False)], "within_last-timestamp-ntz"),
    case(x("before", "30d"), DATE, "date",
         [(d("2026-02-12"), True), (d("2026-02-13"), False), (d("2026-02-14"), False), (None, False)], "before-30d"),
    case(x("before", "2026-01-01"), DATE, "date",
         [(d("2025-12-31"), True), (d("2026-01-01"), False), (None, False)], "before-date"),
    case(x("before", d("2026-01-01")), DATE, "date",
         [(d("2025-12-31"), True), (d("2026-01-01"), False)], "before-date-object"),
    case(x("before", "30d"), TIMESTAMP, "date",
         [(ts("2026-02-12 23:59:59"), True), (ts("2026-02-13 00:00:00"), False), (None, False)], "before-timestamp"),
    case(x("after", "30d"), DATE, "date",
         [(d("2026-02-14"), True), (d("2026-02-13"), False), (d("2026-03-20"), True), (None, False)], "after-30d"),
    case(x("after", d("2026-01-01")), DATE, "date",
         [(d("2026-01-02"), True), (d("2026-01-01"), False), (None, False)], "after-date"),
    case(x("after", "2026-01-01"), TIMESTAMP, "date",
         [(ts("2026-01-01 23:59:59"), False), (ts("2026-01-02 00:00:00"), True), (None, False)], "after-timestamp"),
    # -- not of a single leaf ------------------------------------------------------------------
    case({"not": x("gte", 18)}, DOUBLE, "number",
         [(20.0, False), (10.0, True), (None, True)], "not-gte"),
    case({"not": x("ne", "x")}, STRING, "string",
         [("x", True), ("y", False), (None, True)], "not-ne"),
    case({"not": x("is_null")}, STRING, "string",
         [("x", True), (None, False)], "not-is_null"),
    case({"not": x("has_any", ["b"])}, LIST, "list",
         [(["a", None], True), (["b"], False), (None, True)], "not-has_any"),
    case({"not": {"not": x("gte", 18)}}, DOUBLE, "number",
         [(20.0, True), (10.0, False), (None, False)], "not-not"),
    # -- query-builder leaves: values arrive as text ----------------------------------------
    case(qb(">=", "18"), DOUBLE, "number",
         [(18.0, True), (17.5, False), (None, False)], "qb-gte-text-number"),
    case(qb("=", "18.5"), DOUBLE, "number",
         [(18.5, True), (18.0, False)], "qb-eq-text-fraction"),
    case(qb("<", 18), LONG, "number",
         [(17, True), (18, False)], "qb-lt-number"),
    case(qb("=", "true"), BOOLEAN, "boolean",
         [(True, True), (False, False), (None, False)], "qb-eq-text-true"),
    case(qb("!=", "false"), BOOLEAN, "boolean",
         [(True, True), (False, False), (None, False)], "qb-ne-text-false"),
    case(qb("=", 18), STRING, "string",
         [("18", True), ("18.0", False)], "qb-eq-number-on-string"),
    case(qb("between", "18, 60"), DOUBLE, "number",
         [(17.0, False), (18.0, True), (60.0, True), (61.0, False), (None, False)], "qb-between-text"),
    case(qb("between", ["18", "60"]), LONG, "number",
         [(18, True), (61, False)], "qb-between-list-of-text"),
    case(qb("notBetween", "18,60"), DOUBLE, "number",
         [(10.0, True), (30.0, False), (None, True)], "qb-notBetween"),
    case(qb("in", "gold, silver"), STRING, "string",
         [("silver", True), ("gold", True), ("bronze", False), (" gold", False), (None, False)], "qb-in-text"),
    case(qb("in", "1,2"), LONG, "number",
         [(1, True), (3, False)], "qb-in-text-numbers"),
    case(qb("notIn", "gold,silver"), STRING, "string",
         [("bronze", True), ("gold", False), (None, False)], "qb-notIn"),
    case(qb("beginsWith", "go"), STRING, "string",
         [("gold", True), ("ego", False), (None, False)], "qb-beginsWith"),
    case(qb("doesNotBeginWith", "go"), STRING, "string",
         [("gold", False), ("ego", True), (None, True)], "qb-doesNotBeginWith"),
    case(qb("endsWith", "%"), STRING, "string",
         [("5%", True), ("5", False)], "qb-endsWith"),
    case(qb("doesNotEndWith", "x"), STRING, "string",
         [("box", False), ("boy", True)], "qb-doesNotEndWith"),
    case(qb("contains", "_"), STRING, "string",
         [("a_b", True), ("ab", False)], "qb-contains"),
    case(qb("doesNotContain", "old"), STRING, "string",
         [("gold", False), ("silver", True), (None, True)], "qb-doesNotContain"),
    case(qb("null", ""), STRING, "string",
         [(None, True), ("x", False)], "qb-null"),
    case(qb("notNull", ""), DOUBLE, "number",
         [(None, False), (0.0, True)], "qb-notNull"),
    case(qb("<", "2026-03-01"), DATE, "date",
         [(d("2026-02-28"), True), (d("2026-03-01"), False), (None, False)], "qb-lt-text-date"),
    case(qb("within_last", "7d"), TIMESTAMP, "date",
         [(ts("2026-03-09 08:00:00"), True), (ts("2026-03-08 08:00:00"), False)], "qb-within_last"),
    case(qb("has_any", "vip, new"), LIST, "list",
         [(["new"], True), (["old"], False), (None, False)], "qb-has_any-text"),
    case(qb("contains", "vip"), LIST, "list",
         [(["vip"], True), (["vipx"], False)], "qb-contains-list"),
    case(qb(">", "18", negate=True), DOUBLE, "number",
         [(20.0, False), (18.0, True), (None, True)], "qb-not-group"),
]


@pytest.mark.parametrize("rule, data_type, kind, rows", CASES)
def test_operator(spark, rule, data_type, kind, rows):
    df = compiled(spark, rule, x_schema(data_type), rows, {"x": kind})
    chispa.assert_column_equality(df, "result", "expected")


# -- groups over several fields ----------------------------------------------------------------

PEOPLE = T.StructType(
    [
        T.StructField("age", T.DoubleType(), True),
        T.StructField("city", T.StringType(), True),
        T.StructField("tags", T.ArrayType(T.StringType()), True),
        T.StructField("expected", T.BooleanType(), False),
    ]
)
PEOPLE_KINDS = {"age": "number", "city": "string", "tags": "list"}

ADULT = {"field": "age", "op": "gte", "value": 18}
SHANGHAI = {"field": "city", "op": "eq", "value": "上海"}
VIP = {"field": "tags", "op": "has_any", "value": ["vip"]}

GROUP_CASES = [
    pytest.param(
        {"all": [ADULT, SHANGHAI]},
        [(20.0, "上海", None, True), (20.0, "北京", None, False), (10.0, "上海", None, False),
         (None, "上海", None, False), (20.0, None, None, False)],
        id="all",
    ),
    pytest.param(
        {"any": [{"field": "age", "op": "lt", "value": 18}, SHANGHAI]},
        [(10.0, "北京", None, True), (20.0, "上海", None, True), (20.0, "北京", None, False),
         (None, "上海", None, True), (None, None, None, False)],
        id="any",
    ),
    pytest.param(
        {"all": [ADULT, SHANGHAI, VIP]},
        [(30.0, "上海", ["vip"], True), (30.0, "上海", ["x"], False), (30.0, "上海", None, False)],
        id="all-of-three",
    ),
    pytest.param(
        {"not": {"all": [ADULT, SHANGHAI]}},
        [(20.0, "上海", None, False), (20.0, None, None, True), (None, None, None, True)],
        id="not-all-with-null",
    ),
    pytest.param(
        {"not": {"any": [ADULT, SHANGHAI]}},
        [(10.0, "北京", None, True), (20.0, "北京", None, False), (None, None, None, True)],
        id="not-any-with-null",
    ),
    pytest.param(
        {"any": [{"all": [ADULT, VIP]}, {"not": {"field": "city", "op": "in", "value": ["上海", "北京"]}}]},
        [(20.0, "上海", ["vip"], True), (20.0, "上海", [], False), (10.0, "广州", None, True),
         (10.0, "北京", ["vip"], False), (None, None, None, True)],
        id="nested",
    ),
    pytest.param(
        '{"combinator": "or", "not": false, "rules": ['
        '{"field": "age", "operator": "<", "value": "18"},'
        '{"combinator": "and", "rules": [{"field": "city", "operator": "=", "value": "上海"},'
        '{"field": "tags", "operator": "has_all", "value": "vip,new"}]}]}',
        [(10.0, None, None, True), (30.0, "上海", ["new", "vip"], True), (30.0, "上海", ["vip"], False),
         (None, "北京", ["vip", "new"], False)],
        id="query-builder-json-text",
    ),
]


@pytest.mark.parametrize("rule, rows", GROUP_CASES)
def test_group(spark, rule, rows):
    df = compiled(spark, rule, PEOPLE, rows, PEOPLE_KINDS)
    chispa.assert_column_equality(df, "result", "expected")


# -- compile-time problems -------------------------------------------------------------------


def test_unknown_field_is_a_config_error(spark):
    tree = RuleParser().parse({"all": [ADULT, {"field": "town", "op": "eq", "value": "x"}]}, "labels[0].values[1].when")
    fields = {"age": Field(F.col("age"), "number")}
    with pytest.raises(ConfigError) as caught:
        RuleCompiler(fields, RUN_DATE, "labelspark.yaml").compile(tree)
    [problem] = caught.value.problems
    assert problem.path == "labels[0].values[1].when.all[1]"
    assert problem.message == "unknown field 'town'"


def test_bad_value_is_a_config_error(spark):
    tree = RuleParser().parse({"any": [ADULT, {"field": "age", "op": "between", "value": [60, 18]}]}, "segments[0].when")
    with pytest.raises(ConfigError) as caught:
        RuleCompiler({"age": Field(F.col("age"), "number")}, RUN_DATE).compile(tree)
    [problem] = caught.value.problems
    assert problem.path == "segments[0].when.any[1]"
    assert "low <= high" in problem.message
    assert caught.value.exit_code == 2


# -- the operator table ----------------------------------------------------------------------


def test_every_operator_has_a_spark_builder():
    assert sorted(BUILDERS) == sorted(OPERATORS)


def test_an_operator_without_a_builder_fails_by_name(spark):
    with pytest.raises(NotImplementedError, match="operator 'sounds_like' has no Spark Column builder"):
        builder_of("sounds_like")(F.col("x"), "smith", "string", RUN_DATE)
