"""Editing the config of a test project the way a user would: through its YAML, whatever
comments the file carries."""
from __future__ import annotations

from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
import yaml
from deltalake import DeltaTable
from deltalake.exceptions import TableNotFoundError

from labelspark.errors import NoResults
from labelspark.warehouse.deltars import read_rows
from labelspark.warehouse.names import Tables


def with_outputs(config: Path, **outputs) -> Path:
    """Adds (or replaces) entries of the config's `outputs` section; returns the config."""
    settings = yaml.safe_load(config.read_text(encoding="utf-8"))
    settings["outputs"].update(outputs)
    config.write_text(yaml.safe_dump(settings, sort_keys=False), encoding="utf-8")
    return config


def table_contents(project) -> dict:
    """Every table a run writes but label_runs (the sources' tiles too): its rows (sorted), None
    where there is no table: a failed or interrupted run must leave exactly this as it found it."""
    result = {}
    for path in Tables(project.warehouse).written_by_runs(project.sources):
        try:
            rows = read_rows(path).to_pylist()
        except NoResults:
            result[path] = None
            continue
        result[path] = sorted(rows, key=repr)
    return result


def table_files(root: Path) -> dict:
    """The data files each user-facing table reads at its latest version (None: no table)."""
    files = {}
    for path in Tables(str(root / "warehouse")).read_by_users:
        try:
            files[path] = sorted(DeltaTable(path).file_uris())
        except TableNotFoundError:
            files[path] = None
    return files


def with_labels_disabled(config: Path, *label_ids: str) -> Path:
    """Switches the named labels off (`status: disabled`); returns the config."""
    settings = yaml.safe_load(config.read_text(encoding="utf-8"))
    for label in settings["labels"]:
        if label["id"] in label_ids:
            label["status"] = "disabled"
    config.write_text(yaml.safe_dump(settings, sort_keys=False), encoding="utf-8")
    return config


def write_parquet(root: Path, name: str, schema: pa.Schema, rows: list[tuple]) -> None:
    """Writes `rows` as the parquet source `data/<name>` under `root`."""
    folder = root / "data" / name
    folder.mkdir(parents=True)
    table = pa.Table.from_pylist([dict(zip(schema.names, row)) for row in rows], schema=schema)
    pq.write_table(table, folder / "part-0.parquet")
