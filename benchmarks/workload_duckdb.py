"""The workload as hand-written DuckDB SQL: one aggregation per source, one select."""
from __future__ import annotations

import datetime as dt
from pathlib import Path

from synthetic import RUN_DATE, DataSet
from workload_labels import Workload
from workload_terms import KEY, by_source, counted_values, day_start, entity_columns, entity_ctes


def duckdb_sql(work: Workload, data: DataSet, output: Path) -> str:
    """The same indicators and labels in DuckDB SQL: one aggregation per source, one select."""
    cutoff = day_start(RUN_DATE + dt.timedelta(days=1))
    indicators_of = by_source(work)
    member_columns = "".join(f", {i.sql} AS {i.name}" for i in indicators_of["members"])
    order_columns = "".join(f", {i.sql} AS {i.name}" for i in indicators_of["orders"])
    entities = entity_columns(indicators_of)
    values = counted_values(indicators_of["values"])
    expressions = "".join(f", {i.sql} AS {i.name}" for i in indicators_of["expr"])
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
        *entity_ctes(member_columns, order_columns, values, entities, expressions),
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

