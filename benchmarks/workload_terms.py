"""The benchmark's indicators and rules, each written twice: as labelspark config and as the
DuckDB SQL of the same thing (an aggregate or column, a predicate that is false where null)."""
from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Callable

from synthetic import RUN_DATE, UTC_OFFSET

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


def day_start(day: dt.date) -> str:
    """The instant a local day of the project's timezone starts, as a DuckDB literal."""
    start = dt.datetime.combine(day, dt.time()) - UTC_OFFSET
    return f"TIMESTAMPTZ '{start.isoformat()}+00'"


def _window(days: int) -> str:
    return f"order_time >= {day_start(RUN_DATE - dt.timedelta(days=days - 1))}"


def _filtered(expression: str, conditions: list[str]) -> str:
    return f"{expression} FILTER (WHERE {' AND '.join(conditions)})" if conditions else expression


def windowed(name: str, days: int, agg: str, of: str | None = None, where: "Rule | None" = None) -> Indicator:
    conditions = [_window(days)] + ([where.sql] if where else [])
    config = {"source": "orders", "agg": agg, "window": f"{days}d"} | ({"of": of} if of else {}) | ({"where": where.config} if where else {})
    return order_aggregate(f"{name}_{days}d", agg, of, conditions, config)


def order_aggregate(name: str, agg: str, of: str | None, conditions: list[str], config: dict) -> Indicator:
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


def member(column: str, kind: str) -> Indicator:
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


def literal(value) -> str:
    if isinstance(value, bool):
        return "TRUE" if value else "FALSE"
    if isinstance(value, (int, float)):
        return repr(value)
    if isinstance(value, dt.date):
        return f"DATE '{value.isoformat()}'"
    return "'" + str(value).replace("'", "''") + "'"


def _days_ago(days: int) -> str:
    return literal(RUN_DATE - dt.timedelta(days=days))


def leaf(name: str, op: str, value=None) -> Rule:
    v = value
    sql = {
        "eq": lambda: f"{name} = {literal(v)}",
        "ne": lambda: f"{name} <> {literal(v)}",
        "lt": lambda: f"{name} < {literal(v)}",
        "lte": lambda: f"{name} <= {literal(v)}",
        "gt": lambda: f"{name} > {literal(v)}",
        "gte": lambda: f"{name} >= {literal(v)}",
        "between": lambda: f"{name} BETWEEN {literal(v[0])} AND {literal(v[1])}",
        "in": lambda: f"{name} IN ({', '.join(map(literal, v))})",
        "not_in": lambda: f"{name} IS NOT NULL AND NOT ({name} IN ({', '.join(map(literal, v))}))",
        "is_null": lambda: f"{name} IS NULL",
        "not_null": lambda: f"{name} IS NOT NULL",
        "contains": lambda: f"contains({name}, {literal(v)})",
        "list_contains": lambda: f"list_contains({name}, {literal(v)})",
        "starts_with": lambda: f"starts_with({name}, {literal(v)})",
        "ends_with": lambda: f"suffix({name}, {literal(v)})",
        "matches": lambda: f"regexp_matches({name}, {literal(v)})",
        "has_any": lambda: f"list_has_any({name}, [{', '.join(map(literal, v))}])",
        "has_all": lambda: f"list_has_all({name}, [{', '.join(map(literal, v))}])",
        "within_last": lambda: f"{name} BETWEEN {_days_ago(int(v[:-1]) - 1)} AND {literal(RUN_DATE)}",
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


def by_source(work) -> dict[str, list[Indicator]]:
    """The workload's indicators per source: `members`, `orders`, `values` (counted per value) and `expr`."""
    return {s: [i for i in work.indicators.values() if i.source == s] for s in ("members", "orders", "values", "expr")}


def entity_columns(sources: dict[str, list[Indicator]]) -> str:
    """The select list (each item after a comma) that brings every source indicator to its entity."""
    return "".join(
        f", coalesce(o.{i.name}, 0) AS {i.name}" if i.zero_when_empty else f", {'m' if i.source == 'members' else 'o'}.{i.name}"
        for i in sources["members"] + sources["orders"] + sources["values"]
    )


def counted_values(indicators: list[Indicator], form: Callable[[str], str] = str) -> tuple[list[str], str]:
    """Per column: rows counted per (member, value) under each condition, then the indicators
    of each member from those counts; and the joins that bring them to the order indicators.
    `form` turns the terms' SQL into the dialect's."""
    ctes, joins = [], ""
    for column in sorted({i.counted[0] for i in indicators}):
        mine = [i for i in indicators if i.counted[0] == column]
        conditions = sorted({i.counted[1] for i in mine})
        counts = ", ".join(f"count(*) FILTER (WHERE {form(c)}) AS n{k}" for k, c in enumerate(conditions))
        ctes.append(f"counts_{column} AS (SELECT {KEY}, {column} AS v, {counts} FROM orders WHERE {column} IS NOT NULL GROUP BY {KEY}, {column})")
        aggregates = ", ".join(form(i.sql.format(n=f"n{conditions.index(i.counted[1])}")) + f" AS {i.name}" for i in mine)
        ctes.append(f"values_{column} AS (SELECT {KEY}, {aggregates} FROM counts_{column} GROUP BY {KEY})")
        joins += f" LEFT JOIN values_{column} USING ({KEY})"
    return ctes, joins


def entity_ctes(member_columns: str, order_columns: str, values: tuple[list[str], str], entities: str, expressions: str) -> list[str]:
    """The CTEs from the cleaned `members` and `orders` to `entities` (one row per entity, every
    indicator): one aggregation per source, the same SQL in both dialects."""
    value_ctes, value_joins = values
    return [
        f"member_indicators AS (SELECT {KEY}{member_columns} FROM members)",
        f"order_aggregates AS (SELECT {KEY}{order_columns} FROM orders GROUP BY {KEY})",
        *value_ctes,
        f"order_indicators AS (SELECT * FROM order_aggregates{value_joins})",
        f"""joined AS (
  SELECT coalesce(m.{KEY}, o.{KEY}) AS {KEY}{entities}
  FROM member_indicators m FULL OUTER JOIN order_indicators o ON m.{KEY} = o.{KEY})""",
        f"entities AS (SELECT *{expressions} FROM joined)",
    ]
