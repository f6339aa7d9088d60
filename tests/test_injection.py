"""Rule values are data, never code (issue 7; contract §2 Rules: "values are literals").

For each attack-shaped value, a config whose labels test a string field `x` and a list field
`xs` with every string operator (eq, ne, in, not_in, contains, starts_with, ends_with,
matches with the value escaped by hand, and contains/has_any/has_all on the list), each rule
given in the YAML form and as query-builder JSON text. The config is written to a file and
read with `load_project`, as a user's config is, in three encodings: YAML with raw unicode,
YAML with escapes only (`\\U0001F389`, `\\0`), and the whole config as JSON (JSON is YAML).
Each label's rule tree is compiled with `RuleCompiler` and evaluated over rows holding the
value itself, near misses (a character changed or dropped, the value with its escapes
interpreted, what the value would match as a LIKE or regex pattern, what an injected SQL
statement would leave or match), the value inside longer text, and nulls.

The expected booleans are written by hand, per row: `ROW(text, eq, contains, starts, ends)`.
The other operators follow from those by their definitions in the contract: `ne` and `not_in`
are true where the field is not null and not equal, `in [v]` is `eq`, `matches ^escaped$` is
`eq`, `matches escaped` (unanchored) is `contains`. List rows are the same for every value:
the list holds the value as an element, or it does not.
"""
from __future__ import annotations

import datetime as dt
import json
from dataclasses import dataclass

import pytest
import yaml
from pyspark.sql import functions as F
from pyspark.sql import types as T

from labelspark.config import load_project
from labelspark.errors import ConfigError
from labelspark.rules import RuleParser
from labelspark.rules.spark import Field, RuleCompiler

pytestmark = pytest.mark.portable

RUN_DATE = dt.date(2026, 3, 15)


@dataclass(frozen=True)
class Row:
    text: str
    eq: bool
    contains: bool
    starts: bool
    ends: bool


def ROW(text: str, eq: bool, contains: bool, starts: bool, ends: bool) -> Row:
    return Row(text, eq, contains, starts, ends)


T_, F_ = True, False


@dataclass(frozen=True)
class Attack:
    value: str
    regex: str  # the value as a regular expression matching itself literally, escaped by hand
    near: str  # a near miss, used as a list element
    rows: tuple[Row, ...]


LONG = "0123456789" * 1000  # 10,000 characters
FAMILY = "\U0001F468\u200d\U0001F469\u200d\U0001F467"  # man ZWJ woman ZWJ girl: one glyph, five code points
PARTY = "\U0001F389"
RTL = "\u202eabc\u202c \u05e9\u05dc\u05d5\u05dd"  # RIGHT-TO-LEFT OVERRIDE abc POP, then Hebrew "shalom"

ATTACKS = {
    "sql-drop-table": Attack(
        "'; DROP TABLE x; --", "'; DROP TABLE x; --", "'; DROP TABLE y; --",
        (
            ROW("'; DROP TABLE x; --", T_, T_, T_, T_),
            ROW("'; DROP TABLE x; -", F_, F_, F_, F_),  # last character dropped
            ROW("'; DROP TABLE y; --", F_, F_, F_, F_),  # one character changed
            ROW("'; drop table x; --", F_, F_, F_, F_),
            ROW("x", F_, F_, F_, F_),  # the table the statement names
            ROW("'", F_, F_, F_, F_),
            ROW("", F_, F_, F_, F_),
            ROW("note: '; DROP TABLE x; -- done", F_, T_, F_, F_),
            ROW("''; DROP TABLE x; --", F_, T_, F_, T_),  # the quote doubled, as SQL escaping would
        ),
    ),
    "sql-or-1-1": Attack(
        "' OR '1'='1", "' OR '1'='1", "' OR '1'='2",
        (
            ROW("' OR '1'='1", T_, T_, T_, T_),
            ROW("' OR '1'='2", F_, F_, F_, F_),
            ROW("' or '1'='1", F_, F_, F_, F_),
            ROW("anything", F_, F_, F_, F_),  # OR '1'='1' would match every row
            ROW("1", F_, F_, F_, F_),
            ROW("", F_, F_, F_, F_),
            ROW("x' OR '1'='1", F_, T_, F_, T_),
            ROW("' OR '1'='1'", F_, T_, T_, F_),
        ),
    ),
    "double-quote-or": Attack(
        '" OR 1=1 --', '" OR 1=1 --', '" OR 1=2 --',
        (
            ROW('" OR 1=1 --', T_, T_, T_, T_),
            ROW('" OR 1=2 --', F_, F_, F_, F_),
            ROW("' OR 1=1 --", F_, F_, F_, F_),  # the other quote
            ROW("anything", F_, F_, F_, F_),
            ROW('\\" OR 1=1 --', F_, T_, F_, T_),  # the quote backslash-escaped
            ROW('" OR 1=1 -- and more', F_, T_, T_, F_),
        ),
    ),
    "backslash-quote": Attack(
        "\\' OR 1=1 --", r"\\' OR 1=1 --", "/' OR 1=1 --",
        (
            ROW("\\' OR 1=1 --", T_, T_, T_, T_),
            ROW("' OR 1=1 --", F_, F_, F_, F_),  # the backslash taken as an escape
            ROW("\\", F_, F_, F_, F_),
            ROW("anything", F_, F_, F_, F_),
            ROW("\\\\' OR 1=1 --", F_, T_, F_, T_),  # two backslashes
        ),
    ),
    "backslash": Attack(
        "a\\b", r"a\\b", "a/b",
        (
            ROW("a\\b", T_, T_, T_, T_),
            ROW("ab", F_, F_, F_, F_),  # the backslash swallowed
            ROW("a\\\\b", F_, F_, F_, F_),  # the backslash doubled
            ROW("a\x08", F_, F_, F_, F_),  # `\b` read as a backspace
            ROW("a", F_, F_, F_, F_),  # the regex `a\b` (a at a word boundary) matches this
            ROW("A\\B", F_, F_, F_, F_),
            ROW("xa\\by", F_, T_, F_, F_),
            ROW("a\\bc", F_, T_, T_, F_),
        ),
    ),
    "percent": Attack(
        "%", "%", "&",
        (
            ROW("%", T_, T_, T_, T_),
            ROW("", F_, F_, F_, F_),  # LIKE '%' matches the empty string ...
            ROW("anything", F_, F_, F_, F_),  # ... and everything else
            ROW("\\%", F_, T_, F_, T_),
            ROW("50%", F_, T_, F_, T_),
            ROW("%off", F_, T_, T_, F_),
            ROW("%%", F_, T_, T_, T_),
        ),
    ),
    "underscore": Attack(
        "_", "_", "-",
        (
            ROW("_", T_, T_, T_, T_),
            ROW("a", F_, F_, F_, F_),  # LIKE '_' matches any one character
            ROW("-", F_, F_, F_, F_),
            ROW("", F_, F_, F_, F_),
            ROW("a_b", F_, T_, F_, F_),
            ROW("__", F_, T_, T_, T_),
        ),
    ),
    "dot-star": Attack(
        ".*", r"\.\*", "..",
        (
            ROW(".*", T_, T_, T_, T_),
            ROW("anything", F_, F_, F_, F_),  # the regex .* matches everything
            ROW("", F_, F_, F_, F_),
            ROW(".", F_, F_, F_, F_),
            ROW("*", F_, F_, F_, F_),
            ROW("..", F_, F_, F_, F_),
            ROW("a.*b", F_, T_, F_, F_),
            ROW(".*.*", F_, T_, T_, T_),
        ),
    ),
    "character-class": Attack(
        "[a-z]+", r"\[a-z\]\+", "[a-z]*",
        (
            ROW("[a-z]+", T_, T_, T_, T_),
            ROW("abc", F_, F_, F_, F_),  # what the pattern matches
            ROW("a", F_, F_, F_, F_),
            ROW("[a-z]", F_, F_, F_, F_),
            ROW("[A-Z]+", F_, F_, F_, F_),
            ROW("[a-z]+[0-9]+", F_, T_, T_, F_),
            ROW("x[a-z]+", F_, T_, F_, T_),
        ),
    ),
    "inline-flag": Attack(
        "(?i)", r"\(\?i\)", "(?I)",
        (
            ROW("(?i)", T_, T_, T_, T_),
            ROW("", F_, F_, F_, F_),  # the pattern (?i) matches the empty string
            ROW("anything", F_, F_, F_, F_),
            ROW("(?I)", F_, F_, F_, F_),
            ROW("(i)", F_, F_, F_, F_),
            ROW("(?i)abc", F_, T_, T_, F_),
        ),
    ),
    "dollar": Attack(
        "$", r"\$", "S",
        (
            ROW("$", T_, T_, T_, T_),
            ROW("", F_, F_, F_, F_),  # the pattern $ matches every string
            ROW("abc", F_, F_, F_, F_),
            ROW("S", F_, F_, F_, F_),
            ROW("100$", F_, T_, F_, T_),
            ROW("$100", F_, T_, T_, F_),
            ROW("$$", F_, T_, T_, T_),
        ),
    ),
    "caret": Attack(
        "^", r"\^", "\u02c6",
        (
            ROW("^", T_, T_, T_, T_),
            ROW("", F_, F_, F_, F_),  # the pattern ^ matches every string
            ROW("abc", F_, F_, F_, F_),
            ROW("\u02c6", F_, F_, F_, F_),  # MODIFIER LETTER CIRCUMFLEX ACCENT
            ROW("^abc", F_, T_, T_, F_),
            ROW("a^", F_, T_, F_, T_),
        ),
    ),
    "emoji": Attack(
        PARTY + FAMILY, PARTY + FAMILY, "\U0001F38A" + FAMILY,
        (
            ROW(PARTY + FAMILY, T_, T_, T_, T_),
            ROW(PARTY, F_, F_, F_, F_),
            ROW(PARTY + "\U0001F468\u200d\U0001F469", F_, F_, F_, F_),  # the last person dropped
            ROW(PARTY + "\U0001F468\U0001F469\U0001F467", F_, F_, F_, F_),  # without the joiners
            ROW("\U0001F38A" + FAMILY, F_, F_, F_, F_),  # another emoji first
            ROW("?", F_, F_, F_, F_),  # what a lossy encoding leaves
            ROW("x" + PARTY + FAMILY + "y", F_, T_, F_, F_),
            ROW(PARTY + FAMILY + PARTY, F_, T_, T_, F_),
        ),
    ),
    "right-to-left": Attack(
        RTL, RTL, "\u202dabc\u202c \u05e9\u05dc\u05d5\u05dd",
        (
            ROW(RTL, T_, T_, T_, T_),
            ROW("abc \u05e9\u05dc\u05d5\u05dd", F_, F_, F_, F_),  # without the direction controls
            ROW("\u202dabc\u202c \u05e9\u05dc\u05d5\u05dd", F_, F_, F_, F_),  # LEFT-TO-RIGHT OVERRIDE instead
            ROW("\u202eabc\u202c \u05e9\u05dc\u05d5\u05e1", F_, F_, F_, F_),  # the last letter changed
            ROW("x" + RTL, F_, T_, F_, T_),
            ROW(RTL + "!", F_, T_, T_, F_),
        ),
    ),
    "combining-mark": Attack(
        "e\u0301", "e\u0301", "\u00e9",
        (
            ROW("e\u0301", T_, T_, T_, T_),
            ROW("\u00e9", F_, F_, F_, F_),  # the same letter precomposed (NFC): another string
            ROW("e", F_, F_, F_, F_),
            ROW("\u0301", F_, F_, F_, F_),
            ROW("e\u0301\u0301", F_, T_, T_, F_),
            ROW("cafe\u0301", F_, T_, F_, T_),
        ),
    ),
    "nul": Attack(
        "a\x00b", r"a\x00b", "a\x00c",
        (
            ROW("a\x00b", T_, T_, T_, T_),
            ROW("a", F_, F_, F_, F_),  # cut at the NUL, as C strings are
            ROW("ab", F_, F_, F_, F_),  # the NUL dropped
            ROW("a\x00c", F_, F_, F_, F_),
            ROW("a\\0b", F_, F_, F_, F_),  # its escape as text
            ROW("xa\x00by", F_, T_, F_, F_),
            ROW("a\x00b\x00", F_, T_, T_, F_),
        ),
    ),
    "ten-thousand-characters": Attack(
        LONG, LONG, LONG[:5000] + "X" + LONG[5001:],
        (
            ROW(LONG, T_, T_, T_, T_),
            ROW(LONG[:-1], F_, F_, F_, F_),
            ROW(LONG[:5000] + "X" + LONG[5001:], F_, F_, F_, F_),
            ROW(LONG[:1000], F_, F_, F_, F_),
            ROW(LONG + "!", F_, T_, T_, F_),
            ROW("!" + LONG, F_, T_, F_, T_),
            ROW(LONG + LONG, F_, T_, T_, T_),
        ),
    ),
    "in-list-breakout": Attack(
        "x', 'y", "x', 'y", "x', 'z",
        (
            ROW("x', 'y", T_, T_, T_, T_),
            ROW("x", F_, F_, F_, F_),  # IN ('x', 'y') would match these two
            ROW("y", F_, F_, F_, F_),
            ROW("x'", F_, F_, F_, F_),
            ROW("'y", F_, F_, F_, F_),
            ROW("x', 'y', 'z", F_, T_, T_, F_),
        ),
    ),
    "column-name": Attack(
        "x", "x", "y",
        (
            ROW("x", T_, T_, T_, T_),  # `x = x` would hold on every row
            ROW("y", F_, F_, F_, F_),
            ROW("X", F_, F_, F_, F_),
            ROW("", F_, F_, F_, F_),
            ROW("xx", F_, T_, T_, T_),
        ),
    ),
    "null-text": Attack(
        "NULL", "NULL", "NUL",
        (
            ROW("NULL", T_, T_, T_, T_),  # the text, not a null: the null row never matches
            ROW("null", F_, F_, F_, F_),
            ROW("None", F_, F_, F_, F_),
            ROW("", F_, F_, F_, F_),
            ROW("NULLS", F_, T_, T_, F_),
        ),
    ),
}


def list_rows(attack: Attack) -> list[tuple[list | None, bool]]:
    """(xs, holds the value as an element): the same shapes for every value."""
    v, near = attack.value, attack.near
    return [
        ([v], True),
        ([v, "other"], True),
        (["other", v], True),
        ([None, v], True),
        ([near], False),
        (["<" + v + ">"], False),  # an element that only contains the value
        ([v[:-1]], False),
        ([None, "other"], False),
        ([], False),
        (None, False),
    ]


# -- the rules under test ----------------------------------------------------------------------------

# label suffix -> (field, operator in the YAML form, operator in query-builder JSON, value shape)
OPERATORS = {
    "eq": ("x", "eq", "=", "scalar"),
    "ne": ("x", "ne", "!=", "scalar"),
    "in": ("x", "in", "in", "list"),
    "not_in": ("x", "not_in", "notIn", "list"),
    "contains": ("x", "contains", "contains", "scalar"),
    "starts_with": ("x", "starts_with", "beginsWith", "scalar"),
    "ends_with": ("x", "ends_with", "endsWith", "scalar"),
    "matches_anchored": ("x", "matches", "matches", "anchored"),
    "matches_anywhere": ("x", "matches", "matches", "regex"),
    "list_contains": ("xs", "contains", "contains", "scalar"),
    "list_has_any": ("xs", "has_any", "has_any", "list"),
    "list_has_all": ("xs", "has_all", "has_all", "list"),
}


def expected(suffix: str, x: str | None, xs: list | None, row: Row | None, holds: bool) -> bool:
    """A rule's outcome on one row, from the hand-written booleans of that row."""
    if suffix.startswith("list_"):
        return xs is not None and holds
    if x is None:
        return False
    return {
        "eq": row.eq,
        "ne": not row.eq,
        "in": row.eq,
        "not_in": not row.eq,
        "contains": row.contains,
        "starts_with": row.starts,
        "ends_with": row.ends,
        "matches_anchored": row.eq,
        "matches_anywhere": row.contains,
    }[suffix]


def rule_value(attack: Attack, shape: str):
    if shape == "scalar":
        return attack.value
    if shape == "list":
        return [attack.value]
    if shape == "anchored":
        return "^" + attack.regex + "$"
    return attack.regex


def yaml_rule(suffix: str, attack: Attack) -> dict:
    field, op, _, shape = OPERATORS[suffix]
    return {"field": field, "op": op, "value": rule_value(attack, shape)}


def query_builder_rule(suffix: str, attack: Attack) -> str:
    """As a query-builder UI stores it: JSON text, every value a string. A list value is
    comma-separated text, so a value with a comma goes as a JSON array."""
    field, _, operator, shape = OPERATORS[suffix]
    value = rule_value(attack, shape)
    if shape == "list" and "," not in attack.value:
        value = attack.value
    rule = {"combinator": "and", "not": False, "rules": [{"field": field, "operator": operator, "value": value}]}
    return json.dumps(rule)  # ASCII only: astral characters become surrogate-pair escapes


def config(attack: Attack) -> dict:
    labels = []
    for suffix in OPERATORS:
        for form, rule in (("yaml", yaml_rule(suffix, attack)), ("qb", query_builder_rule(suffix, attack))):
            labels.append({"id": f"{suffix}_{form}", "type": "boolean", "method": "rules",
                           "values": [{"value": True, "when": rule}]})
    return {
        "version": 1,
        "name": "injection",
        "entity": {"key": "member_id"},
        "sources": {"s": {"format": "parquet", "path": "data/s", "key": "member_id"}},
        "indicators": {
            "x": {"source": "s", "column": "x", "type": "string"},
            "xs": {"source": "s", "agg": "collect_set", "of": "x"},
        },
        "labels": labels,
        "outputs": {"warehouse": "warehouse"},
    }


ENCODINGS = {
    "yaml": lambda document: yaml.safe_dump(document, allow_unicode=True, sort_keys=False, width=1 << 20),
    "yaml-escaped": lambda document: yaml.safe_dump(document, allow_unicode=False, sort_keys=False, width=1 << 20),
    "json": lambda document: json.dumps(document, indent=1),  # a JSON document is YAML
}

SCHEMA = T.StructType([
    T.StructField("id", T.IntegerType(), False),
    T.StructField("x", T.StringType(), True),
    T.StructField("xs", T.ArrayType(T.StringType(), True), True),
])


def fields() -> dict[str, Field]:
    return {"x": Field(F.col("x"), "string"), "xs": Field(F.col("xs"), "list")}


def describe(text) -> str:
    shown = repr(text)
    return shown if len(shown) <= 60 else f"{shown[:40]}...({len(text)} chars)"


@pytest.mark.parametrize("encoding", list(ENCODINGS))
@pytest.mark.parametrize("name", list(ATTACKS))
def test_rule_values_match_only_themselves(spark, tmp_path, name, encoding):
    attack = ATTACKS[name]
    path = tmp_path / "labelspark.yaml"
    path.write_text(ENCODINGS[encoding](config(attack)), encoding="utf-8")
    project = load_project(path)

    # rows: the hand-labelled strings, then the lists, then a row of nulls
    cases = [(row.text, None, row, False) for row in attack.rows]
    cases += [(None, xs, None, holds) for xs, holds in list_rows(attack)]
    cases += [(None, None, None, False)]
    df = spark.createDataFrame([(i, x, xs) for i, (x, xs, _, _) in enumerate(cases)], SCHEMA)

    compiler = RuleCompiler(fields(), RUN_DATE, str(path))
    labels = [label.id for label in project.labels]
    results = df.select("id", *[compiler.compile(project.label_rules[label][0]).alias(label) for label in labels])
    got = {row["id"]: row for row in results.collect()}

    wrong = []
    for i, (x, xs, row, holds) in enumerate(cases):
        for label in labels:
            want = expected(label.rsplit("_", 1)[0], x, xs, row, holds)
            if got[i][label] is not want:
                wrong.append(f"{label}: x={describe(x)} xs={describe(xs)} -> {got[i][label]}, expected {want}")
    assert not wrong, f"{len(wrong)} wrong outcomes:\n" + "\n".join(wrong)


def test_attack_tables_are_consistent():
    """Each table's first row is the value itself; every other row differs from it."""
    for name, attack in ATTACKS.items():
        texts = [row.text for row in attack.rows]
        assert texts[0] == attack.value and attack.rows[0] == ROW(attack.value, T_, T_, T_, T_), name
        assert len(set(texts)) == len(texts), name
        assert [row.eq for row in attack.rows].count(True) == 1, name
        assert attack.near != attack.value, name
    assert len(LONG) == 10_000


# -- matches: a regular expression, and only there ------------------------------------------------

MATCHES_CONFIG = """\
version: 1
name: regex
entity:
  key: member_id
sources:
  s: {{format: parquet, path: data/s, key: member_id}}
indicators:
  x: {{source: s, column: x, type: string}}
labels:
  - id: fine
    type: boolean
    method: rules
    values:
      - {{value: true, when: {{field: x, op: eq, value: ok}}}}
  - id: pattern
    type: boolean
    method: rules
    values:
      - {{value: true, when: {{field: x, op: contains, value: ok}}}}
      - value: false
        when: {rule}
outputs:
  warehouse: warehouse
"""
RULE_LINE = 21  # the line of `when: {rule}` above


@pytest.mark.parametrize(
    "pattern",
    ["[a-z", "(", "a)", "*a", "a**", "(?P<", "\\", "a{2,1}", "[z-a]", "(?<=a+)b"],
)
@pytest.mark.parametrize("form", ["yaml", "qb"])
def test_invalid_regex_in_matches_is_a_located_config_error(write_config, pattern, form):
    if form == "yaml":
        rule, path = json.dumps({"field": "x", "op": "matches", "value": pattern}), "labels[1].values[1].when"
    else:
        qb = {"combinator": "and", "rules": [{"field": "x", "operator": "matches", "value": pattern}]}
        rule, path = json.dumps(json.dumps(qb)), "labels[1].values[1].when.rules[0]"
    config = write_config(MATCHES_CONFIG.format(rule=rule))
    assert config.read_text(encoding="utf-8").splitlines()[RULE_LINE - 1].strip().startswith("when:")
    with pytest.raises(ConfigError) as caught:
        load_project(config)
    [problem] = caught.value.problems
    assert problem.path == path
    assert problem.line == RULE_LINE
    assert "regular expression" in problem.message and pattern in problem.message
    assert caught.value.exit_code == 2


def test_the_matches_config_is_valid_with_a_valid_regex(write_config):
    project = load_project(write_config(MATCHES_CONFIG.format(rule='{field: x, op: matches, value: "^ok$"}')))
    assert [label.id for label in project.labels] == ["fine", "pattern"]


def matches_rows(spark, rule, rows: list[tuple[str | None, bool]]):
    parser = RuleParser()
    tree = parser.parse(rule, "when")
    assert parser.problems == []
    df = spark.createDataFrame([(x, want) for x, want in rows], "x string, expected boolean")
    return df.withColumn("result", RuleCompiler(fields(), RUN_DATE).compile(tree))


REGEX_CASES = [
    # pattern, [(x, matches)], and contains/starts_with/ends_with of the same text never match as a pattern
    ("[a-z]+", [("abc", True), ("ABC", False), ("123", False), ("[-]+", False), ("", False), (None, False)]),
    ("^a.c$", [("abc", True), ("a.c", True), ("ac", False), ("abbc", False), (None, False)]),
    ("(?i)^gold$", [("GOLD", True), ("gold", True), ("golden", False)]),
    (".*", [("anything", True), ("", True), (None, False)]),
    ("^$", [("", True), ("a", False), (None, False)]),
    ("a|b", [("xbx", True), ("c", False), ("a|b", True)]),
    ("^\\d{3}$", [("123", True), ("12a", False), ("1234", False)]),
    ("^' OR '1'='1$", [("' OR '1'='1", True), ("anything", False), ("' OR '1'='2", False)]),
]


@pytest.mark.parametrize("form", ["yaml", "qb"])
@pytest.mark.parametrize("pattern, rows", REGEX_CASES, ids=[case[0] for case in REGEX_CASES])
def test_matches_takes_a_regex(spark, form, pattern, rows):
    if form == "yaml":
        rule = {"field": "x", "op": "matches", "value": pattern}
    else:
        rule = json.dumps({"combinator": "and", "rules": [{"field": "x", "operator": "matches", "value": pattern}]})
    found = matches_rows(spark, rule, rows).collect()
    assert [(r.x, r.result) for r in found] == [(r.x, r.expected) for r in found]


@pytest.mark.parametrize("op", ["contains", "starts_with", "ends_with", "eq"])
def test_the_other_operators_take_a_regex_as_text(spark, op):
    rows = [("abc", False), ("[a-z]+", True), ("", False), (None, False)]
    found = matches_rows(spark, {"field": "x", "op": op, "value": "[a-z]+"}, rows).collect()
    assert [(r.x, r.result) for r in found] == [(r.x, r.expected) for r in found]


# Patterns Python's `re` accepts (so `validate` does), written in syntax that not every
# engine's regex dialect has (Sail: Rust `regex`; classic Spark: java.util.regex). Whatever
# the engine, such a rule is either a config error or matches as the pattern says.
DIALECT_CASES = {
    "lookahead": ("a(?=b)", [("ab", True), ("aab", True), ("a", False), ("ba", False)]),
    "lookbehind": ("(?<=a)b", [("ab", True), ("b", False), ("cb", False)]),
    "backreference": ("^(a|b)\\1$", [("aa", True), ("bb", True), ("ab", False)]),
    "python-named-group": ("^(?P<first>a)b$", [("ab", True), ("b", False), ("a", False)]),
    "atomic-group": ("^(?>a+)b$", [("aab", True), ("b", False)]),
    "string-anchors": ("\\Aab\\Z", [("ab", True), ("abc", False), ("xab", False)]),
    "open-lower-bound": ("^a{,2}b$", [("b", True), ("ab", True), ("aab", True), ("aaab", False), ("a{,2}b", False)]),
    "named-character": ("^caf\\N{LATIN SMALL LETTER E WITH ACUTE}$", [("caf\u00e9", True), ("cafe", False)]),
}


@pytest.mark.parametrize("name", list(DIALECT_CASES))
def test_a_regex_that_validates_runs_on_the_engine(spark, write_config, name):
    pattern, rows = DIALECT_CASES[name]
    config = write_config(MATCHES_CONFIG.format(rule=json.dumps({"field": "x", "op": "matches", "value": pattern})))
    try:
        project = load_project(config)
    except ConfigError as exc:  # rejected up front, with its location: fine
        [problem] = exc.problems
        assert problem.path == "labels[1].values[1].when" and problem.line == RULE_LINE
        return
    tree = project.label_rules["pattern"][1]
    df = spark.createDataFrame(rows, "x string, expected boolean")
    result = df.withColumn("result", RuleCompiler(fields(), RUN_DATE, str(config)).compile(tree))
    assert [(r.x, r.result) for r in result.collect()] == rows


# -- values that are not text: numbers and dates from a UI ------------------------------------------

TYPED_CONFIG = """\
version: 1
name: typed
entity:
  key: member_id
sources:
  s: {{format: parquet, path: data/s, key: member_id}}
indicators:
  n: {{source: s, column: n, type: number}}
  d: {{source: s, column: d, type: date}}
labels:
  - id: probe
    type: boolean
    method: rules
    values:
      - value: true
        when: {rule}
outputs:
  warehouse: warehouse
"""
TYPED_RULE_LINE = 16


def qb_text(field: str, operator: str, value: str) -> str:
    return json.dumps({"combinator": "and", "rules": [{"field": field, "operator": operator, "value": value}]})


@pytest.mark.parametrize(
    "rule, path",
    [
        (qb_text("n", "=", "1 OR 1=1"), "labels[0].values[0].when.rules[0]"),
        (qb_text("n", "in", "1, 2) OR (1=1"), "labels[0].values[0].when.rules[0]"),
        (qb_text("n", "between", "0, 1e3; DROP TABLE x"), "labels[0].values[0].when.rules[0]"),
        (qb_text("d", "<", "2026-01-01' OR '1'='1"), "labels[0].values[0].when.rules[0]"),
        (qb_text("d", "within_last", "30d OR 1=1"), "labels[0].values[0].when.rules[0]"),
        ({"field": "n", "op": "gte", "value": "18 OR 1=1"}, "labels[0].values[0].when"),
        ({"field": "d", "op": "before", "value": "current_date()"}, "labels[0].values[0].when"),
        ({"field": "d", "op": "eq", "value": "2026-01-01; --"}, "labels[0].values[0].when"),
    ],
    ids=["qb-number-eq", "qb-number-in", "qb-number-between", "qb-date-lt", "qb-within_last",
         "yaml-number-gte", "yaml-date-function", "yaml-date-comment"],
)
def test_text_in_a_number_or_date_rule_is_a_config_error(write_config, rule, path):
    config = write_config(TYPED_CONFIG.format(rule=json.dumps(rule)))  # JSON text goes as a YAML string
    with pytest.raises(ConfigError) as caught:
        load_project(config)
    [problem] = caught.value.problems
    assert (problem.path, problem.line) == (path, TYPED_RULE_LINE)


# Numbers a UI may send that no 64-bit integer holds: either a config error up front, or a
# comparison by value. Never an exception while the rule is compiled or run.
NUMBER_ROWS = [(1.0, None), (1e30, None), (None, None)]
DATE_ROWS = [(None, dt.date(2026, 3, 1)), (None, dt.date(1900, 1, 1)), (None, dt.date(2026, 3, 16)), (None, None)]
BIG_NUMBER_CASES = {
    "yaml-eq-1e30": ({"field": "n", "op": "eq", "value": 10**30}, NUMBER_ROWS, [False, True, False]),
    "yaml-lt-2**63": ({"field": "n", "op": "lt", "value": 2**63}, NUMBER_ROWS, [True, False, False]),
    "yaml-in-2**64": ({"field": "n", "op": "in", "value": [2**64, 1]}, NUMBER_ROWS, [True, False, False]),
    "yaml-between-huge": ({"field": "n", "op": "between", "value": [-(10**40), 10**40]}, NUMBER_ROWS, [True, True, False]),
    "qb-eq-1e30-as-text": (qb_text("n", "=", "1" + "0" * 30), NUMBER_ROWS, [False, True, False]),
    "qb-lt-1e999-as-text": (qb_text("n", "<", "1e999"), NUMBER_ROWS, [True, True, False]),
    "yaml-eq-1e400": ({"field": "n", "op": "eq", "value": 10**400}, NUMBER_ROWS, [False, False, False]),  # no double holds it
    "qb-eq-1e400-as-text": (qb_text("n", "=", "1" + "0" * 400), NUMBER_ROWS, [False, False, False]),
    "yaml-within_last-a-million-days": ({"field": "d", "op": "within_last", "value": 10**6}, DATE_ROWS, [True, True, False, False]),
    "yaml-within_last-1e30-days": ({"field": "d", "op": "within_last", "value": 10**30}, DATE_ROWS, [True, True, False, False]),
}


@pytest.mark.parametrize("name", list(BIG_NUMBER_CASES))
def test_numbers_out_of_range_are_config_errors_or_compare_by_value(spark, write_config, name):
    rule, rows, want = BIG_NUMBER_CASES[name]
    config = write_config(TYPED_CONFIG.format(rule=json.dumps(rule)))
    try:
        project = load_project(config)
    except ConfigError as exc:  # rejected up front, with its location: fine
        [problem] = exc.problems
        assert problem.line == TYPED_RULE_LINE and problem.path.startswith("labels[0].values[0].when")
        return
    typed = {"n": Field(F.col("n"), "number"), "d": Field(F.col("d"), "date")}
    result = RuleCompiler(typed, RUN_DATE, str(config)).compile(project.label_rules["probe"][0])
    df = spark.createDataFrame(rows, "n double, d date")
    assert [r[0] for r in df.select(result).collect()] == want
