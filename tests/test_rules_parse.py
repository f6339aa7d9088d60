"""RuleParser: the YAML form and query-builder JSON to Leaf/AllOf/AnyOf/Not, and its problems.

Pure Python: trees are compared whole, paths included, so a wrong YAML path shows up here.
"""
from __future__ import annotations

import datetime as dt
import json

import pytest

from labelspark.rules import AllOf, AnyOf, Leaf, Not, RuleParser

pytestmark = pytest.mark.portable

W = "labels[0].values[1].when"


def parse(raw, path=W, ref_key="field"):
    parser = RuleParser(ref_key=ref_key)
    tree = parser.parse(raw, path)
    assert parser.problems == [], parser.problems
    return tree


def problems(raw, path=W, ref_key="field"):
    """(path, message) of every problem; the tree must be None when there are any."""
    parser = RuleParser(ref_key=ref_key)
    tree = parser.parse(raw, path)
    assert tree is None
    return [(p.path, p.message) for p in parser.problems]


# -- YAML form -------------------------------------------------------------------------------


def test_leaf():
    assert parse({"field": "age", "op": "gte", "value": 18}) == Leaf("age", "gte", 18, W)


def test_leaf_without_value():
    assert parse({"field": "email", "op": "is_null"}) == Leaf("email", "is_null", None, W)


def test_leaf_keeps_value_as_given():
    rule = {"field": "birthday", "op": "before", "value": dt.date(2026, 1, 1)}
    assert parse(rule) == Leaf("birthday", "before", dt.date(2026, 1, 1), W)
    rule = {"field": "city", "op": "in", "value": ["上海", "北京"]}
    assert parse(rule) == Leaf("city", "in", ["上海", "北京"], W)


def test_yaml_leaf_is_not_text():
    assert parse({"field": "age", "op": "eq", "value": "18"}).from_text is False


def test_segment_leaf_names_a_label():
    rule = {"label": "age_band", "op": "eq", "value": "adult"}
    assert parse(rule, "segments[0].when", ref_key="label") == Leaf("age_band", "eq", "adult", "segments[0].when")


def test_all_any_not():
    rule = {"all": [{"field": "age", "op": "gte", "value": 18}, {"not": {"field": "city", "op": "eq", "value": "x"}}]}
    assert parse(rule) == AllOf(
        (
            Leaf("age", "gte", 18, f"{W}.all[0]"),
            Not(Leaf("city", "eq", "x", f"{W}.all[1].not"), f"{W}.all[1].not"),
        ),
        f"{W}.all",
    )


def test_nested_groups():
    rule = {
        "any": [
            {"all": [{"field": "a", "op": "eq", "value": 1}, {"field": "b", "op": "eq", "value": 2}]},
            {"not": {"any": [{"field": "c", "op": "is_null"}]}},
        ]
    }
    assert parse(rule) == AnyOf(
        (
            AllOf((Leaf("a", "eq", 1, f"{W}.any[0].all[0]"), Leaf("b", "eq", 2, f"{W}.any[0].all[1]")), f"{W}.any[0].all"),
            Not(AnyOf((Leaf("c", "is_null", None, f"{W}.any[1].not.any[0]"),), f"{W}.any[1].not.any"), f"{W}.any[1].not"),
        ),
        f"{W}.any",
    )


def test_yaml_form_given_as_json_text():
    text = '{"all": [{"field": "age", "op": "lt", "value": 18}]}'
    assert parse(text) == AllOf((Leaf("age", "lt", 18, f"{W}.all[0]"),), f"{W}.all")


# -- query-builder form ----------------------------------------------------------------------


def qb_rule(operator, value, field="age"):
    return {"combinator": "and", "not": False, "rules": [{"field": field, "operator": operator, "value": value}]}


def test_query_builder_group_and_leaves():
    rule = {
        "id": "g-1",
        "combinator": "and",
        "not": False,
        "rules": [
            {"id": "r-1", "field": "age", "operator": ">=", "value": "18", "valueSource": "value"},
            {"field": "city", "operator": "=", "value": "上海"},
        ],
    }
    assert parse(rule) == AllOf(
        (
            Leaf("age", "gte", "18", f"{W}.rules[0]", from_text=True),
            Leaf("city", "eq", "上海", f"{W}.rules[1]", from_text=True),
        ),
        W,
    )


def test_query_builder_or_and_not():
    rule = {"combinator": "OR", "not": True, "rules": [{"field": "age", "operator": "<", "value": "18"}]}
    assert parse(rule) == Not(AnyOf((Leaf("age", "lt", "18", f"{W}.rules[0]", from_text=True),), W), W)


def test_query_builder_combinator_defaults_to_and():
    rule = {"rules": [{"field": "age", "operator": ">", "value": "1"}]}
    assert parse(rule) == AllOf((Leaf("age", "gt", "1", f"{W}.rules[0]", from_text=True),), W)


def test_query_builder_nested_group():
    rule = {
        "combinator": "or",
        "rules": [
            {"field": "vip", "operator": "=", "value": "true"},
            {"combinator": "and", "not": True, "rules": [{"field": "age", "operator": "between", "value": "18,60"}]},
        ],
    }
    assert parse(rule) == AnyOf(
        (
            Leaf("vip", "eq", "true", f"{W}.rules[0]", from_text=True),
            Not(AllOf((Leaf("age", "between", "18,60", f"{W}.rules[1].rules[0]", from_text=True),), f"{W}.rules[1]"), f"{W}.rules[1]"),
        ),
        W,
    )


def test_query_builder_given_as_json_text():
    text = json.dumps(qb_rule("in", "gold, silver", field="tier"))
    assert parse(text) == AllOf((Leaf("tier", "in", "gold, silver", f"{W}.rules[0]", from_text=True),), W)


def test_query_builder_group_may_hold_yaml_leaves():
    rule = {"combinator": "and", "rules": [{"field": "age", "op": "gte", "value": 18}]}
    assert parse(rule) == AllOf((Leaf("age", "gte", 18, f"{W}.rules[0]"),), W)


@pytest.mark.parametrize(
    "operator, op",
    [
        ("=", "eq"),
        ("!=", "ne"),
        ("<", "lt"),
        ("<=", "lte"),
        (">", "gt"),
        (">=", "gte"),
        ("between", "between"),
        ("in", "in"),
        ("notIn", "not_in"),
        ("null", "is_null"),
        ("notNull", "not_null"),
        ("contains", "contains"),
        ("beginsWith", "starts_with"),
        ("endsWith", "ends_with"),
        # our own names pass through
        ("has_any", "has_any"),
        ("within_last", "within_last"),
    ],
)
def test_query_builder_operator(operator, op):
    assert parse(qb_rule(operator, "v")).rules[0] == Leaf("age", op, "v", f"{W}.rules[0]", from_text=True)


@pytest.mark.parametrize(
    "operator, op",
    [
        ("notBetween", "between"),
        ("doesNotContain", "contains"),
        ("doesNotBeginWith", "starts_with"),
        ("doesNotEndWith", "ends_with"),
    ],
)
def test_query_builder_negated_operator(operator, op):
    path = f"{W}.rules[0]"
    assert parse(qb_rule(operator, "v")).rules[0] == Not(Leaf("age", op, "v", path, from_text=True), path)


def test_query_builder_text_values_are_kept_for_resolve():
    # comma-separated `in`/`between` text is split later, once the field's kind is known
    assert parse(qb_rule("between", "18, 60")).rules[0].value == "18, 60"
    assert parse(qb_rule("in", ["a", "b"])).rules[0].value == ["a", "b"]


# -- problems --------------------------------------------------------------------------------


def test_missing_op_deep_in_groups():
    rule = {"all": [{"field": "a", "op": "eq", "value": 1}, {"field": "b", "op": "eq", "value": 2}, {"field": "c", "value": 3}]}
    assert problems(rule) == [("labels[0].values[1].when.all[2].op", "a rule leaf needs `op`")]


def test_every_problem_is_collected():
    rule = {"any": [{"field": "a"}, {"op": "eq"}, {"all": [{"field": "c", "op": "eq", "oops": 1}]}]}
    found = problems(rule)
    assert [path for path, _ in found] == [
        f"{W}.any[0].op",
        f"{W}.any[1].field",
        f"{W}.any[2].all[0]",
    ]
    assert "unknown key(s) ['oops']" in found[2][1]


def test_leaf_with_several_problems():
    assert [path for path, _ in problems({"field": 7, "opp": "eq"})] == [W, f"{W}.field", f"{W}.op"]


def test_op_must_be_text():
    assert problems({"field": "a", "op": 3}) == [(f"{W}.op", "a rule leaf needs `op`")]


def test_not_a_mapping():
    [(path, message)] = problems(["field", "age"])
    assert path == W
    assert "a rule must be a mapping, got list" in message


def test_text_that_is_not_json():
    [(path, message)] = problems("age > 18")
    assert path == W
    assert "a rule given as text must be query-builder JSON" in message


def test_group_with_extra_key():
    [(path, message)] = problems({"all": [{"field": "a", "op": "is_null"}], "field": "b"})
    assert path == W
    assert "a group has exactly one key" in message


def test_two_groups_in_one_mapping():
    [(path, message)] = problems({"all": [{"field": "a", "op": "is_null"}], "any": [{"field": "b", "op": "is_null"}]})
    assert path == W
    assert "all/any" in message


@pytest.mark.parametrize("body", [[], {"field": "a", "op": "is_null"}, None])
def test_group_needs_a_non_empty_list(body):
    assert problems({"any": body}) == [(f"{W}.any", "`any` takes a non-empty list of rules")]


def test_not_of_a_list():
    [(path, message)] = problems({"all": [{"not": [{"field": "a", "op": "is_null"}]}]})
    assert path == f"{W}.all[0].not"
    assert "must be a mapping" in message


def test_segment_leaf_with_field_instead_of_label():
    found = problems({"field": "age_band", "op": "eq", "value": "adult"}, "segments[2].when", ref_key="label")
    assert [path for path, _ in found] == ["segments[2].when", "segments[2].when.label"]
    assert "unknown key(s) ['field']" in found[0][1]


def test_query_builder_bad_combinator():
    rule = {"combinator": "xor", "rules": [{"field": "a", "operator": "=", "value": "1"}]}
    [(path, message)] = problems(rule)
    assert path == f"{W}.combinator"
    assert "combinator must be 'and' or 'or'" in message


@pytest.mark.parametrize("rules", [[], None, "a = 1"])
def test_query_builder_needs_rules(rules):
    [(path, message)] = problems({"combinator": "and", "rules": rules})
    assert path == f"{W}.rules"
    assert "non-empty `rules` list" in message


def test_query_builder_not_must_be_boolean():
    rule = {"combinator": "and", "not": "yes", "rules": [{"field": "a", "operator": "=", "value": "1"}]}
    [(path, message)] = problems(rule)
    assert path == f"{W}.not"
    assert "`not` must be true or false" in message


def test_query_builder_unknown_group_key():
    rule = {"combinator": "and", "rules": [{"field": "a", "operator": "=", "value": "1"}], "limit": 3}
    [(path, message)] = problems(rule)
    assert path == W
    assert "unknown key(s) ['limit'] in a query-builder group" in message


def test_query_builder_rule_problems_have_their_paths():
    rule = {
        "combinator": "and",
        "rules": [
            {"field": "a", "operator": "=", "value": "1"},
            {"field": "", "operator": "=", "value": "1"},
            {"combinator": "or", "rules": [{"field": "b", "operator": 5, "value": "1"}]},
            {"field": "c", "operator": "=", "value": "d", "valueSource": "field"},
            {"field": "e", "operator": "=", "value": "1", "color": "red"},
        ],
    }
    found = problems(rule)
    assert [path for path, _ in found] == [
        f"{W}.rules[1].field",
        f"{W}.rules[2].rules[0].operator",
        f"{W}.rules[3].valueSource",
        f"{W}.rules[4]",
    ]
    assert "operator must be text, got int 5" in found[1][1]
    assert "only literal values are supported" in found[2][1]
    assert "unknown key(s) ['color'] in a query-builder rule" in found[3][1]


def test_problems_in_json_text_have_yaml_paths():
    text = json.dumps({"combinator": "and", "rules": [{"combinator": "or", "rules": []}]})
    [(path, _)] = problems(text)
    assert path == f"{W}.rules[0].rules"


def test_bad_json_text():
    [(path, message)] = problems('{"combinator": "and", "rules": [}')
    assert path == W
    assert "query-builder JSON" in message


def test_parser_collects_across_calls():
    parser = RuleParser()
    parser.parse({"field": "a"}, "labels[0].values[0].when")
    parser.parse({"op": "eq"}, "labels[0].values[1].when")
    assert [p.path for p in parser.problems] == ["labels[0].values[0].when.op", "labels[0].values[1].when.field"]
