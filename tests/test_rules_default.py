"""Rules labels' `default:`: the value when no rule matches (null without it, as the contract says),
typed like the rules' values at validate time, and counted in label_stats like them.

Clicks per member over 7 days as of 2026-03-31: m1 5, m2 3, m3 1, m4 none (an entity through
its profile row only, so its count is 0 and its last click null).
"""
from __future__ import annotations

import datetime as dt
import subprocess
import sys
import textwrap

import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from pyspark.sql import types as T

from labelspark.config import load_project
from labelspark.errors import ConfigError
from labelspark.compute.run import compute_snapshot
from labelspark.compute.plan import make_plan
from labelspark.engine.sessions import set_timezone
from labelspark.compute.derived.stats import label_stats
from tests.support.frames import assert_rows, expected_frame

pytestmark = pytest.mark.portable

D = dt.date(2026, 3, 31)
STRING, DOUBLE, BOOLEAN, DATE, LIST = T.StringType(), T.DoubleType(), T.BooleanType(), T.DateType(), T.ArrayType(T.StringType())

HEADER = """\
version: 1
name: shop
timezone: UTC
entity: {key: member_id}
outputs: {warehouse: warehouse}
sources:
  clicks: {format: parquet, path: data/clicks, key: member_id, time: clicked_at}
  profiles: {format: parquet, path: data/profiles, key: member_id}
indicators:
  clicks_7d: {source: clicks, agg: count, window: 7d}
  last_click: {source: clicks, agg: max, of: clicked_at}
"""


def write_data(root) -> None:
    def write(name: str, table: pa.Table) -> None:
        (root / "data" / name).mkdir(parents=True)
        pq.write_table(table, root / "data" / name / "part-0.parquet")

    noon = dt.datetime(2026, 3, 30, 12, tzinfo=dt.timezone.utc)
    members = ["m1"] * 5 + ["m2"] * 3 + ["m3"]
    write("clicks", pa.table({"member_id": members, "clicked_at": pa.array([noon] * len(members), pa.timestamp("us", tz="UTC"))}))
    write("profiles", pa.table({"member_id": ["m1", "m2", "m3", "m4"]}))


@pytest.fixture
def snapshot_of(spark, tmp_path):
    """The snapshot frame of D with every label due, for a config of HEADER plus `labels`."""

    def compute(labels: str):
        write_data(tmp_path)
        config = tmp_path / "labelspark.yaml"
        config.write_text(HEADER + textwrap.dedent(labels), encoding="utf-8")
        project = load_project(config)
        set_timezone(spark, project.timezone)  # as a run sets it
        return project, compute_snapshot(spark, project, make_plan(project, D, computed=set()))

    yield compute
    spark.conf.set("spark.sql.session.timeZone", "UTC")


def test_a_boolean_rules_label_with_default_false_is_true_or_false_never_null(spark, snapshot_of):
    _, snapshot = snapshot_of("""\
labels:
  - {id: active, type: boolean, method: rules, default: false, values: [{value: true, when: {field: clicks_7d, op: gte, value: 3}}]}
  - {id: active_no_default, type: boolean, method: rules, values: [{value: true, when: {field: clicks_7d, op: gte, value: 3}}]}
""")
    expected = expected_frame(spark, [("member_id", STRING), ("active", BOOLEAN), ("active_no_default", BOOLEAN)], [
        ("m1", True, True), ("m2", True, True), ("m3", False, None), ("m4", False, None),
    ])
    assert_rows(snapshot, expected)


def test_defaults_of_string_number_date_and_list_labels_fill_only_where_no_rule_matches(spark, snapshot_of):
    _, snapshot = snapshot_of("""\
labels:
  - id: engagement
    type: string
    method: rules
    default: dormant
    values:
      - {value: heavy, when: {field: clicks_7d, op: gte, value: 5}}
      - {value: light, when: {field: clicks_7d, op: gte, value: 1}}
  - {id: weight, type: number, method: rules, default: 0.5, values: [{value: 2, when: {field: clicks_7d, op: gte, value: 3}}]}
  - {id: seen_since, type: date, method: rules, default: 2000-01-01, values: [{value: '2026-03-30', when: {field: last_click, op: after, value: '2026-03-29'}}]}
  - id: traits
    type: list
    method: rules
    multi: true
    default: [quiet]
    values:
      - {value: clicker, when: {field: clicks_7d, op: gte, value: 1}}
      - {value: fan, when: {field: clicks_7d, op: gte, value: 5}}
""")
    # m4's last click is null: a null compares false, so no rule matches and the default applies
    expected = expected_frame(
        spark,
        [("member_id", STRING), ("engagement", STRING), ("weight", DOUBLE), ("seen_since", DATE), ("traits", LIST)],
        [
            ("m1", "heavy", 2.0, dt.date(2026, 3, 30), ["clicker", "fan"]),
            ("m2", "light", 2.0, dt.date(2026, 3, 30), ["clicker"]),
            ("m3", "light", 0.5, dt.date(2026, 3, 30), ["clicker"]),
            ("m4", "dormant", 0.5, dt.date(2000, 1, 1), ["quiet"]),
        ],
    )
    assert_rows(snapshot, expected)


def test_label_stats_count_the_default_as_a_known_value(spark, snapshot_of):
    project, snapshot = snapshot_of("""\
labels:
  - {id: engagement, type: string, method: rules, default: dormant, values: [{value: heavy, when: {field: clicks_7d, op: gte, value: 5}}]}
  - {id: traits, type: list, method: rules, multi: true, default: [quiet], values: [{value: fan, when: {field: clicks_7d, op: gte, value: 5}}]}
""")
    stats = label_stats(snapshot, project, list(project.enabled_labels), D).drop("snapshot_date")
    expected = expected_frame(
        spark,
        [("label_id", STRING), ("value", STRING), ("users", T.LongType()), ("proportion", DOUBLE), ("rank", T.IntegerType())],
        [
            ("engagement", "dormant", 3, 0.75, 1), ("engagement", "heavy", 1, 0.25, 2),
            ("traits", "quiet", 3, 0.75, 1), ("traits", "fan", 1, 0.25, 2),
        ],
    )
    assert_rows(stats, expected)


@pytest.mark.parametrize("label, says", [
    ("{id: active, type: boolean, method: rules, default: 'no', values: [{value: true, when: {field: clicks_7d, op: gte, value: 3}}]}",
     "label of type boolean: expected a boolean value, got str 'no'"),
    ("{id: weight, type: number, method: rules, default: none, values: [{value: 1, when: {field: clicks_7d, op: gte, value: 3}}]}",
     "label of type number: expected a number value, got str 'none'"),
    ("{id: traits, type: list, method: rules, multi: true, default: quiet, values: [{value: fan, when: {field: clicks_7d, op: gte, value: 3}}]}",
     "the default of a list label is a list of values, got 'quiet'"),
    ("{id: traits, type: list, method: rules, multi: true, default: [[a]], values: [{value: fan, when: {field: clicks_7d, op: gte, value: 3}}]}",
     "label of type list: expected a string value, got"),
])
def test_a_default_of_the_wrong_type_is_a_config_error_at_its_line(tmp_path, label, says):
    config = tmp_path / "labelspark.yaml"
    config.write_text(HEADER + "labels:\n  - id: ok\n    type: string\n    method: rules\n    values: [{value: x, when: {field: clicks_7d, op: gte, value: 1}}]\n"
                      f"  - {label}\n", encoding="utf-8")
    with pytest.raises(ConfigError) as info:
        load_project(config)
    [problem] = info.value.problems
    assert problem.path == "labels[1].default" and says in problem.message
    assert problem.line == len(config.read_text().splitlines())
    validated = subprocess.run([sys.executable, "-m", "labelspark", "validate", str(config)], capture_output=True, text=True, timeout=120)
    assert validated.returncode == 2 and f"{config}:{problem.line}: labels[1].default:" in validated.stdout + validated.stderr


RULE = "values: [{value: heavy, when: {field: clicks_7d, op: gte, value: 5}}]"


@pytest.mark.parametrize("label, fact", [
    (f"{{id: engaged, type: boolean, method: rules, default: false, values: [{{value: true, when: {{field: clicks_7d, op: gte, value: 3}}}}]}}",
     ("When no rule matches", "false")),
    (f"{{id: engagement, type: string, method: rules, {RULE}}}", ("When no rule matches", "null")),
    (f"{{id: engagement, type: string, method: rules, default: dormant, {RULE}}}", ("When no rule matches", "dormant")),
    (f"{{id: weight, type: number, method: rules, default: 0.5, values: [{{value: 2, when: {{field: clicks_7d, op: gte, value: 3}}}}]}}",
     ("When no rule matches", "0.5")),
    (f"{{id: seen_since, type: date, method: rules, default: 2000-01-01, values: [{{value: '2026-03-30', when: {{field: last_click, op: after, value: '2026-03-29'}}}}]}}",
     ("When no rule matches", "2000-01-01")),
    (f"{{id: traits, type: list, method: rules, multi: true, default: [quiet], values: [{{value: fan, when: {{field: clicks_7d, op: gte, value: 5}}}}]}}",
     ("Several values", 'every value whose rule matches, in this order (["quiet"] when none does)')),
    (f"{{id: traits, type: list, method: rules, multi: true, values: [{{value: fan, when: {{field: clicks_7d, op: gte, value: 5}}}}]}}",
     ("Several values", "every value whose rule matches, in this order (null when none does)")),
])
def test_the_portal_says_what_an_entity_gets_when_no_rule_matches(tmp_path, label, fact):
    from labelspark.site.describe import describe_label

    config = tmp_path / "labelspark.yaml"
    config.write_text(HEADER + f"labels:\n  - {label}\n", encoding="utf-8")
    project = load_project(config)
    assert describe_label(project, project.labels[0]).facts == (fact,)
