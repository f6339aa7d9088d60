"""The registry of label methods: the Spark table covers every label class, each model's facts,
and each method's Column and counting over small in-memory frames.

The indicators frame is written out row by row, and so is every expected value.
"""
from __future__ import annotations

import datetime as dt
import textwrap
import typing
from typing import Literal

import pytest
from pyspark.sql import functions as F
from pyspark.sql import types as T

from labelspark.config import load_project
from labelspark.config.labels import Label, LabelBase
from labelspark.compute.label_columns import evaluate
from labelspark.compute.methods import METHODS, method_of
from tests.support.frames import assert_rows, expected_frame

pytestmark = pytest.mark.portable

D = dt.date(2026, 3, 31)
STRING, DOUBLE, BOOLEAN, LIST = T.StringType(), T.DoubleType(), T.BooleanType(), T.ArrayType(T.StringType())

CONFIG = """\
version: 1
name: shop
entity: {key: member_id}
outputs: {warehouse: warehouse}
sources:
  orders: {format: parquet, path: data/orders, key: member_id, time: ordered_at}
indicators:
  spend: {source: orders, agg: sum, of: amount}
  channel: {source: orders, agg: first, of: channel, type: string}
  categories: {source: orders, agg: collect_set, of: category}
labels:
  - {id: big, type: boolean, method: rules, default: false, values: [{value: true, when: {field: spend, op: gte, value: 100}}]}
  - {id: tags, type: list, method: rules, multi: true,
     values: [{value: spender, when: {field: spend, op: gte, value: 100}}, {value: shoe, when: {field: categories, op: contains, value: shoes}}]}
  - {id: spend, type: number, method: metric, indicator: spend, buckets: [0, 100]}
  - {id: first_channel, type: string, method: first_last, indicator: channel}
  - {id: interests, type: list, method: preference, indicator: categories}
  - {id: tier, type: string, method: distribution, indicator: spend, tiers: {low: 0.5, high: 1.0}}
  - {id: vip, type: boolean, method: import, path: data/vip.csv, key: member_id, value: is_vip}
"""

INDICATORS = [("member_id", STRING), ("spend", DOUBLE), ("channel", STRING), ("categories", LIST)]
ROWS = [
    ("m1", 150.0, "app", ["shoes", "bags"]),
    ("m2", 20.0, "web", []),
    ("m3", None, None, None),
    ("m4", 80.0, "app", ["shoes"]),
]


@pytest.fixture
def project(write_config):
    return load_project(write_config(textwrap.dedent(CONFIG)))


def label_classes() -> set[type]:
    union = typing.get_args(Label)[0]
    return set(typing.get_args(union))


def test_the_table_covers_every_label_class():
    assert set(METHODS) == label_classes()


def test_a_label_class_without_an_entry_is_refused_by_name():
    class ScoreLabel(LabelBase):
        method: Literal["score"]

    with pytest.raises(NotImplementedError, match="label method 'score' \\(ScoreLabel\\) has no entry"):
        method_of(ScoreLabel(id="score", type="number", method="score"))


def test_each_model_states_its_facts(project):
    facts = {
        label.id: (label.direct_inputs(project.label_rules.get(label.id, ())), label.wanted_kind, label.known_values,
                   label.bucketed, label.quantiles, label.imported)
        for label in project.labels
    }
    assert facts == {
        "big": (("spend",), None, [True, False], False, (), False),
        "tags": (("spend", "categories"), None, ["spender", "shoe"], False, (), False),
        "spend": (("spend",), "number", None, True, (), False),
        "first_channel": (("channel",), "string", None, False, (), False),
        "interests": (("categories",), "list", None, False, (), False),
        "tier": (("spend",), "number", ["low", "high"], False, (0.5, 1.0), False),
        "vip": ((), None, [True, False], False, (), True),
    }


def test_each_method_computes_its_column(spark, project):
    indicators = expected_frame(spark, INDICATORS, ROWS)
    vip = expected_frame(spark, [("member_id", STRING), ("value", STRING)], [("m1", "true"), ("m4", "false")])
    computed = evaluate(indicators, project, list(project.labels), D, {"vip": vip})
    # spend quantiles (exact percentile of 150, 20, 80): 0.5 -> 80, 1.0 -> 150
    expected = expected_frame(
        spark,
        [("member_id", STRING), ("big", BOOLEAN), ("tags", LIST), ("spend", DOUBLE), ("first_channel", STRING),
         ("interests", LIST), ("tier", STRING), ("vip", BOOLEAN)],
        [
            ("m1", True, ["spender", "shoe"], 150.0, "app", ["shoes", "bags"], "high", True),
            ("m2", False, None, 20.0, "web", [], "low", None),
            ("m3", False, None, None, None, None, None, None),
            ("m4", False, ["shoe"], 80.0, "app", ["shoes"], "low", False),
        ],
    )
    assert_rows(computed, expected)


def test_each_method_says_what_is_counted(spark, project):
    counted = {label.id: method_of(label).counted(label, F.col(label.id)) for label in project.labels}
    snapshot = expected_frame(spark, [("spend", DOUBLE), ("interests", LIST)], [(150.0, ["a", "a", "b"]), (None, []), (20.0, None)])
    buckets = [r[0] for r in snapshot.select(counted["spend"]).collect()]
    assert buckets == ["[100,+inf)", None, "[0,100)"]
    values = [sorted(r[0], key=str) for r in snapshot.select(counted["interests"]).collect()]
    assert values == [["a", "b"], [None], [None]]
