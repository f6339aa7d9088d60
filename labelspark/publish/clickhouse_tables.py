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
    """The names `table_name` gives for `view` (complete or `_loading`), and no other table's."""
    return re.compile(rf"^{re.escape(view)}_\d{{8}}_[0-9a-z]+({LOADING})?$")


def table_sql(database: str, table: str, key: str, key_type: str, labels: list, version: tuple[int, ...]) -> str:
    """CREATE TABLE of a snapshot: the entity key, `snapshot_date`, a column per label. Booleans
    are `Bool` where the server has it (22.x), `UInt8` (0/1) before."""
    if key_type not in KEY_TYPES:
        raise PublishError(f"the entity key '{key}' is a {key_type}: outputs.clickhouse takes string or number keys")
    columns = [f"`{key}` {KEY_TYPES[key_type]}", "`snapshot_date` Date"]
    for label in labels:
        kind = COLUMN_TYPES[label.type]
        columns.append(f"`{label.id}` {kind.replace('UInt8', 'Bool') if version >= (22,) else kind}")
    return (f"CREATE TABLE `{database}`.`{table}` (\n  " + ",\n  ".join(columns) + f"\n) ENGINE = MergeTree ORDER BY `{key}`")


def view_sql(database: str, view: str, table: str) -> str:
    """The view readers query, over one snapshot's table."""
    return f"CREATE VIEW `{database}`.`{view}` AS SELECT * FROM `{database}`.`{table}`"
