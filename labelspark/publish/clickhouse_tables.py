"""ClickHouse's side of a published snapshot: table names and DDL, from the label kinds. No Spark.

Columns are typed from the label kinds; a label that can be null is `Nullable`, except a list
(ClickHouse has no nullable arrays: a null list reads as `[]`). Strings are `LowCardinality`:
label values are few distinct texts (categories, bucket names), which it stores as small codes
and filters on without reading the text. Rows are ordered by the entity key: one customer's
row is found without a scan, and selection by label values scans columns, which is what
ClickHouse does fast.
"""
from __future__ import annotations

import datetime as dt
import re

from labelspark.errors import PublishError
from labelspark.kinds import Kind

LOADING = "_loading"  # suffix of a table (or view) not yet complete: never read, dropped by the next publish
SNAPSHOT_ENGINE = "MergeTree"
DATE32_SINCE = (22, 8)  # Date32 holds 1900-2299 from here; Date (1970 to 2149-06-06) stores any other date as a wrong one
COLUMN_TYPES: dict[Kind, str] = {
    "string": "LowCardinality(Nullable(String))",
    "number": "Nullable(Float64)",
    "boolean": "Nullable(UInt8)",
    "date": "Nullable(Date)",
    "list": "Array(String)",
}
KEY_TYPES = {"string": "String", "bigint": "Int64", "int": "Int64", "smallint": "Int64", "tinyint": "Int64",
             "double": "Float64", "float": "Float64"}


def table_name(view: str, run_date: dt.date, run_id: str) -> str:
    """`<view>_<yyyymmdd>_<run id>`: one table per published snapshot."""
    return f"{view}_{run_date:%Y%m%d}_{run_id}"


def table_pattern(view: str) -> re.Pattern:
    """The names `table_name` gives for `view` (complete or `_loading`; run ids are
    `warehouse.runs.new_run_id`'s: 14 digits of time, 6 hex digits), and no other table's."""
    return re.compile(rf"^{re.escape(view)}_\d{{8}}_\d{{14}}[0-9a-f]{{6}}({LOADING})?$")


def column_settings(version: tuple[int, ...]) -> dict[str, str]:
    """Settings of every statement: LowCardinality was experimental before 19.x, allowed only with this one."""
    return {"allow_experimental_low_cardinality_type": "1"} if version < (19,) else {}


def date_range(version: tuple[int, ...]) -> tuple[dt.date, dt.date]:
    """The dates a date label's column holds on this server."""
    return (dt.date(1900, 1, 1), dt.date(2299, 12, 31)) if version >= DATE32_SINCE else (dt.date(1970, 1, 1), dt.date(2149, 6, 6))


def table_sql(database: str, table: str, key: str, key_type: str, labels: list, version: tuple[int, ...]) -> str:
    """CREATE TABLE of a snapshot: the entity key, `snapshot_date`, a column per label. Booleans
    are `Bool` where the server has it (22.x), `UInt8` (0/1) before; dates `Date32` from 21.9."""
    if key_type not in KEY_TYPES:
        raise PublishError(f"the entity key '{key}' is a {key_type}: outputs.clickhouse takes string or number keys")
    columns = [f"`{key}` {KEY_TYPES[key_type]}", "`snapshot_date` Date"]
    for label in labels:
        kind = COLUMN_TYPES[label.type]
        if version >= (22,):
            kind = kind.replace("UInt8", "Bool")
        if version >= DATE32_SINCE:
            kind = kind.replace("(Date)", "(Date32)")
        columns.append(f"`{label.id}` {kind}")
    return (f"CREATE TABLE `{database}`.`{table}` (\n  " + ",\n  ".join(columns) + f"\n) ENGINE = {SNAPSHOT_ENGINE} ORDER BY `{key}`")


def view_sql(database: str, view: str, table: str) -> str:
    """The view readers query, over one snapshot's table."""
    return f"CREATE VIEW `{database}`.`{view}` AS SELECT * FROM `{database}`.`{table}`"
