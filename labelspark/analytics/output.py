"""Printing an answer: a rich table (default), one JSON document, or CSV rows; `--export` writes the CSV too.

Each command builds one JSON-ready document and the rows it prints; this module only renders them.
"""
from __future__ import annotations

import csv
import datetime as dt
import json
import math
import sys
from pathlib import Path

from labelspark.warehouse.readers import print_table, write_csv

_SHARES = {"proportion", "a_share", "b_share", "coverage", "top_share"}


def emit(fmt: str, document: dict, rows: list[dict], columns: list[str], title: str, export: Path | None = None,
         tables: list[tuple[list[dict], list[str], str]] | None = None) -> None:
    """Prints `document` (json), `rows` (csv) or tables (default: one of `rows`); writes `rows` to
    `export` as CSV."""
    if fmt == "json":
        print_json(document)
    elif fmt == "csv":
        writer = csv.DictWriter(sys.stdout, fieldnames=columns, extrasaction="ignore", lineterminator="\n")
        writer.writeheader()
        writer.writerows({column: csv_cell(row.get(column)) for column in columns} for row in rows)
    else:
        for table_rows, table_columns, table_title in tables or [(rows, columns, title)]:
            if table_rows:
                show(table_rows, table_columns, table_title)
    if export:
        write_csv([{column: csv_cell(row.get(column)) for column in columns} for row in rows], export, columns)
        print(f"wrote {export}", file=sys.stderr if fmt != "table" else sys.stdout)


def print_json(document: dict) -> None:
    print(json.dumps(document, indent=2, ensure_ascii=False, default=_plain))


def show(rows: list[dict], columns: list[str], title: str) -> None:
    """A rich table; shares as percentages, lifts as multiples, lists comma-separated."""
    print_table([{column: _shown(column, row.get(column)) for column in columns} for row in rows], columns, title)


def shown_value(value) -> str | None:
    """A label value as a person reads it (lists comma-separated, numbers as in the tables)."""
    from labelspark.analytics.values import text_of

    if value is None:
        return None
    if isinstance(value, (list, tuple)):
        return ", ".join(map(str, value)) or "(empty)"
    if isinstance(value, float):
        return text_of(value, "number")
    return text_of(value, "string")


def csv_cell(value):
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (list, tuple)):
        return ";".join(map(str, value))
    if isinstance(value, float) and math.isnan(value):
        return ""
    return value


def _shown(column: str, value):
    if column in ("users", "proportion", "entered", "left", "rank"):
        return value  # print_table formats its own columns
    if column in ("value", "from", "to"):
        return "(null)" if value is None else shown_value(value)
    if value is None:
        return "-"
    if column in _SHARES and isinstance(value, float):
        return f"{value:.2%}"
    if column == "lift" and isinstance(value, float):
        return f"{value:.2f}x"
    if column == "psi" and isinstance(value, float):
        return f"{value:.4f}"
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, int):
        return f"{value:,}"
    if column == "flags":
        return ", ".join(value) or "-"
    return shown_value(value)


def _plain(value):
    if isinstance(value, (dt.date, dt.datetime)):
        return value.isoformat()
    return str(value)
