"""A generated project for the analytics tests: members and orders from a fixed seed, a config
with a label of every kind the commands treat apart, and runs over three days.

The runs: D1 computes every label; D2 and D3 every label but `vip_tier` (so it is carried and
goes stale); D3 runs an edited config (`activity` needs fewer orders for `high`).
"""
from __future__ import annotations

import datetime as dt
import random
from dataclasses import dataclass
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq

D1, D2, D3 = dt.date(2026, 3, 2), dt.date(2026, 3, 3), dt.date(2026, 3, 4)
MEMBERS = 80
CATEGORIES = ["a", "b", "c", "d"]
SKIPPED = "vip_tier"  # not computed on D2 and D3

CONFIG = """\
version: 1
name: generated
timezone: UTC
entity: {key: member_id}
sources:
  members: {format: parquet, path: data/members, key: member_id, time: updated_at}
  orders: {format: parquet, path: data/orders, key: member_id, time: order_time}
indicators:
  tier:          {source: members, column: tier}
  orders_2d:     {source: orders, agg: count, window: 2d}
  spend_3d:      {source: orders, agg: sum, of: amount, window: 3d}
  big_3d:        {source: orders, agg: max, of: amount, window: 3d}
  categories_3d: {source: orders, agg: collect_set, of: category, window: 3d}
labels:
  - id: activity
    group: Behaviour/Orders
    type: string
    method: rules
    values:
      - {value: high, when: {field: orders_2d, op: gte, value: HIGH}}
      - {value: some, when: {field: orders_2d, op: gte, value: 1}}
  - {id: vip_tier, group: Member, type: string, method: rules,
     values: [{value: gold, when: {field: tier, op: eq, value: gold}},
              {value: other, when: {field: tier, op: in, value: [silver, bronze]}}]}
  - id: keen
    group: Behaviour/Orders
    type: boolean
    method: rules
    values:
      - value: true
        when: {all: [{any: [{field: orders_2d, op: gte, value: 2}, {field: tier, op: eq, value: gold}]},
                     {not: {field: big_3d, op: lt, value: 10}}]}
  - {id: interests, group: Behaviour/Interest, type: list, method: rules, multi: true,
     values: [{value: ab, when: {field: categories_3d, op: has_any, value: [a, b]}},
              {value: c_fan, when: {field: categories_3d, op: contains, value: c}}]}
  - {id: spend_band, group: Value, type: number, method: metric, indicator: spend_3d, buckets: [0, 20, 60]}
  - {id: spend, group: Value, type: number, method: metric, indicator: spend_3d}
  - {id: spend_tier, group: Value, type: string, method: distribution, indicator: spend_3d, tiers: {low: 0.5, top: 1.0}}
  - {id: flagged, type: boolean, method: import, path: data/flags.csv, key: member_id, value: flag}
  - {id: never, type: boolean, method: rules, values: [{value: true, when: {field: orders_2d, op: gte, value: 1000}}]}
  - {id: everyone, type: boolean, method: rules, values: [{value: true, when: {field: orders_2d, op: gte, value: 0}}]}
  - {id: dormant, type: string, method: rules, status: disabled,
     values: [{value: dormant, when: {field: orders_2d, op: eq, value: 0}}]}
segments:
  - {id: busy, when: {label: activity, op: eq, value: high}}
  - {id: golds, when: {label: vip_tier, op: eq, value: gold}}
outputs: {warehouse: warehouse}
"""


@dataclass(frozen=True)
class Generated:
    directory: Path
    members: list[dict]
    orders: list[dict]
    flags: dict[str, bool]

    @property
    def config(self) -> Path:
        return self.directory / "labelspark.yaml"

    @property
    def edited(self) -> Path:
        return self.directory / "edited.yaml"

    @property
    def warehouse(self) -> Path:
        return self.directory / "warehouse"


def generate(directory: Path, seed: int = 7) -> Generated:
    """Writes the data, the config (`activity` high from 3 orders in 2 days) and its edit (from 2)."""
    rng = random.Random(seed)
    ids = [f"u{i:03d}" for i in range(MEMBERS)]
    members = [
        {"member_id": member, "tier": rng.choice(["gold", "silver", "bronze", None]),
         "updated_at": dt.datetime(2026, 2, 1, 12, tzinfo=dt.timezone.utc)}
        for member in ids[: MEMBERS - 10]  # the last ten only order
    ]
    orders = []
    for member in ids[10:]:  # the first ten never order
        for _ in range(rng.randint(0, 8)):
            day = D1 - dt.timedelta(days=rng.randint(-2, 6))  # up to D3, and earlier than every window
            orders.append({"member_id": member, "order_time": dt.datetime.combine(day, dt.time(rng.randint(0, 23)), dt.timezone.utc),
                           "amount": rng.randint(1, 160) / 4, "category": rng.choice(CATEGORIES)})
    flags = {member: rng.random() < 0.5 for member in rng.sample(ids, 30)}
    data = directory / "data"
    for name, rows in (("members", members), ("orders", orders)):
        (data / name).mkdir(parents=True)
        pq.write_table(pa.Table.from_pylist(rows), data / name / "part-0.parquet")
    lines = ["member_id,flag"] + [f"{member},{str(flag).lower()}" for member, flag in flags.items()] + ["nobody,true"]
    (data / "flags.csv").write_text("\n".join(lines) + "\n")
    (directory / "labelspark.yaml").write_text(CONFIG.replace("HIGH", "3"))
    (directory / "edited.yaml").write_text(CONFIG.replace("HIGH", "2"))
    return Generated(directory, members, orders, flags)


def run_three_days(spark, generated: Generated) -> None:
    from labelspark.config import load_project
    from labelspark.compute.run import run

    project, edited = load_project(generated.config), load_project(generated.edited)
    rest = [label.id for label in project.enabled_labels if label.id != SKIPPED]
    run(spark, project, D1, publish=False)
    run(spark, project, D2, only=rest, publish=False)
    run(spark, edited, D3, only=rest, publish=False)

