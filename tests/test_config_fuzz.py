"""No config input makes loading fail other than with a ConfigError (issue 7: config fuzzing).

Property-based (hypothesis) over three kinds of input:

- documents: random YAML/JSON-ish trees (dicts, lists, text, numbers, booleans, nulls, dates),
  config-shaped ones whose keys and values come from the config's own vocabulary, and
  mutations of the demo config (`labelspark.cli.demo.CONFIG`): a key dropped, a value replaced
  by a random one or by one of the wrong type, random keys inserted, lines of its text
  deleted, duplicated, re-indented or cut;
- rule trees in both forms (YAML and query-builder JSON, as objects and as JSON text),
  nested, with random operators (unknown ones too) and values, through `RuleParser` and
  `checks.rule_problems` against random field kinds;
- raw bytes and text: invalid UTF-8, NUL, tabs, huge numbers, deep nesting, alias cycles.

Whatever the input, `load_project` returns a Project or raises ConfigError; every Problem
has a message, and a line it names exists in the file. `labelspark validate` on the
nastiest inputs exits 2 without a traceback. No Spark here.
"""
from __future__ import annotations

import copy
import datetime as dt
import json
import re
import subprocess
import sys
from pathlib import Path

import pytest
import yaml
from hypothesis import HealthCheck, Phase, assume, example, given, settings
from hypothesis import strategies as st

from labelspark.config import Project, load_project
from labelspark.config.checks import rule_problems
from labelspark.cli.demo import CONFIG as DEMO_CONFIG
from labelspark.errors import ConfigError, Problem
from labelspark.kinds import KINDS
from labelspark.rules import OPERATORS, RuleParser
from labelspark.rules.tree import QUERY_BUILDER_OPERATORS

# not `portable`: no engine runs here (config loading, rule parsing and the Spark-free `validate`),
# so a second pass under LABELSPARK_TEST_ENGINE=spark would run the same code again

# Failing examples are reported as generated, not shrunk: shrinking a config-sized document
# takes hypothesis minutes per failure. The `@example`s give the smallest known forms.
NO_SHRINK = (Phase.explicit, Phase.reuse, Phase.generate)
FUZZ = settings(max_examples=200, deadline=None, phases=NO_SHRINK, suppress_health_check=[HealthCheck.too_slow])
FEWER = settings(FUZZ, max_examples=100)

# PyYAML counts these as line breaks (the file is read with universal newlines, so a lone
# `\r` already arrives as `\n`).
_LINE_BREAK = re.compile("\r\n|[\r\n\x85\u2028\u2029]")


@pytest.fixture(scope="module")
def workdir(tmp_path_factory) -> Path:
    return tmp_path_factory.mktemp("fuzz")


def write(directory: Path, content: str | bytes, name: str = "labelspark.yaml") -> Path:
    path = directory / name
    if isinstance(content, bytes):
        path.write_bytes(content)
    else:
        path.write_text(content, encoding="utf-8")
    return path


def line_count(path: Path) -> int:
    text = path.read_bytes().decode("utf-8", errors="replace").replace("\r\n", "\n").replace("\r", "\n")
    return len(_LINE_BREAK.split(text))


def check_problems(problems: list[Problem], path: Path | None = None, prefix: str | None = None) -> None:
    assert problems, "a failure with no problem listed"
    lines = line_count(path) if path is not None else None
    for problem in problems:
        assert isinstance(problem, Problem), problem
        assert isinstance(problem.path, str), problem
        assert isinstance(problem.message, str) and problem.message.strip(), problem
        if prefix is not None:
            assert problem.path.startswith(prefix), problem
        if problem.line is not None:
            assert isinstance(problem.line, int), problem
            assert lines is not None and 1 <= problem.line <= lines, f"{problem} (the file has {lines} lines)"


def load_or_error(path: Path) -> Project | ConfigError:
    """`load_project` on `path`: a Project, or the ConfigError after checking its problems.
    Any other exception propagates and fails the test."""
    try:
        return load_project(path)
    except ConfigError as exc:
        check_problems(exc.problems, path)
        assert str(exc).startswith("invalid config")
        return exc


# -- strategies: documents -----------------------------------------------------------------------

SECTIONS = ["version", "name", "timezone", "entity", "sources", "indicators", "labels", "segments", "outputs"]
VOCABULARY_KEYS = SECTIONS + [
    "key", "kind", "id_map", "source", "format", "path", "table", "options", "time", "clean", "drop_null",
    "trim", "lower", "dedupe", "by", "keep", "filter", "column", "agg", "of", "window", "where", "expr",
    "type", "id", "group", "method", "schedule", "status", "values", "value", "when", "multi", "indicator",
    "buckets", "tiers", "label", "field", "op", "all", "any", "not", "combinator", "rules", "operator",
    "warehouse", "elasticsearch", "callback", "nodes", "alias", "writer", "url", "secret_env", "members",
]
VOCABULARY_VALUES = [
    1, "member_id", "parquet", "delta", "csv", "jdbc", "table", "count", "sum", "mode", "collect_set", "first",
    "30d", "0d", "rules", "metric", "import", "distribution", "first_last", "preference", "string", "number",
    "boolean", "date", "list", "daily", "weekly:MON", "monthly:31", "monthly:32", "enabled", "disabled",
    "Asia/Shanghai", "Mars/Olympus", "eq", "gte", "matches", "(", "and", "or", "status != 'deleted'",
    "1 +", "DROP TABLE x", "run_date", "snapshot_date", "", " ",
]

safe_ints = st.integers(min_value=-(10**40), max_value=10**40)  # str() of an int has a digit limit of its own
scalars = st.one_of(
    st.none(),
    st.booleans(),
    safe_ints,
    st.floats(allow_nan=True, allow_infinity=True),
    st.text(max_size=20),
    st.dates(),
    st.datetimes(),
    st.sampled_from(VOCABULARY_VALUES),
)
keys = st.one_of(
    st.sampled_from(VOCABULARY_KEYS),
    st.text(max_size=10),
    st.integers(min_value=-3, max_value=3),
    st.booleans(),
    st.none(),
    st.floats(allow_nan=False, allow_infinity=False),
    st.dates(),
)
documents = st.recursive(
    scalars,
    lambda children: st.one_of(
        st.lists(children, max_size=4),
        st.dictionaries(keys, children, max_size=5),
    ),
    max_leaves=40,
)
config_shaped = st.dictionaries(st.sampled_from(SECTIONS) | st.text(max_size=8), documents, min_size=1, max_size=9)


def dump_yaml(document) -> str:
    return yaml.safe_dump(document, allow_unicode=True, sort_keys=False)


def dump_json(document, ascii_only: bool = False, indent: int | None = 1) -> str:
    return json.dumps(document, default=str, skipkeys=True, ensure_ascii=ascii_only, indent=indent)


@st.composite
def serialised(draw, trees) -> str:
    document = draw(trees)
    form = draw(st.sampled_from(["yaml", "yaml-flow", "json", "json-ascii"]))
    if form == "yaml":
        return dump_yaml(document)
    if form == "yaml-flow":
        return yaml.safe_dump(document, allow_unicode=True, default_flow_style=True, sort_keys=False)
    return dump_json(document, ascii_only=form == "json-ascii")


# -- strategies: mutations of the demo config ------------------------------------------------------

DEMO = yaml.safe_load(DEMO_CONFIG)


def all_paths(node, prefix=()) -> list[tuple]:
    found = [prefix]
    if isinstance(node, dict):
        for key, value in node.items():
            found += all_paths(value, prefix + (key,))
    elif isinstance(node, list):
        for i, value in enumerate(node):
            found += all_paths(value, prefix + (i,))
    return found


DEMO_PATHS = all_paths(DEMO)[1:]


def wrong_type(value):
    """Values of other types than `value`'s."""
    if isinstance(value, bool):
        return st.sampled_from(["yes", 1, [value], {"value": value}])
    if isinstance(value, (int, float)):
        return st.sampled_from([str(value), [value], {"n": value}, True, None])
    if isinstance(value, str):
        return st.sampled_from([1, 0.5, True, [value], {value: value}, None, dt.date(2026, 1, 1)])
    if isinstance(value, list):
        return st.sampled_from(["text", 3, {"0": value}, None, [value]])
    if isinstance(value, dict):
        return st.sampled_from(["text", 3, list(value.items()), list(value), None, []])
    return scalars


_GONE = object()


def _child(node, part):
    if isinstance(node, dict) and part in node:
        return node[part]
    if isinstance(node, list) and isinstance(part, int) and part < len(node):
        return node[part]
    return _GONE


@st.composite
def mutated_demo(draw) -> dict:
    document = copy.deepcopy(DEMO)
    for _ in range(draw(st.integers(min_value=1, max_value=3))):
        *steps, last = draw(st.sampled_from(DEMO_PATHS))
        parent = document
        for part in steps:  # an earlier mutation may have removed or replaced part of the path
            parent = _child(parent, part)
        current = _child(parent, last)
        if current is not _GONE:
            mutation = draw(st.sampled_from(["drop", "replace", "wrong_type", "insert"]))
            if mutation == "drop":
                del parent[last]
            elif mutation == "replace":
                parent[last] = draw(documents)
            elif mutation == "wrong_type":
                parent[last] = draw(wrong_type(current))
            elif isinstance(current, dict):
                current.update(draw(st.dictionaries(keys, documents, min_size=1, max_size=2)))
            elif isinstance(current, list):
                current.insert(draw(st.integers(0, len(current))), draw(documents))
            else:
                parent[last] = draw(documents)
    return document


@st.composite
def mutated_demo_text(draw) -> str:
    """Line-level edits of the demo config's text: line numbers then matter."""
    lines = DEMO_CONFIG.splitlines(keepends=True)
    for _ in range(draw(st.integers(min_value=1, max_value=3))):
        i = draw(st.integers(min_value=0, max_value=len(lines) - 1))
        edit = draw(st.sampled_from(["delete", "duplicate", "indent", "dedent", "insert", "cut", "replace-text"]))
        if edit == "delete" and len(lines) > 1:
            del lines[i]
        elif edit == "duplicate":
            lines.insert(i, lines[i])
        elif edit == "indent":
            lines[i] = draw(st.sampled_from([" ", "  ", "\t", "    "])) + lines[i]
        elif edit == "dedent":
            lines[i] = lines[i].lstrip(" ")
        elif edit == "insert":
            lines.insert(i, draw(st.text(max_size=30)) + "\n")
        elif edit == "cut":
            lines = lines[: i + 1]
            lines[-1] = lines[-1][: draw(st.integers(0, len(lines[-1])))]
        else:
            line = lines[i]
            start = draw(st.integers(0, len(line)))
            end = draw(st.integers(start, len(line)))
            lines[i] = line[:start] + draw(st.text(max_size=8)) + line[end:]
    return "".join(lines)


# -- documents ---------------------------------------------------------------------------------------


def test_the_demo_config_loads(workdir):
    """The starting point of the mutations is a valid config."""
    assert isinstance(load_project(write(workdir, DEMO_CONFIG)), Project)


@FUZZ
@given(text=serialised(documents))
def test_arbitrary_documents_load_or_raise_config_error(workdir, text):
    load_or_error(write(workdir, text))


@FUZZ
@given(text=serialised(config_shaped))
def test_config_shaped_documents_load_or_raise_config_error(workdir, text):
    load_or_error(write(workdir, text))


@FUZZ
@given(document=mutated_demo(), flow=st.booleans())
def test_mutated_demo_config_loads_or_raises_config_error(workdir, document, flow):
    text = yaml.safe_dump(document, allow_unicode=True, sort_keys=False, default_flow_style=flow or None)
    load_or_error(write(workdir, text))


@FUZZ
@given(text=mutated_demo_text())
def test_line_edits_of_the_demo_config_load_or_raise_config_error(workdir, text):
    load_or_error(write(workdir, text))


@pytest.mark.parametrize(
    "path, replacement",
    [
        (("labels", 0, "values", 0, "when"), {"field": "age", "op": "lt", "value": [1]}),
        (("labels", 0, "values", 0, "when"), {"all": []}),
        (("labels", 0, "values", 0, "when"), "{not json"),
        (("labels", 0, "values", 0, "when"), {"field": "nope", "op": "eq", "value": 1}),
        (("labels", 0, "values", 0, "when"), {"field": "age", "op": "frobnicate", "value": 1}),
        (("labels", 0, "type"), ["string"]),
        (("labels", 0, "method"), "magic"),
        (("labels",), {"age_band": {}}),
        (("sources", "orders", "format"), 3),
        (("sources", "orders", "clean", "filter"), "amount >"),
        (("indicators", "age", "expr"), "DROP TABLE x"),
        (("indicators", "spend_90d", "window"), "90 days"),
        (("outputs",), None),
        (("timezone",), "Mars/Olympus"),
        (("timezone",), "Asia"),  # a directory of the tz database, not a zone
        (("version",), 2),
    ],
    ids=["rule-value-type", "empty-group", "rule-bad-json", "rule-unknown-field", "rule-unknown-operator",
         "label-type-list", "label-method", "labels-mapping", "source-format", "filter-sql", "expr-statement",
         "window", "outputs-missing", "timezone", "timezone-region", "version"],
)
def test_targeted_breakage_of_the_demo_config_is_a_located_config_error(workdir, path, replacement):
    """A few hand-picked breakages: a ConfigError naming the broken part, on a line of the file."""
    document = copy.deepcopy(DEMO)
    parent = document
    for part in path[:-1]:
        parent = parent[part]
    parent[path[-1]] = replacement
    config = write(workdir, dump_yaml(document))
    result = load_or_error(config)
    assert isinstance(result, ConfigError)
    assert any(problem.path.startswith(path[0]) for problem in result.problems), result.problems


# -- rule trees --------------------------------------------------------------------------------------

FIELDS = ["age", "city", "tags", "joined", "vip", "x"]
OPERATOR_NAMES = sorted(OPERATORS) + sorted(QUERY_BUILDER_OPERATORS) + ["like", "rlike", "EQ", "", "=="]
rule_values = st.one_of(
    scalars,
    st.lists(scalars, max_size=4),
    st.sampled_from(["30d", "0d", "99999d", "100000d", "2026-03-01", "2026-02-30", "1,2", "a, b", "18", "1e5",
                     "true", "[a-z", "(?P<x>a)", "'; DROP TABLE x; --", "' OR '1'='1"]),
    st.dictionaries(st.text(max_size=4), scalars, max_size=2),
    st.integers(),
)
references = st.one_of(st.sampled_from(FIELDS), st.text(max_size=6), scalars)
extra_keys = st.dictionaries(keys, scalars, max_size=2)


@st.composite
def yaml_leaf(draw, ref_key: str = "field"):
    leaf = {}
    if draw(st.integers(0, 9)):
        leaf[ref_key] = draw(references)
    if draw(st.integers(0, 9)):
        leaf["op"] = draw(st.sampled_from(OPERATOR_NAMES) | st.text(max_size=5) | scalars)
    if draw(st.booleans()):
        leaf["value"] = draw(rule_values)
    if not draw(st.integers(0, 7)):
        leaf.update(draw(extra_keys))
    return leaf


@st.composite
def qb_leaf(draw):
    leaf = {"operator": draw(st.sampled_from(OPERATOR_NAMES) | scalars | documents)}
    if draw(st.integers(0, 9)):
        leaf["field"] = draw(references)
    if draw(st.booleans()):
        leaf["value"] = draw(rule_values)
    if not draw(st.integers(0, 5)):
        leaf["id"] = draw(st.text(max_size=5))
    if not draw(st.integers(0, 5)):
        leaf["valueSource"] = draw(st.sampled_from(["value", "field"]) | scalars)
    if not draw(st.integers(0, 9)):
        leaf.update(draw(extra_keys))
    return leaf


def yaml_groups(children):
    return st.one_of(
        st.builds(lambda rules: {"all": rules}, st.lists(children, max_size=3)),
        st.builds(lambda rules: {"any": rules}, st.lists(children, max_size=3)),
        st.builds(lambda rule: {"not": rule}, children),
        st.builds(lambda rules, extra: {"all": rules, **extra}, st.lists(children, max_size=2), extra_keys),
        st.builds(lambda body: {"any": body}, scalars),
    )


def qb_groups(children):
    return st.fixed_dictionaries(
        {"rules": st.lists(children, max_size=3) | scalars},
        optional={
            "combinator": st.sampled_from(["and", "or", "AND", "Or", "xor"]) | scalars,
            "not": st.booleans() | scalars,
            "id": st.text(max_size=5),
        },
    )


yaml_rules = st.recursive(yaml_leaf(), lambda c: yaml_groups(c), max_leaves=8)
segment_rules = st.recursive(yaml_leaf("label"), lambda c: yaml_groups(c), max_leaves=6)
qb_rules = st.recursive(qb_leaf(), lambda c: qb_groups(c | yaml_leaf()), max_leaves=8)
any_rule = st.one_of(
    yaml_rules,
    qb_rules,
    qb_rules.map(lambda rule: dump_json(rule, indent=None)),
    st.recursive(yaml_leaf() | qb_leaf(), lambda c: yaml_groups(c) | qb_groups(c), max_leaves=8),
    documents,
    st.text(max_size=40),
)
field_kinds = st.dictionaries(st.sampled_from(FIELDS), st.sampled_from(list(KINDS) + [None]), max_size=6)


def parse_and_check(raw, ref_key: str, kinds: dict) -> list[Problem]:
    parser = RuleParser(ref_key=ref_key)
    tree = parser.parse(raw, "when")
    if tree is None:
        check_problems(parser.problems, prefix="when")
        return parser.problems
    assert parser.problems == [], "a parsed tree with problems beside it"
    problems = rule_problems(tree, kinds, "indicator")
    if problems:
        check_problems(problems, prefix="when")
    return problems


@FUZZ
@given(raw=any_rule, kinds=field_kinds)
def test_rule_trees_parse_and_check_without_exceptions(raw, kinds):
    parse_and_check(raw, "field", kinds)


@FEWER
@given(raw=segment_rules, kinds=field_kinds)
def test_segment_rule_trees_parse_and_check_without_exceptions(raw, kinds):
    parse_and_check(raw, "label", kinds)


@FUZZ
@example(raw={"all": [{"field": "age", "op": "lt", "value": 1}], 1: 2}, kinds={"age": "number"})
@example(raw={"field": "age", "op": "eq", "value": 1, 2: 3}, kinds={"age": "number"})
@example(raw={"rules": [{"field": "age", "operator": "=", "value": "1"}], 0: 1}, kinds={"age": "number"})
@example(raw={"rules": [{"field": "age", "operator": "=", "value": "1", None: 1}]}, kinds={"age": "number"})
@example(raw={"rules": [{"field": "age", "operator": ["="], "value": "1"}]}, kinds={"age": "number"})
@example(raw={"field": "age", "op": "eq", "value": 10**400}, kinds={"age": "number"})
@example(raw={"rules": [{"field": "age", "operator": "in", "value": "1, 1" + "0" * 400}]}, kinds={"age": "number"})
@example(raw={"field": "joined", "op": "within_last", "value": 10**30}, kinds={"joined": "date"})
@example(raw={"rules": [{"field": "age", "operator": {"=": 1}, "value": "1"}]}, kinds={"age": "number"})
@given(raw=any_rule, kinds=field_kinds)
def test_rule_objects_with_odd_keys_and_operators_are_problems_not_exceptions(raw, kinds):
    """YAML keys need not be text (`1: x`, `null: x`, dates), a query-builder `operator` need
    not be a string: such a rule is a problem, not an exception."""
    parse_and_check(raw, "field", kinds)


BASE = {
    "version": 1,
    "name": "shop",
    "entity": {"key": "member_id"},
    "sources": {"orders": {"format": "parquet", "path": "data/orders", "key": "member_id", "time": "order_time"}},
    "indicators": {
        "age": {"source": "orders", "column": "age", "type": "number"},
        "city": {"source": "orders", "column": "city", "type": "string"},
        "tags": {"source": "orders", "agg": "collect_set", "of": "tag"},
        "joined": {"source": "orders", "agg": "min", "of": "order_date", "type": "date"},
        "vip": {"source": "orders", "column": "vip", "type": "boolean"},
        "x": {"source": "orders", "column": "x"},
    },
    "labels": [{"id": "flag", "type": "boolean", "method": "rules", "values": [{"value": True, "when": None}]}],
    "segments": [{"id": "flagged", "when": None}],
    "outputs": {"warehouse": "warehouse"},
}


@FUZZ
@given(rule=any_rule, segment=segment_rules, where=yaml_rules | qb_rules.map(lambda rule: dump_json(rule, indent=None)))
def test_random_rules_inside_a_config_load_or_raise_config_error(workdir, rule, segment, where):
    document = copy.deepcopy(BASE)
    document["labels"][0]["values"][0]["when"] = rule
    document["segments"][0]["when"] = segment
    document["indicators"]["city"] = {"source": "orders", "agg": "count", "where": where}
    load_or_error(write(workdir, dump_yaml(document)))


# -- raw bytes and text --------------------------------------------------------------------------------


def nested(depth: int, opening: str, closing: str, middle: str = "") -> str:
    return opening * depth + middle + closing * depth


def alias_bomb(levels: int, key: str = "version") -> str:
    """A few hundred bytes whose aliases stand for 9**levels values."""
    lines = ["a0: &a0 [x, x, x, x, x, x, x, x, x]"]
    lines += [f"a{i}: &a{i} [{', '.join([f'*a{i - 1}'] * 9)}]" for i in range(1, levels)]
    return "\n".join(lines) + f"\n{key}: *a{levels - 1}\n"


DEMO_BYTES = DEMO_CONFIG.encode("utf-8")
NASTY = {
    "invalid-utf8": b"version: 1\nname: \xff\xfe\xfd\n",
    "invalid-utf8-in-a-rule": DEMO_BYTES.replace(b"value: minor", b"value: min\xc3\x28or"),
    "utf16": DEMO_CONFIG.encode("utf-16"),
    "latin1": "version: 1\nname: caf\u00e9\n".encode("latin-1"),
    "nul": b"version: 1\x00\nname: shop\n",
    "nul-in-a-value": DEMO_BYTES.replace(b"value: minor", b"value: mi\x00nor"),
    "tabs": b"version:\t1\n\tname: shop\n",
    "huge-integer": b"version: " + b"9" * 5000 + b"\n",
    "huge-integer-in-a-rule": DEMO_BYTES.replace(b"op: lt, value: 18}", b"op: lt, value: " + b"1" * 5000 + b"}"),
    "huge-sexagesimal": b"version: " + b"9" * 5000 + b":30\n",
    "huge-float": b"version: 1e999999\n",
    "deep-flow-list": nested(3000, "[", "]").encode(),
    "deep-flow-map": nested(3000, "{a: ", "}", "1").encode(),
    "deep-block-list": "".join("  " * i + "- \n" for i in range(1500)).encode(),
    "deep-rule": DEMO_CONFIG.replace("{field: age, op: lt, value: 18}", nested(1500, "{not: ", "}", "{field: age, op: lt, value: 18}")).encode(),
    "recursive-alias": b"version: &a [1, *a]\n",
    "recursive-rule": DEMO_CONFIG.replace("{field: age, op: lt, value: 18}", "&r {not: *r}").encode(),
    "python-tag": b"version: !!python/object/apply:os.system [echo hi]\n",
    "only-bom": b"\xef\xbb\xbf",
    "mixed-key-types-in-a-rule-group": DEMO_CONFIG.replace(
        "{field: age, op: lt, value: 18}", "{all: [{field: age, op: lt, value: 18}], 1: 2}").encode(),
    "list-as-query-builder-operator": DEMO_CONFIG.replace('"operator": ">="', '"operator": [">="]').encode(),
    "timezone-region": DEMO_CONFIG.replace("timezone: Asia/Shanghai", "timezone: Asia").encode(),
    "non-text-indicator-name": DEMO_CONFIG.replace("  birthday:  ", "  1:  ").replace(
        "{field: age, op: lt, value: 18}", "{field: agee, op: lt, value: 18}").encode(),
    "non-text-source-name": DEMO_CONFIG.replace("  events:\n", "  2:\n").encode(),
}


@pytest.mark.parametrize("content", list(NASTY.values()), ids=list(NASTY))
def test_nasty_files_are_config_errors(workdir, content):
    result = load_or_error(write(workdir, content))
    assert isinstance(result, ConfigError)


random_text = st.text(
    alphabet=st.characters(codec="utf-8") | st.sampled_from(["\x00", "\t", "\r", "\n", ":", "-", "[", "{", "&", "*", "!", "%", "'", '"', "#", "|", ">"]),
    max_size=200,
)


@FUZZ
@given(content=st.one_of(
    st.binary(max_size=300),
    random_text.map(lambda text: text.encode("utf-8")),
    st.tuples(st.sampled_from(list(NASTY.values())), st.binary(max_size=20)).map(lambda pair: pair[0] + pair[1]),
    st.tuples(st.integers(0, len(DEMO_BYTES)), st.binary(min_size=1, max_size=8)).map(
        lambda cut: DEMO_BYTES[: cut[0]] + cut[1] + DEMO_BYTES[cut[0]:]),
))
def test_random_bytes_load_or_raise_config_error(workdir, content):
    assume(content != DEMO_BYTES)
    load_or_error(write(workdir, content))


# -- the command line --------------------------------------------------------------------------------

CLI_NASTY = [
    "invalid-utf8", "nul", "huge-integer", "deep-flow-list", "recursive-alias", "recursive-rule",
    "mixed-key-types-in-a-rule-group", "timezone-region", "non-text-indicator-name",
]


# `labelspark` with 1 GiB of address space: a config must not need gigabytes. The child limits
# itself: a `preexec_fn` would run Python's at-fork handlers in the child, and those of a gRPC
# client this process holds (the Spark Connect session of other tests) abort it.
LIMITED_LABELSPARK = ("import resource, runpy; resource.setrlimit(resource.RLIMIT_AS, (1 << 30, 1 << 30)); "
                      "runpy.run_module('labelspark', run_name='__main__')")


def validate(config: Path, timeout: float = 60) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-c", LIMITED_LABELSPARK, "validate", str(config)],
        cwd=config.parent, capture_output=True, text=True, errors="replace", timeout=timeout,
    )


@pytest.mark.parametrize("name", CLI_NASTY)
def test_validate_prints_no_traceback_on_nasty_files(tmp_path, name):
    config = write(tmp_path, NASTY[name])
    result = validate(config)
    output = result.stdout + result.stderr
    assert "Traceback" not in output, output[-3000:]
    assert result.returncode == 2, output[-3000:]
    assert str(config) in output


def test_validate_of_an_alias_bomb_is_quick_and_small(tmp_path):
    """~360 bytes that stand for 9**8 values: aliases must not be expanded one path at a time."""
    config = write(tmp_path, alias_bomb(8))
    try:
        result = validate(config, timeout=20)
    except subprocess.TimeoutExpired:
        pytest.fail("validate of a 360-byte config ran for more than 20 s")
    output = result.stdout + result.stderr
    assert "Traceback" not in output, output[-3000:]
    assert result.returncode == 2, output[-3000:]
