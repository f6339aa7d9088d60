"""The benchmark's labels: the templates, each cycle moving every template to another window and
threshold, so more labels read more (and wider) indicators, as a real label set grows."""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Callable

from synthetic import DataSet
from workload_terms import (
    AGE, KEY, WINDOWS, Indicator, Rule, all_of, any_of, leaf, literal, member, not_, order_aggregate, windowed,
)


@dataclass
class Label:
    config: dict
    sql: str  # DuckDB expression over the entity row (and `thresholds`, `vip`)
    indicators: list[Indicator]
    kind: str
    thresholds: list[str] = field(default_factory=list)  # DuckDB aggregates over entities, for distribution tiers


def rules_label(label_id: str, kind: str, values: list[tuple], indicators: list[Indicator], multi: bool = False) -> Label:
    config = {"id": label_id, "type": kind, "method": "rules", "values": [{"value": v, "when": r.config} for v, r in values]}
    if multi:
        matches = ", ".join(f"CASE WHEN {r.sql} THEN {literal(v)} END" for v, r in values)
        chosen = f"list_filter([{matches}], lambda v: v IS NOT NULL)"
        sql = f"CASE WHEN len({chosen}) > 0 THEN {chosen} END"
        config["multi"] = True
    else:
        sql = "CASE " + " ".join(f"WHEN {r.sql} THEN {literal(v)}" for v, r in values) + " END"
    return Label(config, sql, indicators, kind)


def value_label(label_id: str, method: str, indicator: Indicator, **extra) -> Label:
    kind = indicator.kind
    config = {"id": label_id, "type": kind, "method": method, "indicator": indicator.name} | extra
    sql = f"CAST({indicator.name} AS DOUBLE)" if kind == "number" else indicator.name
    return Label(config, sql, [indicator], kind)


def distribution_label(label_id: str, indicator: Indicator, tiers: dict[str, float]) -> Label:
    config = {"id": label_id, "type": "string", "method": "distribution", "indicator": indicator.name, "tiers": tiers}
    columns = [f"t_{label_id}_{i}" for i in range(len(tiers))]
    sql = "CASE " + " ".join(f"WHEN {indicator.name} <= thresholds.{c} THEN {literal(t)}" for c, t in zip(columns, tiers)) + " END"
    aggregates = [f"quantile_cont({indicator.name}, {q}) AS {c}" for c, q in zip(columns, tiers.values())]
    return Label(config, sql, [indicator], "string", aggregates)


def _templates() -> list[Callable[[str, int, int], Label]]:
    """Each template makes one label from (id, window days, cycle)."""
    tier1 = ["Shanghai", "Beijing", "Shenzhen", "Guangzhou"]
    new_tier1 = ["Hangzhou", "Chengdu", "Wuhan", "Xi'an", "Nanjing", "Suzhou"]
    city, email, gender, level = member("city", "string"), member("email", "string"), member("gender", "string"), member("level", "number")
    last_order = order_aggregate("last_order_date", "max", "order_date", [], {"source": "orders", "agg": "max", "of": "order_date"})
    first_order = order_aggregate("first_order_date", "min", "order_date", [], {"source": "orders", "agg": "min", "of": "order_date"})
    app = leaf("channel", "eq", "app")
    coupon = leaf("coupon", "eq", True)
    big = leaf("amount", "gte", 500)

    def pick(name: str, agg: str, of: str) -> Indicator:
        return order_aggregate(name, agg, of, [], {"source": "orders", "agg": agg, "of": of})

    def active(i, w, k):
        orders = windowed("orders", w, "count")
        return rules_label(i, "boolean", [(True, leaf(orders.name, "gte", 1 + k % 3))], [orders])

    def spend_band(i, w, k):
        spend, scale = windowed("spend", w, "sum", "amount"), 1 + k % 3
        return rules_label(i, "string", [
            ("low", leaf(spend.name, "lt", 100 * scale)),
            ("mid", leaf(spend.name, "between", [100 * scale, 1000 * scale])),
            ("high", leaf(spend.name, "gte", 1000 * scale)),
        ], [spend])

    def spend_metric(i, w, k):
        return value_label(i, "metric", windowed("spend", w, "sum", "amount"), buckets=[0, 100 * (1 + k % 3), 1000])

    def spend_tier(i, w, k):
        return distribution_label(i, windowed("spend", w, "sum", "amount"), {"low": 0.5, "mid": 0.9, "high": 1.0})

    def favourite_category(i, w, k):
        return value_label(i, "preference", windowed("top_category", w, "mode", "category"))

    def channel_pick(i, w, k):
        indicator = [pick("first_channel", "first", "channel"), pick("last_channel", "last", "channel"), pick("last_pay_method", "last", "pay_method")][k % 3]
        return value_label(i, "first_last", indicator)

    def interests(i, w, k):
        categories = windowed("categories", w, "collect_set", "category")
        return rules_label(i, "list", [
            ("fashion", leaf(categories.name, "has_any", ["apparel", "shoes", "jewelry"])),
            ("beauty", leaf(categories.name, "list_contains", "beauty")),
            ("family", leaf(categories.name, "has_all", ["kids", "toys"])),
            ("geek", leaf(categories.name, "has_any", ["digital", "books"])),
        ], [categories], multi=True)

    def city_tier(i, w, k):
        return rules_label(i, "string", [
            ("tier1", leaf("city", "in", tier1)),
            ("new_tier1", leaf("city", "in", new_tier1)),
            ("other", all_of(leaf("city", "not_in", tier1 + new_tier1[: k % 4]), leaf("city", "not_null"))),
        ], [city])

    def age_band(i, w, k):
        edge = 35 + k % 5
        return rules_label(i, "string", [
            ("minor", leaf("age", "lt", 18)),
            ("young", leaf("age", "between", [18, edge - 1])),
            ("middle", leaf("age", "between", [edge, 59])),
            ("senior", leaf("age", "gte", 60)),
        ], [member("birthday", "date"), AGE])

    def recency(i, w, k):
        return rules_label(i, "string", [
            ("recent", leaf("last_order_date", "within_last", f"{w}d")),
            ("lapsed", leaf("last_order_date", "before", f"{max(w, 30)}d")),
        ], [last_order])

    def email_kind(i, w, k):
        return rules_label(i, "string", [
            ("missing", leaf("email", "is_null")),
            ("corporate", leaf("email", "ends_with", "@corp.example")),
            ("lucky", leaf("email", "matches", f"^m[0-9]*{k % 10}@")),
        ], [email])

    def app_fan(i, w, k):
        apps = windowed("app_orders", w, "count", where=app)
        coupons = windowed("coupon_orders", w, "count", where=coupon)
        return rules_label(i, "boolean", [(True, all_of(leaf(apps.name, "gte", 2), not_(leaf(coupons.name, "gte", 1 + k % 2))))], [apps, coupons])

    def avg_order(i, w, k):
        return value_label(i, "metric", windowed("avg_order", w, "avg", "amount"))

    def newcomer(i, w, k):
        return rules_label(i, "string", [
            ("new_buyer", leaf("first_order_date", "after", f"{w}d")),
            ("loyal", leaf("first_order_date", "before", "365d")),
        ], [first_order])

    def premium(i, w, k):
        return rules_label(i, "boolean", [(True, any_of(
            all_of(leaf("level", "gte", 4), leaf("gender", "eq", "F")),
            all_of(leaf("level", "eq", 5 - k % 2), leaf("gender", "ne", "F")),
        ))], [level, gender])

    def city_name(i, w, k):
        return rules_label(i, "string", [
            ("sh", leaf("city", "starts_with", "Sh")),
            ("an", leaf("city", "contains", "an")),
            ("early", leaf("city", "lte", "C")),
        ], [city])

    def order_size(i, w, k):
        largest, smallest = windowed("max_order", w, "max", "amount"), windowed("min_order", w, "min", "amount")
        bigs = windowed("big_orders", w, "count", where=big)
        return rules_label(i, "string", [
            ("big", leaf(largest.name, "gt", 2000 + 100 * k)),
            ("bargain", leaf(smallest.name, "lte", 10)),
            ("some_big", leaf(bigs.name, "gt", 0)),
        ], [largest, smallest, bigs])

    def breadth(i, w, k):
        return value_label(i, "metric", windowed("categories_n", w, "count_distinct", "category"), buckets=[1, 3, 6])

    def items_tier(i, w, k):
        return distribution_label(i, windowed("items", w, "sum", "quantity"), {"few": 0.25, "some": 0.75, "many": 1.0})

    def query_builder(i, w, k):
        orders, spend = windowed("orders", w, "count"), windowed("spend", w, "sum", "amount")
        low, high = 100 * (1 + k), 5000
        when = {"combinator": "and", "not": False, "rules": [
            {"field": orders.name, "operator": ">=", "value": "1"},
            {"field": spend.name, "operator": "between", "value": f"{low},{high}"},
        ]}
        sql = f"coalesce({orders.name} >= 1, false) AND coalesce({spend.name} BETWEEN {low} AND {high}, false)"
        return rules_label(i, "boolean", [(True, Rule(when, sql))], [orders, spend])

    def top_channel(i, w, k):
        return value_label(i, "preference", windowed("top_channel", w, "mode", "channel"))

    def app_first(i, w, k):
        channel = windowed("top_channel", w, "mode", "channel")
        return rules_label(i, "string", [
            ("app_first", leaf(channel.name, "eq", "app")),
            ("other", leaf(channel.name, "ne", "app")),
        ], [channel])

    return [active, spend_band, spend_metric, spend_tier, favourite_category, channel_pick, interests, city_tier,
            age_band, recency, email_kind, app_fan, avg_order, newcomer, premium, city_name, order_size, breadth,
            items_tier, query_builder, top_channel, app_first]


def vip_label(data: DataSet) -> Label:
    config = {"id": "vip", "type": "boolean", "method": "import", "path": str(data.vip), "key": KEY, "value": "is_vip"}
    return Label(config, "vip.is_vip", [], "boolean")


def make_labels(count: int, data: DataSet) -> list[Label]:
    """`count` labels: the templates in turn, each cycle on other windows and thresholds, one import."""
    templates = _templates()
    labels = [vip_label(data)] if count else []
    for n in range(1, count):
        cycle, position = divmod(n - 1, len(templates))
        template = templates[position]
        labels.append(template(f"{template.__name__}_{n:03d}", WINDOWS[(n + cycle) % len(WINDOWS)], cycle))
    return labels


def make_labels_over(count: int, base: list[Label]) -> list[Label]:
    """`count` labels reading only the indicators of `base` (a `make_labels` list): its templates
    in turn on the windows they had there, each cycle on other thresholds (a cycle that would
    read another indicator, e.g. another pick, is skipped for the next)."""
    templates = {template.__name__: template for template in _templates()}
    allowed = {indicator.name for label in base for indicator in label.indicators}
    used = [(label.config["id"].rsplit("_", 1)[0], n) for n, label in enumerate(base) if label.config["method"] != "import"]
    labels = [label for label in base if label.config["method"] == "import"]
    for n in range(1, count):
        name, position = used[(n - 1) % len(used)]
        cycle = (n - 1) // len(used)
        label = templates[name](f"{name}_{n:03d}", WINDOWS[position % len(WINDOWS)], cycle)
        while not {indicator.name for indicator in label.indicators} <= allowed:
            cycle += 1
            label = templates[name](f"{name}_{n:03d}", WINDOWS[position % len(WINDOWS)], cycle)
        labels.append(label)
    return labels


@dataclass
class Workload:
    labels: list[Label]
    indicators: dict[str, Indicator]


def workload(count: int, data: DataSet, indicators_of: int | None = None) -> Workload:
    """`count` labels; with `indicators_of`, reading only the indicators of that many labels."""
    labels = make_labels(count, data) if indicators_of is None else make_labels_over(count, make_labels(indicators_of, data))
    indicators: dict[str, Indicator] = {}
    for label in labels:
        for indicator in label.indicators:
            indicators.setdefault(indicator.name, indicator)
    return Workload(labels, indicators)

