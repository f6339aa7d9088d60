"""The scenario of tests/test_multiday.py: generated members and orders over 38 days, the
versions of its config, and the same labels and segments as hand-written Python for the oracle.

Every source row carries a `time` on its own day (some a minute after local midnight or a
minute before the next, in Asia/Shanghai, so a cut in UTC would be off by a day); all rows
are written once, up front.
"""
from __future__ import annotations

import datetime as dt
import random
from dataclasses import dataclass
from zoneinfo import ZoneInfo

from tests.support.oracle import OracleLabel, OracleSegment, as_of, in_window, latest_by, local_day

TIMEZONE = "Asia/Shanghai"
FIRST_DAY = dt.date(2026, 3, 27)  # a Friday; day 38 is Sunday 2026-05-03
DAYS = [FIRST_DAY + dt.timedelta(days=i) for i in range(38)]
TIERS = ("G", "S", "B", None)
CATEGORIES = ("home", "shoes", "apparel", "books", "kids")


@dataclass(frozen=True)
class Member:
    member_id: str
    status: str
    tier: str | None
    updated_at: dt.datetime


@dataclass(frozen=True)
class Order:
    order_id: str
    member_id: str
    order_time: dt.datetime
    amount: float
    category: str


def _instant(rng: random.Random, day: dt.date, second: int) -> dt.datetime:
    """A local time on `day`, an edge of the day one time in four; `second` keeps it unique."""
    local = rng.choice([dt.time(0, 1, second), dt.time(23, 58, second)] + [dt.time(rng.randrange(24), rng.randrange(60), second)] * 6)
    return dt.datetime.combine(day, local, tzinfo=ZoneInfo(TIMEZONE)).astimezone(dt.timezone.utc)


def generate(seed: int = 14) -> tuple[list[Member], list[Order]]:
    """50 members who join (half before the first day), change tier, and are soft-deleted
    (some come back); 8 guests who only order; orders from 35 days before the first day on
    (a member's from the day before joining: an entity of orders before it is one of members)."""
    rng = random.Random(seed)
    last = DAYS[-1]
    members, orders, joins = [], [], {}
    for n in range(1, 51):
        member_id = f"m{n:02d}"
        joined = FIRST_DAY + dt.timedelta(days=rng.choice([rng.randint(-15, -1), rng.randint(0, 34)]))
        later = range(1, (last - joined).days + 1)
        changes = [0] + sorted(rng.sample(later, k=min(len(later), rng.choice([0, 1, 2, 3, 3, 4]))))
        status = "active"
        for i, offset in enumerate(changes):
            if i and rng.random() < 0.25:
                status = "deleted" if status == "active" else "active"
            day = joined + dt.timedelta(days=offset)
            members.append(Member(member_id, status, rng.choice(TIERS), _instant(rng, day, i)))
        joins[member_id] = joined
    for buyer in [*joins, *(f"g{n}" for n in range(1, 9))]:
        earliest = max(-35, (joins[buyer] - FIRST_DAY).days - 1) if buyer in joins else -35
        for i in range(rng.randint(0, 14)):
            day = FIRST_DAY + dt.timedelta(days=rng.randint(earliest, len(DAYS) - 1))
            amount = rng.randint(4, 1600) * 0.25  # quarters: sums are exact in binary
            orders.append(Order(f"o{len(orders):04d}", buyer, _instant(rng, day, i), amount, rng.choice(CATEGORIES)))
    return members, orders


def indicators(members: list[Member], orders: list[Order], day: dt.date) -> dict[str, dict]:
    """Entity -> indicator values as of `day`: members deduped to their latest row, deleted ones
    dropped; every entity of either source."""
    latest = latest_by(as_of(members, "updated_at", day, TIMEZONE), "member_id", "updated_at")
    live = {key: row for key, row in latest.items() if row.status != "deleted"}
    bought: dict[str, list[tuple[dt.date, Order]]] = {}
    for order in as_of(orders, "order_time", day, TIMEZONE):
        bought.setdefault(order.member_id, []).append((local_day(order.order_time, TIMEZONE), order))
    entities = {}
    for entity in set(live) | set(bought):
        mine = bought.get(entity, [])
        last_30 = [o for d, o in mine if in_window(d, day, 30)]
        entities[entity] = {
            "member_id": entity,
            "tier": live[entity].tier if entity in live else None,
            "orders_7d": sum(1 for d, _ in mine if in_window(d, day, 7)),
            "orders_30d": len(last_30),
            "spend_30d": sum(o.amount for o in last_30) if last_30 else None,
            "spend_total": sum(o.amount for _, o in mine) if mine else None,
            "categories_30d": sorted({o.category for o in last_30}) or None,
            "last_order_day": max(d for d, _ in mine) if mine else None,
        }
    return entities


# --- the config, version by version ----------------------------------------------------------

SOURCES = {
    "members": {
        "format": "parquet", "path": "data/members", "key": "member_id", "time": "updated_at",
        "clean": {"dedupe": {"by": ["member_id"], "keep": "latest"}, "filter": "status != 'deleted'"},
    },
    "orders": {"format": "parquet", "path": "data/orders", "key": "member_id", "time": "order_time"},
}
INDICATORS = {
    "tier": {"source": "members", "column": "tier"},
    "orders_7d": {"source": "orders", "agg": "count", "window": "7d"},
    "orders_30d": {"source": "orders", "agg": "count", "window": "30d"},
    "spend_30d": {"source": "orders", "agg": "sum", "of": "amount", "window": "30d"},
    "spend_total": {"source": "orders", "agg": "sum", "of": "amount"},
    "categories_30d": {"source": "orders", "agg": "collect_set", "of": "category", "window": "30d"},
    "last_order": {"source": "orders", "agg": "max", "of": "order_time"},
}


def _label(definition: dict, compute, buckets=None) -> OracleLabel:
    definition = {"schedule": "daily", "status": "enabled", **definition}
    return OracleLabel(definition["id"], definition["type"], definition["schedule"], compute, definition, buckets)


def _rule(field: str, op: str, value) -> dict:
    return {"field": field, "op": op, "value": value}


@dataclass(frozen=True)
class Version:
    """What differs between the versions of the config."""

    interests: bool = False  # the label added on day 10
    threshold: int = 300  # of big_spender
    recent_orders: str = "enabled"  # its status


def labels(version: Version, import_values: dict[str, str]) -> list[OracleLabel]:
    """The labels of a config version; `import_values`: the import file's rows (id -> text)
    as the run will read them."""
    threshold = version.threshold
    big = _rule("spend_30d", "gte", threshold)
    found = [
        _label({"id": "level", "type": "string", "method": "rules", "values": [
            {"value": "gold", "when": _rule("tier", "eq", "G")},
            {"value": "silver", "when": _rule("tier", "eq", "S")}]},
            lambda i: {"G": "gold", "S": "silver"}.get(i["tier"])),
        _label({"id": "big_spender", "type": "boolean", "method": "rules", "values": [
            {"value": True, "when": big}, {"value": False, "when": {"not": big}}]},
            # a comparison with a null is false, and its `not` true
            lambda i: i["spend_30d"] is not None and i["spend_30d"] >= threshold),
        _label({"id": "monday_orders", "type": "number", "method": "metric", "indicator": "orders_30d", "schedule": "weekly:MON"},
               lambda i: float(i["orders_30d"])),
        _label({"id": "friday_band", "type": "string", "method": "rules", "schedule": "weekly:FRI", "values": [
            {"value": "high", "when": _rule("spend_total", "gte", 1000)},
            {"value": "mid", "when": _rule("spend_total", "gte", 200)},
            {"value": "low", "when": _rule("spend_total", "lt", 200)}]},
            lambda i: None if i["spend_total"] is None else "high" if i["spend_total"] >= 1000 else "mid" if i["spend_total"] >= 200 else "low"),
        _label({"id": "month_spend", "type": "number", "method": "metric", "indicator": "spend_total",
                "schedule": "monthly:31", "buckets": [0, 500, 2000]},
               lambda i: i["spend_total"], buckets=[0, 500, 2000]),
        _label({"id": "first_level", "type": "string", "method": "rules", "schedule": "once", "values": [
            {"value": "vip", "when": _rule("tier", "in", ["G", "S"])},
            {"value": "regular", "when": _rule("tier", "eq", "B")}]},
            lambda i: "vip" if i["tier"] in ("G", "S") else "regular" if i["tier"] == "B" else None),
        _label({"id": "recent_orders", "type": "number", "method": "metric", "indicator": "orders_7d",
                "status": version.recent_orders},
               lambda i: float(i["orders_7d"])),
        _label({"id": "last_order_day", "type": "date", "method": "metric", "indicator": "last_order"},
               lambda i: i["last_order_day"]),
        _label({"id": "vip", "type": "boolean", "method": "import", "path": "data/vip.csv", "key": "member_id", "value": "is_vip"},
               lambda i: {"true": True, "false": False}.get(import_values.get(i["member_id"]))),
    ]
    if version.interests:
        interests = [("home", _rule("categories_30d", "contains", "home")),
                     ("fashion", _rule("categories_30d", "has_any", ["shoes", "apparel"])),
                     ("reading", _rule("categories_30d", "contains", "books"))]
        found.append(_label(
            {"id": "interests", "type": "list", "method": "rules", "multi": True, "schedule": "weekly:WED",
             "values": [{"value": v, "when": w} for v, w in interests]},
            lambda i: [v for v, c in (("home", {"home"}), ("fashion", {"shoes", "apparel"}), ("reading", {"books"}))
                       if c & set(i["categories_30d"] or ())] or None))
    return found


SEGMENTS = [
    ({"id": "gold_big_spenders", "when": {"all": [{"label": "level", "op": "eq", "value": "gold"},
                                                  {"label": "big_spender", "op": "eq", "value": True}]}},
     OracleSegment("gold_big_spenders", lambda row: row["level"] == "gold" and row["big_spender"] is True)),
    ({"id": "monday_regulars", "when": {"label": "monday_orders", "op": "gte", "value": 2}},
     OracleSegment("monday_regulars", lambda row: row["monday_orders"] is not None and row["monday_orders"] >= 2)),
]


def config(version: Version) -> dict:
    return {
        "version": 1, "name": "multiday", "timezone": TIMEZONE, "entity": {"key": "member_id"},
        "sources": SOURCES, "indicators": INDICATORS,
        "labels": [label.definition for label in labels(version, {})],
        "segments": [definition for definition, _ in SEGMENTS],
        "outputs": {"warehouse": "warehouse"},
    }
