"""`preview` and `explain` against an oracle in plain Python over the generated source rows
(tests/support/generated.py): indicators as the contract defines them (windows of calendar
days ending with D, as of the end of D; count 0 and other aggregates null without rows),
rules with null-safe leaves, exact percentiles with linear interpolation.
"""
import collections
import datetime as dt
import json
import math
import os
import subprocess
import sys
from pathlib import Path

import pytest
from deltalake import DeltaTable

from labelspark.analytics.explain import explain
from labelspark.analytics.preview import preview
from labelspark.config import load_project
from labelspark.warehouse.deltars import read_rows
from labelspark.warehouse.lock import warehouse_lock
from tests.support.generated import D1, D2, generate, run_three_days


@pytest.fixture(scope="module")
def generated(spark, tmp_path_factory):
    generated = generate(tmp_path_factory.mktemp("preview"))
    run_three_days(spark, generated)
    return generated


def entities(generated, day):
    present = {m["member_id"] for m in generated.members}
    return present | {o["member_id"] for o in generated.orders if o["order_time"].date() <= day}


def orders_within(generated, member, day, days):
    first = day - dt.timedelta(days=days - 1)
    return [o for o in generated.orders if o["member_id"] == member and first <= o["order_time"].date() <= day]


def indicators(generated, member, day):
    tier = next((m["tier"] for m in generated.members if m["member_id"] == member), None)
    amounts = [o["amount"] for o in orders_within(generated, member, day, 3)]
    return {"orders_2d": len(orders_within(generated, member, day, 2)), "tier": tier,
            "spend_3d": sum(amounts) if amounts else None, "big_3d": max(amounts) if amounts else None}


def activity(orders_2d, high):
    return "high" if orders_2d >= high else "some" if orders_2d >= 1 else None


def test_preview_of_an_edited_label_is_the_new_definition_on_the_data(spark, generated):
    project = load_project(generated.edited)  # `high` from 2 orders; the warehouse holds D2 computed from 3
    document = preview(spark, project, "activity", D2, sample=6)
    population = entities(generated, D2)
    expected = collections.Counter(activity(indicators(generated, m, D2)["orders_2d"], 2) for m in population)
    assert document["entities"] == len(population)
    assert {row["value"]: row["users"] for row in document["distribution"]} == expected
    for row in document["distribution"]:
        assert row["proportion"] == pytest.approx(expected[row["value"]] / len(population))
    stored = {row["value"]: row["users"] for row in stats(generated, "activity", D2)}
    assert stored != expected  # the run used the old definition
    assert len(document["sample"]) == 6
    for entry in document["sample"]:
        orders_2d = indicators(generated, entry["member_id"], D2)["orders_2d"]
        assert entry["indicators"] == {"orders_2d": orders_2d}
        assert entry["value"] == activity(orders_2d, 2) is not None


def test_preview_of_a_disabled_label_and_of_the_top_values(spark, generated):
    project = load_project(generated.config)
    document = preview(spark, project, "dormant", D1, sample=0)
    population = entities(generated, D1)
    dormant = sum(indicators(generated, m, D1)["orders_2d"] == 0 for m in population)
    assert {row["value"]: row["users"] for row in document["distribution"]} == {"dormant": dormant, None: len(population) - dormant}
    assert document["sample"] == []
    top = preview(spark, project, "spend", D1, sample=0, top=2)["distribution"]
    assert [row["users"] for row in top] == sorted(collections.Counter(
        indicators(generated, m, D1)["spend_3d"] for m in population).values(), reverse=True)[:2]


def stats(generated, label, day):
    rows = read_rows(str(generated.warehouse / "label_stats")).to_pylist()
    return [row for row in rows if row["label_id"] == label and row["snapshot_date"] == day]


def tables_state(warehouse: Path) -> tuple[dict, list]:
    versions = {table.name: DeltaTable(str(table)).version() for table in sorted(warehouse.iterdir()) if (table / "_delta_log").is_dir()}
    assert {"label_snapshot", "label_stats", "label_history", "label_catalog", "label_runs", "segment_members"} <= set(versions)
    return versions, sorted(str(path.relative_to(warehouse)) for path in warehouse.rglob("*"))


def test_preview_writes_nothing_and_runs_while_another_process_holds_the_lock(generated, tmp_path):
    before = tables_state(generated.warehouse)
    with warehouse_lock(str(generated.warehouse), "r-held-by-the-test", generated.config) as held:
        assert held.holder.pid == os.getpid()  # a live process other than the preview's
        done = subprocess.run([sys.executable, "-m", "labelspark", "preview", str(generated.edited), "--label", "activity",
                               "--date", str(D2), "--format", "json"], cwd=tmp_path, capture_output=True, text=True, timeout=300)
        locked = tables_state(generated.warehouse)
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout)["entities"] == len(entities(generated, D2))
    assert locked[0] == before[0] and set(locked[1]) - set(before[1]) == {"_labelspark.lock"}
    assert tables_state(generated.warehouse) == before


def percentile(values, q):
    values = sorted(values)
    position = q * (len(values) - 1)
    low, high = math.floor(position), math.ceil(position)
    return values[low] + (values[high] - values[low]) * (position - low)


def node_results(facts):
    """The trace of `keen`: all[any[orders_2d >= 2, tier = gold], not[big_3d < 10]], leaves null on a null field."""
    at_least_two = facts["orders_2d"] >= 2
    gold = None if facts["tier"] is None else facts["tier"] == "gold"
    small = None if facts["big_3d"] is None else facts["big_3d"] < 10
    any_of, not_small = bool(at_least_two or gold), not bool(small)
    return {"all of": any_of and not_small, "any of": any_of, "orders_2d >= 2": at_least_two, 'tier = "gold"': gold,
            "not": not_small, "big_3d < 10": small}


def flatten(node):
    yield node
    for child in node["children"]:
        yield from flatten(child)


def test_explain_traces_a_nested_rule_with_a_null_indicator(spark, generated):
    project = load_project(generated.config)
    snapshot = {row["member_id"]: row for row in read_rows(str(generated.warehouse / "label_snapshot")).to_pylist()
                if row["snapshot_date"] == D2}
    facts = {m: indicators(generated, m, D2) for m in sorted(entities(generated, D2))}
    cases = [
        next(m for m, f in facts.items() if f["big_3d"] is None and f["tier"] == "gold"),  # any holds, not(null) holds
        next(m for m, f in facts.items() if f["tier"] is None and f["big_3d"] is not None),
        next(m for m, f in facts.items() if f["orders_2d"] >= 2 and f["big_3d"] is not None and f["big_3d"] >= 10),
    ]
    for member in cases:
        document = explain(spark, project, "keen", member, D2)
        expected = node_results(facts[member])
        assert document["indicators"] == {k: facts[member][k] for k in ("big_3d", "orders_2d", "tier")}
        (value_node,) = document["trace"]["children"]
        assert value_node["result"] is expected["all of"] and value_node["matched"] is expected["all of"]
        nodes = list(flatten(value_node))[1:]
        assert [n["rule"] for n in nodes] == list(expected)
        assert [n["result"] for n in nodes] == list(expected.values()), member
        assert document["value"] == (True if expected["all of"] else None)
        assert document["snapshot_value"] == snapshot[member]["keen"] and document["equals_snapshot"] is True

    member = next(m for m, f in facts.items() if f["tier"] is None)  # a value whose rule is one leaf on a null field
    gold, other = explain(spark, project, "vip_tier", member, D2)["trace"]["children"]
    assert [(v["result"], v["matched"], v["children"][0]["result"]) for v in (gold, other)] == [(False, False, None)] * 2
    assert other["children"][0]["rule"] == 'tier in ["silver", "bronze"]'


def test_explain_tells_a_changed_definition_from_the_snapshot(spark, generated):
    member = next(m for m in sorted(entities(generated, D2)) if indicators(generated, m, D2)["orders_2d"] == 2)
    document = explain(spark, load_project(generated.edited), "activity", member, D2)
    assert (document["value"], document["snapshot_value"], document["equals_snapshot"]) == ("high", "some", False)
    first, second = document["trace"]["children"]
    assert (first["result"], first["matched"], second["result"], second["matched"]) == (True, True, True, False)


def test_explain_distribution_thresholds_and_import_row(spark, generated):
    project = load_project(generated.config)
    spends = [f["spend_3d"] for f in (indicators(generated, m, D2) for m in entities(generated, D2)) if f["spend_3d"] is not None]
    member = next(m for m in sorted(entities(generated, D2)) if indicators(generated, m, D2)["spend_3d"] is not None)
    document = explain(spark, project, "spend_tier", member, D2)
    tiers = document["trace"]["children"]
    assert [t["threshold"] for t in tiers] == [pytest.approx(percentile(spends, 0.5)), pytest.approx(percentile(spends, 1.0))]
    spend = indicators(generated, member, D2)["spend_3d"]
    assert document["value"] == ("low" if spend <= percentile(spends, 0.5) else "top") and document["equals_snapshot"] is True
    assert [t["matched"] for t in tiers] == [document["value"] == "low", document["value"] == "top"]

    flagged = next(m for m in generated.flags if m in entities(generated, D2))
    imported = explain(spark, project, "flagged", flagged, D2)
    assert imported["value"] is generated.flags[flagged] and imported["equals_snapshot"] is True
    assert imported["trace"]["row"] == {"member_id": flagged, "flag": str(generated.flags[flagged]).lower()}  # as the file has it


def test_explain_cli_prints_the_trace_and_refuses_an_unknown_entity(generated, tmp_path):
    def explain_cli(*args):
        return subprocess.run([sys.executable, "-m", "labelspark", "explain", str(generated.config), "--label", "keen", *args],
                              cwd=tmp_path, capture_output=True, text=True, timeout=300)

    unknown = explain_cli("--entity", "u999", "--date", str(D2))
    assert unknown.returncode == 2 and f"nearest ids: {max(entities(generated, D2))}" in unknown.stderr, unknown.stderr
    shown = explain_cli("--entity", "u042", "--date", str(D2))
    assert shown.returncode == 0, shown.stderr
    assert "keen of u042 on 2026-03-03" in shown.stdout and "orders_2d >= 2" in shown.stdout and "big_3d < 10" in shown.stdout
