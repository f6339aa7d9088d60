"""The workload as hand-written Spark SQL, the counterpart of workload_duckdb.py: one aggregation
per source, one select. The terms' DuckDB SQL is carried over where Spark reads it alike and
rewritten (`spark_form`) where the dialects differ, so both floors compute one definition.

The result is a spec (JSON) for handwritten_job.py, which runs it with spark-submit: the
snapshot's SQL over the views `members_raw`, `orders_raw` and `vip_raw`, the labels' ids, types
and buckets (for label_stats and label_history) and the segments' predicates.
"""
from __future__ import annotations

import datetime as dt
import json
import re
from pathlib import Path

from synthetic import RUN_DATE, TIMEZONE, DataSet
from workload_labels import Label, Workload
from workload_terms import KEY, Indicator, by_source, counted_values, day_start, entity_columns, entity_ctes, literal

# DuckDB function -> Spark function of the same arguments
RENAMED = {"list_contains": "array_contains", "list_has_any": "arrays_overlap", "starts_with": "startswith",
           "suffix": "endswith", "regexp_matches": "regexp_like", "len": "size", "list_filter": "filter"}
STRUCT = re.compile(r"\{'(\w+)': ([^,{}]+), '(\w+)': ([^,{}]+)\}")  # {'t': order_time, 'v': channel}
SORTED_LIST = re.compile(r"list\(v ORDER BY v\) FILTER \(WHERE ([^)]*)\)")
HAS_ALL = re.compile(r"list_has_all\((\w+), \[([^\]]*)\]\)")
TIMESTAMPTZ = re.compile(r"TIMESTAMPTZ '([^']*)\+00'")
LITERAL = re.compile(r"'(?:[^']|'')*'")


def spark_form(sql: str) -> str:
    """DuckDB SQL of a term as Spark SQL: struct and list literals, list functions and lambdas,
    timestamps with a zone, and string literals escaped Spark's way (`\\'`, not `''`)."""
    sql = TIMESTAMPTZ.sub(r"TIMESTAMP '\1+00:00'", sql)
    sql = STRUCT.sub(r"named_struct('\1', \2, '\3', \4)", sql)
    # collect_list of no rows is an empty array where DuckDB's list is null
    sql = SORTED_LIST.sub(r"CASE WHEN count(*) FILTER (WHERE \1) > 0 THEN array_sort(collect_list(v) FILTER (WHERE \1)) END", sql)
    sql = HAS_ALL.sub(r"forall(array(\2), e_ -> array_contains(\1, e_))", sql)
    sql = sql.replace("lambda v: ", "v -> ")
    parts, at = [], 0
    for match in LITERAL.finditer(sql):
        parts.append(_outside_literals(sql[at:match.start()]))
        text = match.group()[1:-1].replace("''", "'")
        parts.append("'" + text.replace("\\", "\\\\").replace("'", "\\'") + "'")
        at = match.end()
    return "".join(parts) + _outside_literals(sql[at:])


def _outside_literals(sql: str) -> str:
    for old, new in RENAMED.items():
        sql = re.sub(rf"\b{old}\(", f"{new}(", sql)
    return sql.replace("[", "array(").replace("]", ")")


def _indicator(indicator: Indicator) -> str:
    if indicator.source == "expr":  # written in Spark SQL in the config already
        return indicator.config["expr"].replace("run_date", literal(RUN_DATE))
    return spark_form(indicator.sql)


def snapshot_sql(work: Workload) -> tuple[str, list[str]]:
    """The snapshot's select over the source views, and the views it reads (the sources, `vip_raw` for an import)."""
    cutoff = spark_form(day_start(RUN_DATE + dt.timedelta(days=1)))
    indicators_of = by_source(work)
    member_columns = "".join(f", {i.name}" for i in indicators_of["members"])
    order_columns = "".join(f", {_indicator(i)} AS {i.name}" for i in indicators_of["orders"])
    entities = entity_columns(indicators_of)
    values = counted_values(indicators_of["values"], spark_form)
    expressions = "".join(f", {_indicator(i)} AS {i.name}" for i in indicators_of["expr"])
    quantiles = _quantiles(work.labels)
    imports = [label for label in work.labels if label.config["method"] == "import"]
    labels = ",\n  ".join(f"{_label(label, quantiles)} AS {label.config['id']}" for label in work.labels)
    ctes = [
        # the latest row of each member (ties: the greatest values) by one aggregation, no sort
        f"""members AS (
  SELECT {KEY}, m.gender, m.birthday, regexp_replace(m.city, '^\\\\s+|\\\\s+$', '') AS city, lower(m.email) AS email,
         m.level, m.register_date, m.status
  FROM (SELECT {KEY}, max(named_struct('t', updated_at, 'gender', gender, 'birthday', birthday, 'city', city, 'email', email,
                                       'level', level, 'register_date', register_date, 'status', status)) AS m
        FROM members_raw WHERE {KEY} IS NOT NULL AND updated_at < {cutoff} GROUP BY {KEY})
  WHERE m.status <> 'deleted')""",
        f"orders AS (SELECT * FROM orders_raw WHERE order_time < {cutoff} AND {KEY} IS NOT NULL AND amount IS NOT NULL AND amount > 0)",
        *entity_ctes(member_columns, order_columns, values, entities, expressions),
    ]
    sources, views = ["entities"], ["members_raw", "orders_raw"]
    if quantiles:  # one exact percentile per indicator, of all the quantiles its tiers need
        columns = ", ".join(f"percentile({name}, array({', '.join(map(repr, qs))})) AS q_{name}" for name, qs in quantiles.items())
        ctes.append(f"thresholds AS (SELECT {columns} FROM entities)")
        sources.append("CROSS JOIN thresholds")
    for label in imports:
        ctes.append(f"vip AS (SELECT {label.config['key']} AS {KEY}, max(is_vip) AS is_vip FROM vip_raw GROUP BY {label.config['key']})")
        sources.append(f"LEFT JOIN vip USING ({KEY})")
        views.append("vip_raw")
    return f"WITH {', '.join(ctes)}\nSELECT entities.{KEY},\n  {labels}\nFROM {' '.join(sources)}", views


def _quantiles(labels: list[Label]) -> dict[str, list[float]]:
    wanted: dict[str, set[float]] = {}
    for label in labels:
        if label.config["method"] == "distribution":
            wanted.setdefault(label.config["indicator"], set()).update(label.config["tiers"].values())
    return {name: sorted(qs) for name, qs in wanted.items()}


def _label(label: Label, quantiles: dict[str, list[float]]) -> str:
    if label.config["method"] != "distribution":
        return spark_form(label.sql)
    name = label.config["indicator"]
    tiers = " ".join(f"WHEN {name} <= q_{name}[{quantiles[name].index(q)}] THEN {literal(t)}" for t, q in label.config["tiers"].items())
    return f"CASE {tiers} END"



def _segments(config: dict) -> list[dict]:
    """Each segment's predicate over the label columns (the bench's segments: `any` of `eq` leaves)."""
    return [
        {"id": s["id"], "when": " OR ".join(f"coalesce({leaf['label']} = {literal(leaf['value'])}, false)" for leaf in s["when"]["any"])}
        for s in config.get("segments", [])
    ]


def write_spec(work: Workload, data: DataSet, config: dict, warehouse: Path, path: Path) -> Path:
    """The spec of handwritten_job.py for this workload, written to `path`."""
    sql, views = snapshot_sql(work)
    sources = {"members_raw": {"format": "parquet", "path": str(data.members)},
               "orders_raw": {"format": "parquet", "path": str(data.orders)},
               "vip_raw": {"format": "csv", "path": str(data.vip), "schema": f"{KEY} BIGINT, is_vip BOOLEAN"}}
    spec = {
        "key": KEY, "run_date": RUN_DATE.isoformat(), "timezone": TIMEZONE, "warehouse": str(warehouse),
        "sources": {name: sources[name] for name in views}, "sql": sql,
        "labels": [{"id": label.config["id"], "type": label.kind, "buckets": label.config.get("buckets")} for label in work.labels],
        "segments": _segments(config),
    }
    path.write_text(json.dumps(spec, indent=1))
    return path
