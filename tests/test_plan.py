"""Schedules (`Schedule`) and the grouping of due labels into source passes (`make_plan`). No Spark."""
from __future__ import annotations

import datetime as dt

import pytest

from labelspark.config import load_project
from labelspark.compute.plan import make_plan
from labelspark.config.schedule import Schedule

pytestmark = pytest.mark.portable

D = dt.date

# -- Schedule -----------------------------------------------------------------------------------


def is_due(schedule: str, day: dt.date, computed_before: bool) -> bool:
    return Schedule.parse(schedule).due(day, computed_before=computed_before)


@pytest.mark.parametrize("computed_before", [True, False])
@pytest.mark.parametrize("day", [D(2026, 3, 30), D(2026, 2, 28), D(2028, 2, 29), D(2026, 12, 31)])
def test_daily_is_always_due(day, computed_before):
    assert is_due("daily", day, computed_before) is True


WEEK = {  # the week of Monday 2026-03-30
    "MON": D(2026, 3, 30),
    "TUE": D(2026, 3, 31),
    "WED": D(2026, 4, 1),
    "THU": D(2026, 4, 2),
    "FRI": D(2026, 4, 3),
    "SAT": D(2026, 4, 4),
    "SUN": D(2026, 4, 5),
}


@pytest.mark.parametrize("weekday", list(WEEK))
def test_weekly_is_due_on_its_weekday_only(weekday):
    due = [name for name, day in WEEK.items() if is_due(f"weekly:{weekday}", day, computed_before=True)]
    assert due == [weekday]


def test_weekly_follows_the_weekday_across_months_and_years():
    assert is_due("weekly:THU", D(2026, 1, 1), True) is True
    assert is_due("weekly:FRI", D(2027, 12, 31), True) is True
    assert is_due("weekly:THU", D(2027, 12, 31), True) is False


@pytest.mark.parametrize(
    "schedule, day, due",
    [
        ("monthly:1", D(2026, 3, 1), True),
        ("monthly:1", D(2026, 3, 2), False),
        ("monthly:1", D(2026, 2, 28), False),
        ("monthly:15", D(2026, 4, 15), True),
        ("monthly:15", D(2026, 4, 14), False),
        ("monthly:15", D(2026, 4, 30), False),  # the last day only stands in for days the month lacks
        ("monthly:31", D(2026, 3, 31), True),
        ("monthly:31", D(2026, 3, 30), False),
        # 30-day month: day 31 falls on the 30th
        ("monthly:31", D(2026, 4, 30), True),
        ("monthly:31", D(2026, 4, 29), False),
        ("monthly:30", D(2026, 4, 30), True),
        # February, common year: 29, 30 and 31 fall on the 28th
        ("monthly:31", D(2026, 2, 28), True),
        ("monthly:30", D(2026, 2, 28), True),
        ("monthly:29", D(2026, 2, 28), True),
        ("monthly:28", D(2026, 2, 28), True),
        ("monthly:28", D(2026, 2, 27), False),
        ("monthly:31", D(2026, 2, 27), False),
        # February, leap year: 29 is a real day
        ("monthly:29", D(2028, 2, 29), True),
        ("monthly:29", D(2028, 2, 28), False),
        ("monthly:31", D(2028, 2, 29), True),
        ("monthly:31", D(2028, 2, 28), False),
        # the next month's first day is never a stand-in
        ("monthly:31", D(2026, 3, 1), False),
        ("monthly:31", D(2026, 5, 1), False),
    ],
)
def test_monthly(schedule, day, due):
    assert is_due(schedule, day, computed_before=True) is due


@pytest.mark.parametrize("day", [D(2026, 3, 30), D(2026, 2, 28)])
def test_once_is_due_until_computed(day):
    assert is_due("once", day, computed_before=False) is True
    assert is_due("once", day, computed_before=True) is False


@pytest.mark.parametrize(
    "text, words, dynamic, period",
    [("daily", "daily", True, 1), ("weekly:MON", "weekly on Monday", True, 7), ("weekly:SUN", "weekly on Sunday", True, 7),
     ("monthly:1", "monthly on day 1", True, 31), ("monthly:31", "monthly on day 31", True, 31), ("once", "once", False, None)],
)
def test_a_schedule_describes_itself(text, words, dynamic, period):
    schedule = Schedule.parse(text)
    assert (str(schedule), schedule.describe(), schedule.dynamic, schedule.period_days) == (text, words, dynamic, period)


@pytest.mark.parametrize("text", ["weekly", "weekly:mon", "monthly:0", "monthly:32", "hourly", "Daily", ""])
def test_other_schedules_are_refused_with_the_forms(text):
    with pytest.raises(ValueError, match="schedule is once, daily, weekly:MON..SUN or monthly:1..31"):
        Schedule.parse(text)


# -- make_plan ----------------------------------------------------------------------------------

CONFIG = """\
version: 1
name: shop
timezone: Asia/Shanghai
entity:
  key: member_id
  id_map: {source: ids}
sources:
  ids:
    format: parquet
    path: data/ids
    key: source_id
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
  events:
    format: parquet
    path: data/events
    key: member_id
    time: event_time
indicators:
  birthday:       {source: members, column: birthday, type: date}
  city:           {source: members, column: city}
  age:            {expr: "floor(months_between(run_date, birthday) / 12)", type: number}
  orders_30d:     {source: orders, agg: count, window: 30d}
  spend_90d:      {source: orders, agg: sum, of: amount, window: 90d}
  views_7d:       {source: events, agg: count, window: 7d}
  spend_per_view: {expr: "spend_90d / views_7d", type: number}
labels:
  - id: age_band
    type: string
    method: rules
    values:
      - {value: adult, when: {field: age, op: gte, value: 18}}
  - {id: home_city, type: string, method: first_last, indicator: city, schedule: "weekly:MON"}
  - id: buyer
    type: boolean
    method: rules
    schedule: monthly:31
    values:
      - {value: true, when: {field: orders_30d, op: gte, value: 1}}
  - {id: spend_90d, type: number, method: metric, indicator: spend_90d, schedule: once}
  - id: engaged
    type: boolean
    method: rules
    values:
      - {value: true, when: {all: [{field: views_7d, op: gte, value: 5}, {field: orders_30d, op: gte, value: 1}]}}
  - {id: value_per_view, type: number, method: metric, indicator: spend_per_view}
  - {id: vip, type: boolean, method: import, path: data/vip.csv, key: member_id, value: is_vip}
  - id: old_city_flag
    type: boolean
    method: rules
    status: disabled
    values:
      - {value: true, when: {field: city, op: eq, value: Shanghai}}
outputs:
  warehouse: warehouse
"""

ENABLED = ["age_band", "home_city", "buyer", "spend_90d", "engaged", "value_per_view", "vip"]


@pytest.fixture
def project(write_config):
    return load_project(write_config(CONFIG))


def ids(labels) -> list[str]:
    return [label.id for label in labels]


def passes(plan) -> dict[str, tuple[list[str], list[str]]]:
    return {p.source: (p.indicators, p.labels) for p in plan.passes}


def test_monday_groups_labels_by_the_source_they_read(project):
    plan = make_plan(project, D(2026, 3, 30))  # computed=None: every label has values already

    assert plan.run_date == D(2026, 3, 30)
    assert ids(plan.due) == ["age_band", "home_city", "engaged", "value_per_view", "vip"]
    assert ids(plan.carried) == ["buyer", "spend_90d"]  # monthly:31 on the 30th; once, computed
    # one pass per source in config order, without the id map; a pass reads the indicators of
    # cross-source labels too, even where none of its own labels is due
    assert passes(plan) == {
        "members": (["birthday", "city"], ["age_band", "home_city"]),  # age_band reads birthday through `age`
        "orders": (["orders_30d", "spend_90d"], []),
        "events": (["views_7d"], []),
    }
    assert list(passes(plan)) == ["members", "orders", "events"]
    assert plan.cross_source == ["engaged", "value_per_view"]  # a rule over two sources; an expr over two
    assert plan.imports == ["vip"]
    assert plan.indicators == {"birthday", "age", "city", "orders_30d", "views_7d", "spend_90d", "spend_per_view"}


def test_month_end_and_a_once_label_never_computed(project):
    computed = set(ENABLED) - {"spend_90d"}
    plan = make_plan(project, D(2026, 3, 31), computed=computed)  # a Tuesday, the month's last day

    assert ids(plan.due) == ["age_band", "buyer", "spend_90d", "engaged", "value_per_view", "vip"]
    assert ids(plan.carried) == ["home_city"]
    assert passes(plan) == {
        "members": (["birthday"], ["age_band"]),
        "orders": (["orders_30d", "spend_90d"], ["buyer", "spend_90d"]),
        "events": (["views_7d"], []),
    }
    assert plan.cross_source == ["engaged", "value_per_view"]
    assert plan.imports == ["vip"]


def test_a_computed_once_label_is_carried(project):
    plan = make_plan(project, D(2026, 3, 31), computed=set(ENABLED))
    assert "spend_90d" in ids(plan.carried)
    assert "spend_90d" not in ids(plan.due)
    assert passes(plan)["orders"][1] == ["buyer"]


def test_disabled_labels_are_neither_due_nor_carried(project):
    for day in (D(2026, 3, 30), D(2026, 3, 31)):
        plan = make_plan(project, day, computed=set())
        assert ids(plan.due) == ENABLED  # nothing computed yet: everything is due
        assert ids(plan.carried) == []
        assert all("old_city_flag" not in p.labels for p in plan.passes)
        assert "old_city_flag" not in plan.cross_source
    forced = make_plan(project, D(2026, 3, 30), only=["old_city_flag"])
    assert ids(forced.due) == []


def test_labels_option_forces_those_labels_and_carries_every_other(project):
    plan = make_plan(project, D(2026, 3, 31), computed=set(ENABLED), only=["home_city", "spend_90d"])

    assert ids(plan.due) == ["home_city", "spend_90d"]  # weekly:MON on a Tuesday; once, computed
    assert ids(plan.carried) == ["age_band", "buyer", "engaged", "value_per_view", "vip"]  # daily ones too
    assert passes(plan) == {
        "members": (["city"], ["home_city"]),
        "orders": (["spend_90d"], ["spend_90d"]),
        "events": ([], []),
    }
    assert plan.cross_source == []
    assert plan.imports == []
    assert plan.indicators == {"city", "spend_90d"}


def test_labels_option_with_an_import_and_a_cross_source_label(project):
    plan = make_plan(project, D(2026, 3, 30), only=["vip", "value_per_view"])
    assert ids(plan.due) == ["value_per_view", "vip"]
    assert plan.imports == ["vip"]
    assert plan.cross_source == ["value_per_view"]
    assert passes(plan) == {
        "members": ([], []),
        "orders": (["spend_90d"], []),
        "events": (["views_7d"], []),
    }
    assert plan.indicators == {"spend_per_view", "spend_90d", "views_7d"}


# -- which passes merge from tiles -----------------------------------------------------------------

SINGLE_SOURCE = """\
version: 1
name: shop
entity: {key: member_id}
sources:
  orders:
    format: parquet
    path: data/orders
    key: member_id
    time: order_time
    incremental: true
  members: {format: parquet, path: data/members, key: member_id, incremental: true}
indicators:
  orders_30d: {source: orders, agg: count, window: 30d}
  city:       {source: members, column: city}
labels:
  - {id: orders_30d, type: number, method: metric, indicator: orders_30d}
  - {id: city, type: string, method: first_last, indicator: city}
outputs: {warehouse: warehouse}
"""


def modes(config_text: str, write_config) -> dict[str, str | None]:
    plan = make_plan(load_project(write_config(config_text)), dt.date(2026, 3, 30))
    return {p.source: p.full_pass_because for p in plan.passes}


def test_a_source_with_time_merges_from_tiles_and_one_without_reads_every_row(write_config):
    found = modes(SINGLE_SOURCE, write_config)
    assert found["orders"] is None
    assert "no `time` column" in found["members"]


@pytest.mark.parametrize("change, reason", [
    (("    incremental: true\n", ""), "`incremental` is off (the default"),
    (("    incremental: true\n", "    incremental: true\n    clean: {dedupe: {by: [member_id]}}\n"), "`dedupe`"),
    (("orders_30d: {source: orders, agg: count, window: 30d}",
      "orders_30d: {source: orders, agg: count, where: {field: order_day, op: within_last, value: 7d}}"), "relative to the run date"),
    (("orders_30d: {source: orders, agg: count, window: 30d}",
      "orders_30d: {source: orders, agg: count, where: {field: order_day, op: after, value: 30d}}"), "relative to the run date"),
])
def test_what_needs_every_row_takes_the_full_pass_and_says_why(write_config, change, reason):
    assert reason in modes(SINGLE_SOURCE.replace(*change), write_config)["orders"]


def test_a_where_on_a_fixed_date_still_merges_from_tiles(write_config):
    fixed = SINGLE_SOURCE.replace("orders_30d: {source: orders, agg: count, window: 30d}",
                                  "orders_30d: {source: orders, agg: count, where: {field: order_day, op: after, value: 2026-01-01}}")
    assert modes(fixed, write_config)["orders"] is None


def test_an_id_map_sends_every_source_to_the_full_pass(write_config):
    mapped = CONFIG.replace("    time: order_time\n", "    time: order_time\n    incremental: true\n")
    plan = make_plan(load_project(write_config(mapped)), dt.date(2026, 3, 30))
    assert "`entity.id_map`" in next(p for p in plan.passes if p.source == "orders").full_pass_because
