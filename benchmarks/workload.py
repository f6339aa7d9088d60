"""The benchmark's labels: N labels of every method and operator over windows of 7 to 365 days,
written twice from one description: as a labelspark config, and as hand-written DuckDB SQL
of the same indicators and labels (the floor labelspark is measured against).

Labels cycle through the templates below; each cycle moves every template to another window
and threshold, so more labels read more (and wider) indicators, as a real label set grows.
"""
from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable

import yaml

from synthetic import RUN_DATE, TIMEZONE, UTC_OFFSET, DataSet

WINDOWS = (7, 14, 30, 60, 90, 180, 365)
KEY = "member_id"


# ---- indicators ---------------------------------------------------------------------------

@dataclass(frozen=True)
class Indicator:
    name: str
    config: dict
    sql: str  # DuckDB: an aggregate over `orders`, a column of `members`, or an expression over both
    source: str  # orders | members | expr | values (an aggregate over counts per member and value, see below)
    kind: str  # number | string | date | list
    zero_when_empty: bool = False
    counted: tuple[str, str] | None = None  # values: (column, condition) whose rows are counted per value


def _day_start(day: dt.date) -> str:
    """The instant a local day of the project's timezone starts, as a DuckDB literal."""
    start = dt.datetime.combine(day, dt.time()) - UTC_OFFSET
    return f"TIMESTAMPTZ '{start.isoformat()}+00'"


def _window(days: int) -> str:
    return f"order_time >= {_day_start(RUN_DATE - dt.timedelta(days=days - 1))}"


def _filtered(expression: str, conditions: list[str]) -> str:
    return f"{expression} FILTER (WHERE {' AND '.join(conditions)})" if conditions else expression


def _windowed(name: str, days: int, agg: str, of: str | None = None, where: "Rule | None" = None) -> Indicator:
    conditions = [_window(days)] + ([where.sql] if where else [])
    config = {"source": "orders", "agg": agg, "window": f"{days}d"} | ({"of": of} if of else {}) | ({"where": where.config} if where else {})
    return _order_aggregate(f"{name}_{days}d", agg, of, conditions, config)


def _order_aggregate(name: str, agg: str, of: str | None, conditions: list[str], config: dict) -> Indicator:
    if agg == "count":
        sql, kind = _filtered("count(*)", conditions), "number"
    elif agg in ("sum", "avg", "min", "max"):
        sql, kind = _filtered(f"{agg}({of})", conditions), "date" if of == "order_date" else "number"
    elif agg in ("count_distinct", "mode", "collect_set"):
        # over rows counted per (member, value) first: DuckDB's fastest plan for all three;
        # `{n}` is that count under the indicator's condition. mode: ties to the smallest value.
        sql, kind = {
            "count_distinct": ("count(*) FILTER (WHERE {n} > 0)", "number"),
            "mode": ("(min({{'n': -{n}, 'v': v}}) FILTER (WHERE {n} > 0)).v", "string"),
            "collect_set": ("list(v ORDER BY v) FILTER (WHERE {n} > 0)", "list"),
        }[agg]
        condition = " AND ".join(conditions) or "TRUE"
        return Indicator(name, config, sql, "values", kind, zero_when_empty=agg == "count_distinct", counted=(of, condition))
    elif agg in ("first", "last"):  # by time, ties by value
        pick = "min" if agg == "first" else "max"
        sql, kind = "(" + _filtered(f"{pick}({{'t': order_time, 'v': {of}}})", conditions + [f"{of} IS NOT NULL"]) + ").v", "string"
    else:
        raise ValueError(agg)
    return Indicator(name, config, sql, "orders", kind, zero_when_empty=agg in ("count", "count_distinct"))


def _member(column: str, kind: str) -> Indicator:
    return Indicator(column, {"source": "members", "column": column}, column, "members", kind)


RUN = f"DATE '{RUN_DATE.isoformat()}'"
AGE = Indicator(
    "age",
    {"expr": "floor(months_between(run_date, birthday) / 12)", "type": "number"},
    # Spark's months_between: whole months plus the day difference over 31
    f"floor(((year({RUN}) - year(birthday)) * 12 + month({RUN}) - month(birthday) + (day({RUN}) - day(birthday)) / 31.0) / 12)",
    "expr",
    "number",
)


# ---- rules --------------------------------------------------------------------------------

@dataclass(frozen=True)
class Rule:
    config: dict
    sql: str  # a DuckDB predicate that is false, never null, where its fields are null


def _literal(value) -> str:
    if isinstance(value, bool):
        return "TRUE" if value else "FALSE"
    if isinstance(value, (int, float)):
        return repr(value)
    if isinstance(value, dt.date):
        return f"DATE '{value.isoformat()}'"
    return "'" + str(value).replace("'", "''") + "'"


def _days_ago(days: int) -> str:
    return _literal(RUN_DATE - dt.timedelta(days=days))


def leaf(name: str, op: str, value=None) -> Rule:
    v = value
    sql = {
        "eq": lambda: f"{name} = {_literal(v)}",
        "ne": lambda: f"{name} <> {_literal(v)}",
        "lt": lambda: f"{name} < {_literal(v)}",
        "lte": lambda: f"{name} <= {_literal(v)}",
        "gt": lambda: f"{name} > {_literal(v)}",
        "gte": lambda: f"{name} >= {_literal(v)}",
        "between": lambda: f"{name} BETWEEN {_literal(v[0])} AND {_literal(v[1])}",
        "in": lambda: f"{name} IN ({', '.join(map(_literal, v))})",
        "not_in": lambda: f"{name} IS NOT NULL AND NOT ({name} IN ({', '.join(map(_literal, v))}))",
        "is_null": lambda: f"{name} IS NULL",
        "not_null": lambda: f"{name} IS NOT NULL",
        "contains": lambda: f"contains({name}, {_literal(v)})",
        "list_contains": lambda: f"list_contains({name}, {_literal(v)})",
        "starts_with": lambda: f"starts_with({name}, {_literal(v)})",
        "ends_with": lambda: f"suffix({name}, {_literal(v)})",
        "matches": lambda: f"regexp_matches({name}, {_literal(v)})",
        "has_any": lambda: f"list_has_any({name}, [{', '.join(map(_literal, v))}])",
        "has_all": lambda: f"list_has_all({name}, [{', '.join(map(_literal, v))}])",
        "within_last": lambda: f"{name} BETWEEN {_days_ago(int(v[:-1]) - 1)} AND {_literal(RUN_DATE)}",
        "before": lambda: f"{name} < {_days_ago(int(v[:-1]))}",
        "after": lambda: f"{name} > {_days_ago(int(v[:-1]))}",
    }[op]()
    config_op = "contains" if op == "list_contains" else op
    config = {"field": name, "op": config_op} | ({} if op in ("is_null", "not_null") else {"value": v})
    return Rule(config, f"coalesce({sql}, false)")


def all_of(*rules: Rule) -> Rule:
    return Rule({"all": [r.config for r in rules]}, "(" + " AND ".join(r.sql for r in rules) + ")")


def any_of(*rules: Rule) -> Rule:
    return Rule({"any": [r.config for r in rules]}, "(" + " OR ".join(r.sql for r in rules) + ")")


def not_(rule: Rule) -> Rule:
    return Rule({"not": rule.config}, f"(NOT {rule.sql})")


# ---- labels -------------------------------------------------------------------------------

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
        matches = ", ".join(f"CASE WHEN {r.sql} THEN {_literal(v)} END" for v, r in values)
        chosen = f"list_filter([{matches}], lambda v: v IS NOT NULL)"
        sql = f"CASE WHEN len({chosen}) > 0 THEN {chosen} END"
        config["multi"] = True
    else:
        sql = "CASE " + " ".join(f"WHEN {r.sql} THEN {_literal(v)}" for v, r in values) + " END"
    return Label(config, sql, indicators, kind)


def value_label(label_id: str, method: str, indicator: Indicator, **extra) -> Label:
    kind = indicator.kind
    config = {"id": label_id, "type": kind, "method": method, "indicator": indicator.name} | extra
    sql = f"CAST({indicator.name} AS DOUBLE)" if kind == "number" else indicator.name
    return Label(config, sql, [indicator], kind)


def distribution_label(label_id: str, indicator: Indicator, tiers: dict[str, float]) -> Label:
    config = {"id": label_id, "type": "string", "method": "distribution", "indicator": indicator.name, "tiers": tiers}
    columns = [f"t_{label_id}_{i}" for i in range(len(tiers))]
    sql = "CASE " + " ".join(f"WHEN {indicator.name} <= thresholds.{c} THEN {_literal(t)}" for c, t in zip(columns, tiers)) + " END"
    aggregates = [f"quantile_cont({indicator.name}, {q}) AS {c}" for c, q in zip(columns, tiers.values())]
    return Label(config, sql, [indicator], "string", aggregates)


def _templates() -> list[Callable[[str, int, int], Label]]:
    """Each template makes one label from (id, window days, cycle)."""
    tier1 = ["Shanghai", "Beijing", "Shenzhen", "Guangzhou"]
    new_tier1 = ["Hangzhou", "Chengdu", "Wuhan", "Xi'an", "Nanjing", "Suzhou"]
    city, email, gender, level = _member("city", "string"), _member("email", "string"), _member("gender", "string"), _member("level", "number")
    last_order = _order_aggregate("last_order_date", "max", "order_date", [], {"source": "orders", "agg": "max", "of": "order_date"})
    first_order = _order_aggregate("first_order_date", "min", "order_date", [], {"source": "orders", "agg": "min", "of": "order_date"})
    app = leaf("channel", "eq", "app")
    coupon = leaf("coupon", "eq", True)
    big = leaf("amount", "gte", 500)

    def pick(name: str, agg: str, of: str) -> Indicator:
        return _order_aggregate(name, agg, of, [], {"source": "orders", "agg": agg, "of": of})

    def active(i, w, k):
        orders = _windowed("orders", w, "count")
        return rules_label(i, "boolean", [(True, leaf(orders.name, "gte", 1 + k % 3))], [orders])

    def spend_band(i, w, k):
        spend, scale = _windowed("spend", w, "sum", "amount"), 1 + k % 3
        return rules_label(i, "string", [
            ("low", leaf(spend.name, "lt", 100 * scale)),
            ("mid", leaf(spend.name, "between", [100 * scale, 1000 * scale])),
            ("high", leaf(spend.name, "gte", 1000 * scale)),
        ], [spend])

    def spend_metric(i, w, k):
        return value_label(i, "metric", _windowed("spend", w, "sum", "amount"), buckets=[0, 100 * (1 + k % 3), 1000])

    def spend_tier(i, w, k):
        return distribution_label(i, _windowed("spend", w, "sum", "amount"), {"low": 0.5, "mid": 0.9, "high": 1.0})

    def favourite_category(i, w, k):
        return value_label(i, "preference", _windowed("top_category", w, "mode", "category"))

    def channel_pick(i, w, k):
        indicator = [pick("first_channel", "first", "channel"), pick("last_channel", "last", "channel"), pick("last_pay_method", "last", "pay_method")][k % 3]
        return value_label(i, "first_last", indicator)

    def interests(i, w, k):
        categories = _windowed("categories", w, "collect_set", "category")
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
        ], [_member("birthday", "date"), AGE])

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
        apps = _windowed("app_orders", w, "count", where=app)
        coupons = _windowed("coupon_orders", w, "count", where=coupon)
        return rules_label(i, "boolean", [(True, all_of(leaf(apps.name, "gte", 2), not_(leaf(coupons.name, "gte", 1 + k % 2))))], [apps, coupons])

    def avg_order(i, w, k):
        return value_label(i, "metric", _windowed("avg_order", w, "avg", "amount"))

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
        largest, smallest = _windowed("max_order", w, "max", "amount"), _windowed("min_order", w, "min", "amount")
        bigs = _windowed("big_orders", w, "count", where=big)
        return rules_label(i, "string", [
            ("big", leaf(largest.name, "gt", 2000 + 100 * k)),
            ("bargain", leaf(smallest.name, "lte", 10)),
            ("some_big", leaf(bigs.name, "gt", 0)),
        ], [largest, smallest, bigs])

    def breadth(i, w, k):
        return value_label(i, "metric", _windowed("categories_n", w, "count_distinct", "category"), buckets=[1, 3, 6])

    def items_tier(i, w, k):
        return distribution_label(i, _windowed("items", w, "sum", "quantity"), {"few": 0.25, "some": 0.75, "many": 1.0})

    def query_builder(i, w, k):
        orders, spend = _windowed("orders", w, "count"), _windowed("spend", w, "sum", "amount")
        low, high = 100 * (1 + k), 5000
        when = {"combinator": "and", "not": False, "rules": [
            {"field": orders.name, "operator": ">=", "value": "1"},
            {"field": spend.name, "operator": "between", "value": f"{low},{high}"},
        ]}
        sql = f"coalesce({orders.name} >= 1, false) AND coalesce({spend.name} BETWEEN {low} AND {high}, false)"
        return rules_label(i, "boolean", [(True, Rule(when, sql))], [orders, spend])

    def top_channel(i, w, k):
        return value_label(i, "preference", _windowed("top_channel", w, "mode", "channel"))

    def app_first(i, w, k):
        channel = _windowed("top_channel", w, "mode", "channel")
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


# ---- the two renderings -------------------------------------------------------------------

def config_yaml(work: Workload, data: DataSet, warehouse: Path) -> str:
    """The labelspark config of the workload."""
    config = {
        "version": 1,
        "name": "bench_retail",
        "timezone": TIMEZONE,
        "entity": {"key": KEY, "kind": "member_id"},
        "sources": {
            "members": {
                "format": "parquet", "path": str(data.members), "key": KEY, "time": "updated_at",
                "clean": {"drop_null": [KEY], "trim": ["city"], "lower": ["email"],
                          "dedupe": {"by": [KEY], "keep": "latest"}, "filter": "status != 'deleted'"},
            },
            "orders": {
                "format": "parquet", "path": str(data.orders), "key": KEY, "time": "order_time",
                "clean": {"drop_null": [KEY, "amount"], "filter": "amount > 0"},
            },
        },
        "indicators": {name: ind.config for name, ind in work.indicators.items()},
        "labels": [label.config for label in work.labels],
        "segments": _segments(work),
        "outputs": {"warehouse": str(warehouse)},
    }
    return yaml.safe_dump(config, sort_keys=False, allow_unicode=True, width=200)


def _segments(work: Workload) -> list[dict]:
    booleans = [label.config["id"] for label in work.labels if label.kind == "boolean" and label.config["method"] == "rules"]
    return [{"id": "bench_segment", "when": {"any": [{"label": b, "op": "eq", "value": True} for b in booleans[:3]]}}] if booleans else []


def duckdb_sql(work: Workload, data: DataSet, output: Path) -> str:
    """The same indicators and labels in DuckDB SQL: one aggregation per source, one select."""
    cutoff = _day_start(RUN_DATE + dt.timedelta(days=1))
    by_source = {s: [i for i in work.indicators.values() if i.source == s] for s in ("members", "orders", "values", "expr")}
    member_columns = "".join(f", {i.sql} AS {i.name}" for i in by_source["members"])
    order_columns = "".join(f", {i.sql} AS {i.name}" for i in by_source["orders"])
    entity_columns = "".join(
        f", coalesce(o.{i.name}, 0) AS {i.name}" if i.zero_when_empty else f", {'m' if i.source == 'members' else 'o'}.{i.name}"
        for i in by_source["members"] + by_source["orders"] + by_source["values"]
    )
    value_ctes, value_joins = _counted_values(by_source["values"])
    expressions = "".join(f", {i.sql} AS {i.name}" for i in by_source["expr"])
    thresholds = [t for label in work.labels for t in label.thresholds]
    imports = [label for label in work.labels if label.config["method"] == "import"]
    labels = ",\n  ".join(f"{label.sql} AS {label.config['id']}" for label in work.labels)
    ctes = [
        f"""members AS (
  SELECT * FROM (
    SELECT {KEY}, gender, birthday, regexp_replace(city, '^\\s+|\\s+$', '', 'g') AS city, lower(email) AS email,
           level, register_date, status
    FROM read_parquet('{data.members}/*.parquet')
    WHERE {KEY} IS NOT NULL AND updated_at < {cutoff}
    QUALIFY row_number() OVER (PARTITION BY {KEY} ORDER BY updated_at DESC) = 1)
  WHERE status <> 'deleted')""",
        f"""orders AS (
  SELECT * FROM read_parquet('{data.orders}/*.parquet')
  WHERE order_time < {cutoff} AND {KEY} IS NOT NULL AND amount IS NOT NULL AND amount > 0)""",
        f"member_indicators AS (SELECT {KEY}{member_columns} FROM members)",
        f"order_aggregates AS (SELECT {KEY}{order_columns} FROM orders GROUP BY {KEY})",
        *value_ctes,
        f"order_indicators AS (SELECT * FROM order_aggregates{value_joins})",
        f"""joined AS (
  SELECT coalesce(m.{KEY}, o.{KEY}) AS {KEY}{entity_columns}
  FROM member_indicators m FULL OUTER JOIN order_indicators o ON m.{KEY} = o.{KEY})""",
        f"entities AS (SELECT *{expressions} FROM joined)",
    ]
    sources = ["entities"]
    if thresholds:
        ctes.append(f"thresholds AS (SELECT {', '.join(thresholds)} FROM entities)")
        sources.append("CROSS JOIN thresholds")
    for label in imports:
        ctes.append(f"vip AS (SELECT {label.config['key']} AS {KEY}, max(is_vip) AS is_vip FROM read_csv('{data.vip}', header = true) GROUP BY ALL)")
        sources.append(f"LEFT JOIN vip USING ({KEY})")
    return (
        "SET TimeZone = 'UTC';\n"
        f"COPY (\nWITH {', '.join(ctes)}\nSELECT entities.{KEY},\n  {labels}\nFROM {' '.join(sources)}\n) TO '{output}' (FORMAT parquet);\n"
    )


def _counted_values(indicators: list[Indicator]) -> tuple[list[str], str]:
    """Per column: rows counted per (member, value) under each condition, then the indicators
    of each member from those counts; and the joins that bring them to the order indicators."""
    ctes, joins = [], ""
    columns = sorted({i.counted[0] for i in indicators})
    for column in columns:
        mine = [i for i in indicators if i.counted[0] == column]
        conditions = sorted({i.counted[1] for i in mine})
        counts = ", ".join(f"count(*) FILTER (WHERE {c}) AS n{k}" for k, c in enumerate(conditions))
        ctes.append(f"counts_{column} AS (SELECT {KEY}, {column} AS v, {counts} FROM orders WHERE {column} IS NOT NULL GROUP BY {KEY}, {column})")
        aggregates = ", ".join(i.sql.format(n=f"n{conditions.index(i.counted[1])}") + f" AS {i.name}" for i in mine)
        ctes.append(f"values_{column} AS (SELECT {KEY}, {aggregates} FROM counts_{column} GROUP BY {KEY})")
        joins += f" LEFT JOIN values_{column} USING ({KEY})"
    return ctes, joins


def write_config(work: Workload, data: DataSet, directory: Path, warehouse: Path) -> Path:
    directory.mkdir(parents=True, exist_ok=True)
    path = directory / "labelspark.yaml"
    path.write_text(config_yaml(work, data, warehouse))
    return path
