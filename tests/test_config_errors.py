"""Every kind of config problem is a ConfigError that names the culprit and where it stands.

Each test breaks one thing in a small valid config (BASE) and checks the one problem it
causes: its YAML path, its line number and what its message names. Faulty lines carry a
trailing `# <-` comment; `line_of` finds them by text, independently of the YAML loader.
Problems inside a rule tree are located at their leaf (`...when.all[1]`), as in test_rule_errors.
"""
from __future__ import annotations

import re
from pathlib import Path

import pytest

from labelspark.config import load_project
from labelspark.errors import ConfigError, Problem

pytestmark = pytest.mark.portable

BASE = """\
version: 1
name: shop
timezone: Asia/Shanghai
entity:
  key: member_id
sources:
  members:
    format: parquet
    path: data/members
    key: member_id
    time: updated_at
  orders:
    format: parquet
    path: data/orders
    key: member_id
    time: order_time
  stores:
    format: csv
    path: data/stores.csv
    key: member_id
indicators:
  city:          {source: members, column: city}
  orders_recent: {source: orders, agg: count, window: 30d}
  spend_90d:     {source: orders, agg: sum, of: amount, window: 90d}
  visits:        {source: stores, agg: count}
labels:
  - id: city_tier
    type: string
    method: rules
    values:
      - {value: tier1, when: {field: city, op: in, value: [Shanghai, Beijing]}}
      - {value: busy, when: {field: orders_recent, op: gte, value: 3}}
  - {id: spend_90d, type: number, method: metric, indicator: spend_90d}
segments:
  - {id: big_spenders, when: {label: spend_90d, op: gte, value: 1000}}
outputs:
  warehouse: warehouse
"""


def edit(text: str, *replacements: tuple[str, str]) -> str:
    """`text` with each (old, new) replaced; every `old` must occur exactly once."""
    for old, new in replacements:
        assert text.count(old) == 1, f"{old!r} occurs {text.count(old)} times in the config"
        text = text.replace(old, new)
    return text


def line_of(text: str, needle: str) -> int:
    """The 1-based number of the one line of `text` that contains `needle`."""
    numbers = [i for i, line in enumerate(text.splitlines(), 1) if needle in line]
    assert len(numbers) == 1, f"{needle!r} is on lines {numbers}"
    return numbers[0]


def config_error(write_config, text: str) -> ConfigError:
    path = write_config(text)
    with pytest.raises(ConfigError) as info:
        load_project(path)
    return info.value


def listing(error: ConfigError) -> str:
    return "\n".join(f"{p.line}: {p.path!r}: {p.message}" for p in error.problems)


def the_problem(error: ConfigError, *paths: str) -> Problem:
    """The one problem reported at one of `paths` (several only where two places are equally to blame)."""
    found = [p for p in error.problems if p.path in paths]
    assert len(found) == 1, f"expected one problem at {paths}, got:\n{listing(error)}"
    return found[0]


def assert_only_problem(error: ConfigError, paths: str | tuple[str, ...], line: int, says: tuple[str, ...] = ()) -> Problem:
    """`error` holds exactly one problem, at `paths` and `line`, whose message contains each of `says`.

    Also checks the rendered error shows it as `file:line: path: message`.
    """
    paths = (paths,) if isinstance(paths, str) else paths
    assert len(error.problems) == 1, f"expected exactly one problem, got:\n{listing(error)}"
    problem = the_problem(error, *paths)
    assert problem.line == line, f"{problem.path} reported at line {problem.line}, expected {line}"
    for word in says:
        assert word in problem.message, f"{word!r} missing from the message {problem.message!r}"
    shown = f"{error.file}:{line}: {problem.path}: " if problem.path else f"{error.file}:{line}: "
    assert f"  {shown}{problem.message}\n" in f"{error}\n", str(error)
    return problem


# -- YAML -----------------------------------------------------------------------------------


def test_yaml_syntax_error_gives_its_line(write_config):
    text = edit(BASE, ("  key: member_id\nsources:", "  key: member_id\n  kind: [member_id, one_id\nsources:  # <-"))
    error = config_error(write_config, text)
    problem = assert_only_problem(error, "", line_of(text, "# <-"), says=("YAML",))
    assert "expected ',' or ']'" in problem.message


def test_duplicate_yaml_key_gives_the_second_occurrence(write_config):
    text = edit(BASE, ("    time: order_time\n", "    time: order_time\n    key: order_member  # <-\n"))
    error = config_error(write_config, text)
    assert_only_problem(error, "sources.orders.key", line_of(text, "# <-"), says=("duplicate", "'key'"))


def test_duplicate_yaml_key_does_not_hide_other_problems(write_config):
    text = edit(
        BASE,
        ("    time: order_time\n", "    time: order_time\n    key: order_member  # <- dup\n"),
        ("timezone: Asia/Shanghai", "timezone: Mars/Olympus  # <- tz"),
    )
    error = config_error(write_config, text)
    assert the_problem(error, "sources.orders.key").line == line_of(text, "# <- dup")
    assert the_problem(error, "timezone").line == line_of(text, "# <- tz")
    assert len(error.problems) == 2, listing(error)


# -- structure: sections, keys, required fields ---------------------------------------------


def test_unknown_top_level_section(write_config):
    text = edit(BASE, ("outputs:\n", "output_options: {}  # <-\noutputs:\n"))
    error = config_error(write_config, text)
    assert_only_problem(error, "output_options", line_of(text, "# <-"), says=("unknown section", "'output_options'"))


def test_unknown_key_in_a_source(write_config):
    text = edit(BASE, ("    path: data/orders\n", "    path: data/orders\n    partition: day  # <-\n"))
    error = config_error(write_config, text)
    assert_only_problem(error, "sources.orders.partition", line_of(text, "# <-"), says=("unknown",))


def test_unknown_key_in_an_indicator(write_config):
    text = edit(BASE, ("{source: stores, agg: count}", "{source: stores, agg: count, colour: red}  # <-"))
    error = config_error(write_config, text)
    assert_only_problem(error, "indicators.visits.colour", line_of(text, "# <-"), says=("unknown",))


def test_unknown_key_in_a_label(write_config):
    text = edit(BASE, ("    method: rules\n", "    method: rules\n    owner: crm_team  # <-\n"))
    error = config_error(write_config, text)
    assert_only_problem(error, "labels[0].owner", line_of(text, "# <-"), says=("unknown",))


def test_missing_required_field_of_a_label(write_config):
    text = edit(BASE, ("{id: spend_90d, type: number, method: metric, indicator: spend_90d}",
                       "{id: spend_90d, type: number, method: metric}  # <-"))
    error = config_error(write_config, text)
    assert_only_problem(error, "labels[1].indicator", line_of(text, "# <-"), says=("required",))


def test_missing_required_field_of_a_source(write_config):
    text = edit(BASE, ("  stores:\n    format: csv\n    path: data/stores.csv\n    key: member_id\n",
                       "  stores:  # <-\n    format: csv\n    path: data/stores.csv\n"))
    error = config_error(write_config, text)
    assert_only_problem(error, "sources.stores.key", line_of(text, "# <-"), says=("required",))


def test_missing_required_field_of_the_entity(write_config):
    text = edit(BASE, ("entity:\n  key: member_id\n", "entity:  # <-\n  kind: member_id\n"))
    error = config_error(write_config, text)
    assert_only_problem(error, "entity.key", line_of(text, "# <-"), says=("required",))


def test_missing_required_section(write_config):
    text = edit(BASE, ("outputs:\n  warehouse: warehouse\n", ""))
    error = config_error(write_config, text)
    assert len(error.problems) == 1, listing(error)
    problem = the_problem(error, "outputs")
    assert "required" in problem.message
    assert f"outputs: {problem.message}" in str(error)


# -- header -----------------------------------------------------------------------------------


def test_bad_version_names_what_was_found(write_config):
    text = edit(BASE, ("version: 1\n", "version: 2  # <-\n"))
    error = config_error(write_config, text)
    assert_only_problem(error, "version", line_of(text, "# <-"), says=("1", "2"))


def test_bad_timezone(write_config):
    text = edit(BASE, ("timezone: Asia/Shanghai", "timezone: Mars/Olympus  # <-"))
    error = config_error(write_config, text)
    assert_only_problem(error, "timezone", line_of(text, "# <-"), says=("Mars/Olympus",))


# -- ids ------------------------------------------------------------------------------------


def test_label_id_not_an_identifier_names_the_id(write_config):
    text = edit(BASE, ("  - id: city_tier\n", "  - id: Age-Band  # <-\n"))
    error = config_error(write_config, text)
    assert_only_problem(error, "labels[0].id", line_of(text, "# <-"), says=("Age-Band",))


def test_label_id_equal_to_the_entity_key(write_config):
    text = edit(BASE, ("  - id: city_tier\n", "  - id: member_id  # <-\n"))
    error = config_error(write_config, text)
    assert_only_problem(error, "labels[0].id", line_of(text, "# <-"), says=("member_id", "entity key"))


def test_label_id_snapshot_date_is_reserved(write_config):
    text = edit(BASE, ("  - id: city_tier\n", "  - id: snapshot_date  # <-\n"))
    error = config_error(write_config, text)
    assert_only_problem(error, "labels[0].id", line_of(text, "# <-"), says=("snapshot_date", "reserved"))


def test_duplicate_label_ids(write_config):
    text = edit(BASE, ("segments:\n", "  - {id: city_tier, type: string, method: first_last, indicator: city}  # <-\nsegments:\n"))
    error = config_error(write_config, text)
    assert_only_problem(error, "labels[2].id", line_of(text, "# <-"), says=("duplicate", "city_tier"))


# -- references -------------------------------------------------------------------------------


def test_unknown_source_in_an_indicator(write_config):
    text = edit(BASE, ("{source: stores, agg: count}", "{source: shops, agg: count}  # <-"))
    error = config_error(write_config, text)
    assert_only_problem(error, "indicators.visits.source", line_of(text, "# <-"), says=("shops",))


def test_unknown_indicator_in_a_label_rule(write_config):
    text = edit(BASE, ("{field: orders_recent, op: gte, value: 3}}", "{field: orders_7d, op: gte, value: 3}}  # <-"))
    error = config_error(write_config, text)
    assert_only_problem(error, "labels[0].values[1].when", line_of(text, "# <-"), says=("orders_7d",))


def test_unknown_indicator_in_a_nested_block_rule_gives_the_leaf_line(write_config):
    text = edit(BASE, ("segments:\n", """\
  - id: loyal
    type: boolean
    method: rules
    values:
      - value: true
        when:
          all:
            - {field: orders_recent, op: gte, value: 3}
            - field: visits_7d  # <-
              op: gte
              value: 1
segments:
"""))
    error = config_error(write_config, text)
    assert_only_problem(error, "labels[2].values[0].when.all[1]", line_of(text, "# <-"), says=("visits_7d",))


def test_unknown_indicator_in_a_metric_label(write_config):
    text = edit(BASE, ("method: metric, indicator: spend_90d}", "method: metric, indicator: spend_30d}  # <-"))
    error = config_error(write_config, text)
    assert_only_problem(error, "labels[1].indicator", line_of(text, "# <-"), says=("spend_30d",))


def test_unknown_label_in_a_segment_rule(write_config):
    text = edit(BASE, ("{label: spend_90d, op: gte, value: 1000}}", "{label: spend_30d, op: gte, value: 1000}}  # <-"))
    error = config_error(write_config, text)
    assert_only_problem(error, "segments[0].when", line_of(text, "# <-"), says=("spend_30d",))


def test_disabled_label_in_a_segment_rule(write_config):
    text = edit(
        BASE,
        ("indicator: spend_90d}", "indicator: spend_90d, status: disabled}"),
        ("{label: spend_90d, op: gte, value: 1000}}", "{label: spend_90d, op: gte, value: 1000}}  # <-"),
    )
    error = config_error(write_config, text)
    problem = assert_only_problem(error, "segments[0].when", line_of(text, "# <-"), says=("spend_90d",))
    assert re.search(r"(en|dis)abled", problem.message), problem.message


# -- rule types -------------------------------------------------------------------------------


def test_operator_that_does_not_fit_the_indicator_type(write_config):
    text = edit(BASE, ("{field: orders_recent, op: gte, value: 3}}", "{field: orders_recent, op: contains, value: '3'}}  # <-"))
    error = config_error(write_config, text)
    assert_only_problem(error, "labels[0].values[1].when", line_of(text, "# <-"), says=("contains", "orders_recent", "number"))


def test_rule_value_of_the_wrong_type(write_config):
    text = edit(BASE, ("{field: orders_recent, op: gte, value: 3}}", "{field: orders_recent, op: gte, value: many}}  # <-"))
    error = config_error(write_config, text)
    assert_only_problem(error, "labels[0].values[1].when", line_of(text, "# <-"), says=("many", "number"))


def test_rule_output_value_of_the_wrong_type_for_the_label(write_config):
    text = edit(BASE, ("segments:\n", "  - id: frequent\n    type: boolean\n    method: rules\n    values:\n"
                                     "      - {value: 'yes', when: {field: orders_recent, op: gte, value: 5}}  # <-\nsegments:\n"))
    error = config_error(write_config, text)
    assert_only_problem(error, "labels[2].values[0].value", line_of(text, "# <-"), says=("yes", "boolean"))


# -- schedules and windows ----------------------------------------------------------------------


@pytest.mark.parametrize("schedule", ["weekly:MONDAY", "monthly:32"])
def test_bad_schedule(write_config, schedule):
    text = edit(BASE, ("indicator: spend_90d}", f"indicator: spend_90d, schedule: '{schedule}'}}  # <-"))
    error = config_error(write_config, text)
    assert_only_problem(error, "labels[1].schedule", line_of(text, "# <-"), says=(schedule,))


@pytest.mark.parametrize("window", ["45", "45 days"])
def test_bad_window_names_the_value(write_config, window):
    text = edit(BASE, ("agg: count, window: 30d}", f"agg: count, window: {window}}}  # <-"))
    error = config_error(write_config, text)
    assert_only_problem(error, "indicators.orders_recent.window", line_of(text, "# <-"), says=(window,))


def test_window_on_a_source_without_time(write_config):
    text = edit(BASE, ("{source: stores, agg: count}", "{source: stores, agg: count, window: 7d}  # <-"))
    error = config_error(write_config, text)
    assert_only_problem(error, ("indicators.visits", "indicators.visits.window"), line_of(text, "# <-"), says=("time", "stores"))


# -- SQL: expressions and filters ---------------------------------------------------------------


def test_expr_that_does_not_parse(write_config):
    text = edit(BASE, ("labels:\n", "  per_order:     {expr: 'spend_90d / (orders_recent'}  # <-\nlabels:\n"))
    error = config_error(write_config, text)
    assert_only_problem(error, "indicators.per_order.expr", line_of(text, "# <-"), says=("SQL",))


def test_expr_naming_an_unknown_indicator(write_config):
    text = edit(BASE, ("labels:\n", "  per_order:     {expr: 'spend_90d / orders_7d'}  # <-\nlabels:\n"))
    error = config_error(write_config, text)
    assert_only_problem(error, "indicators.per_order.expr", line_of(text, "# <-"), says=("orders_7d",))


def test_expr_cycle(write_config):
    text = edit(BASE, ("labels:\n", "  margin: {expr: 'markup - 1'}  # <- margin\n"
                                    "  markup: {expr: 'price / spend_90d'}  # <- markup\n"
                                    "  price:  {expr: 'margin * 2'}  # <- price\nlabels:\n"))
    error = config_error(write_config, text)
    assert len(error.problems) == 1, listing(error)
    problem = the_problem(error, "indicators.margin.expr", "indicators.markup.expr", "indicators.price.expr")
    name = problem.path.split(".")[1]
    assert problem.line == line_of(text, f"# <- {name}")
    assert "cycle" in problem.message
    for member in ("margin", "markup", "price"):
        assert member in problem.message


def test_filter_that_does_not_parse(write_config):
    text = edit(BASE, ("    time: order_time\n", "    time: order_time\n    clean:\n      filter: 'amount >'  # <-\n"))
    error = config_error(write_config, text)
    assert_only_problem(error, "sources.orders.clean.filter", line_of(text, "# <-"), says=("SQL",))


@pytest.mark.parametrize("statement", ["drop table x", "select * from members", "amount > 0; drop table x"])
def test_filter_that_is_a_statement(write_config, statement):
    text = edit(BASE, ("    time: order_time\n", f"    time: order_time\n    clean:\n      filter: '{statement}'  # <-\n"))
    error = config_error(write_config, text)
    assert_only_problem(error, "sources.orders.clean.filter", line_of(text, "# <-"), says=("statement",))


# -- label shapes -------------------------------------------------------------------------------


def test_distribution_tiers_not_increasing(write_config):
    text = edit(BASE, ("segments:\n", "  - {id: spend_tier, type: string, method: distribution, indicator: spend_90d,"
                                     " tiers: {low: 0.9, mid: 0.5, high: 1.0}}  # <-\nsegments:\n"))
    error = config_error(write_config, text)
    assert_only_problem(error, ("labels[2]", "labels[2].tiers"), line_of(text, "# <-"), says=("0.9", "0.5"))


def test_buckets_not_increasing(write_config):
    text = edit(BASE, ("indicator: spend_90d}", "indicator: spend_90d, buckets: [0, 1000, 100]}  # <-"))
    error = config_error(write_config, text)
    assert_only_problem(error, ("labels[1]", "labels[1].buckets"), line_of(text, "# <-"), says=("1000", "100"))


def test_multi_without_type_list(write_config):
    text = edit(BASE, ("segments:\n", "  - {id: interests, type: string, method: rules, multi: true,"
                                     " values: [{value: local, when: {field: city, op: eq, value: Shanghai}}]}  # <-\nsegments:\n"))
    error = config_error(write_config, text)
    assert_only_problem(error, ("labels[2]", "labels[2].multi"), line_of(text, "# <-"), says=("multi", "list"))


def test_group_with_three_levels(write_config):
    text = edit(BASE, ("    method: rules\n", "    method: rules\n    group: Value/Spend/Recent  # <-\n"))
    error = config_error(write_config, text)
    assert_only_problem(error, "labels[0].group", line_of(text, "# <-"), says=("Value/Spend/Recent",))


def test_query_builder_rule_with_bad_combinator(write_config):
    text = edit(BASE, ("{field: orders_recent, op: gte, value: 3}}",
                       '{"combinator": "xor", "rules": [{"field": "orders_recent", "operator": ">=", "value": "3"}]}}  # <-'))
    error = config_error(write_config, text)
    assert_only_problem(error, "labels[0].values[1].when.combinator", line_of(text, "# <-"), says=("xor",))


# -- all problems at once; nothing but ConfigError ---------------------------------------------


def test_many_problems_are_all_reported(write_config):
    text = edit(
        BASE,
        ("timezone: Asia/Shanghai", "timezone: Mars/Olympus"),
        ("    path: data/orders\n", "    path: data/orders\n    partition: day\n"),
        ("    time: updated_at\n", "    time: updated_at\n    clean: {filter: 'drop table members'}\n"),
        ("{source: stores, agg: count}", "{source: shops, agg: count}"),
        ("agg: count, window: 30d}", "agg: count, window: 30 days}"),
        ("labels:\n", "  per_order: {expr: 'spend_90d / orders_7d'}\nlabels:\n"),
        ("  - id: city_tier\n", "  - id: member_id\n"),
        ("indicator: spend_90d}", "indicator: spend_90d, schedule: 'weekly:MONDAY'}"),
        ("segments:\n", "  - {id: spend_tier, type: string, method: magic, indicator: spend_90d}\n"
                        "  - {id: recent, type: number, method: metric, indicator: spend_365d}\nsegments:\n"),
        ("outputs:\n", "extras: {}\noutputs:\n"),
        ("  warehouse: warehouse\n", "  warehuose: warehouse\n"),
    )
    error = config_error(write_config, text)
    expected = {
        "timezone",
        "sources.orders.partition",
        "sources.members.clean.filter",
        "indicators.visits.source",
        "indicators.orders_recent.window",
        "indicators.per_order.expr",
        "labels[0].id",
        "labels[1].schedule",
        "labels[2]",
        "labels[3].indicator",
        "extras",
        "outputs.warehouse",
        "outputs.warehuose",
    }
    assert sorted(p.path for p in error.problems) == sorted(expected), listing(error)
    assert len(error.problems) == 13
    assert "13 problems" in str(error)
    assert all(p.line is not None for p in error.problems), listing(error)


def test_type_problems_are_reported_alongside_other_problems(write_config):
    text = edit(
        BASE,
        ("timezone: Asia/Shanghai", "timezone: Mars/Olympus"),
        ("{field: orders_recent, op: gte, value: 3}}", "{field: orders_recent, op: contains, value: '3'}}  # <- rule"),
        ("method: metric, indicator: spend_90d}", "method: metric, indicator: spend_30d}  # <- metric"),
    )
    error = config_error(write_config, text)
    assert len(error.problems) == 3, listing(error)
    assert the_problem(error, "timezone").line == line_of(text, "timezone:")
    assert the_problem(error, "labels[1].indicator").line == line_of(text, "# <- metric")
    rule = the_problem(error, "labels[0].values[1].when")
    assert "contains" in rule.message
    assert rule.line == line_of(text, "# <- rule")


@pytest.mark.parametrize(
    "text",
    [
        pytest.param("- a\n- b\n", id="top-level list"),
        pytest.param("just text\n", id="top-level scalar"),
        pytest.param("version: 1\nname: x\nentity: member_id\nsources: [a]\noutputs: []\n", id="sections of the wrong shape"),
        pytest.param(edit(BASE, ("labels:\n", "labels:\n  - just_a_string\n  - 5\n  - {id: 5, type: text, method: rules, values: []}\n")),
                     id="labels of the wrong shape"),
        pytest.param(edit(BASE, ("segments:\n", "segments:\n  - {id: s2, when: 5}\n  - {id: s3, when: 'not json'}\n  - {id: s4, when: {all: []}}\n")),
                     id="rules of the wrong shape"),
        pytest.param(edit(BASE, ("  visits:        {source: stores, agg: count}\n",
                                 "  visits: [1, 2]\n  7up: {source: stores, agg: count}\n  w: {source: stores, agg: count, where: {field: x, op: nope}}\n")),
                     id="indicators of the wrong shape"),
        pytest.param(edit(BASE, ("method: metric, indicator: spend_90d}", "method: magic, indicator: spend_90d}")), id="unknown method"),
        pytest.param(edit(BASE, ("type: number, method: metric, indicator: spend_90d}", "type: number, indicator: spend_90d}")), id="no method"),
        pytest.param(edit(BASE, ("indicator: spend_90d}", "indicator: spend_90d, buckets: 'x'}")), id="buckets not a list"),
        pytest.param(edit(BASE, ("version: 1", "version: [1]"), ("timezone: Asia/Shanghai", "timezone: 8")), id="header of the wrong type"),
        pytest.param(edit(BASE, ("name: shop", "name: shop\nfoo: *undefined")), id="undefined alias"),
    ],
)
def test_malformed_configs_raise_config_error_only(write_config, text):
    error = config_error(write_config, text)  # a pydantic ValidationError or TypeError would escape here
    assert error.problems
    assert all(p.path or p.line is not None for p in error.problems), listing(error)


@pytest.mark.parametrize("text", ["", "# only a comment\n"], ids=["empty", "comment only"])
def test_empty_config_is_a_config_error(write_config, text):
    error = config_error(write_config, text)
    assert len(error.problems) >= 1


def test_missing_file_is_a_config_error(tmp_path: Path):
    with pytest.raises(ConfigError) as info:
        load_project(tmp_path / "nowhere.yaml")
    assert "nowhere.yaml" in str(info.value)
