"""Runs a sequence of dates on one engine in a process of its own, and compares warehouses with delta-rs.

    python -m tests.support.warehouse CONFIG ENGINE STEP [STEP ...]

runs each step in turn in one process (one JVM for classic Spark; a process holds Connect or
classic sessions, never both): a date D is `labelspark run CONFIG --date D --engine ENGINE`,
`rewind:D` is `labelspark rewind CONFIG --to D`. ENGINE `connect=sc://HOST:PORT` names the
Spark Connect server.
"""
from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pandas as pd
from deltalake import DeltaTable

from labelspark.warehouse.deltars import read_rows

ROOT = Path(__file__).resolve().parents[2]

# each table's rows, ordered by what identifies one
TABLE_KEYS = {
    "label_snapshot": ["snapshot_date", "member_id"],
    "label_stats": ["snapshot_date", "label_id", "rank"],
    "segment_members": ["snapshot_date", "segment_id", "member_id"],
    "label_history": ["member_id", "label_id", "valid_from"],
    "label_catalog": ["label_id", "valid_from"],
    "label_runs": ["snapshot_date", "status"],
}


def run_dates(config: Path, engine: str, *dates: str, env: dict | None = None, timeout: int = 900,
              python: str = sys.executable) -> None:
    """Runs the dates (or steps: see main) in order; `python`: the interpreter, hence the PySpark
    line (tests/support/spark_lines.py)."""
    done = subprocess.run([python, "-m", "tests.support.warehouse", str(config), engine, *dates],
                          cwd=ROOT, env=env, capture_output=True, text=True, timeout=timeout)
    assert done.returncode == 0, done.stderr[-4000:]


def table(warehouse: Path, name: str) -> pd.DataFrame:
    """A table as delta-rs reads it; label_runs as its statuses and dates only (ids and times differ by run)."""
    frame = read_rows(str(warehouse / name)).to_pandas()
    if name == "label_runs":
        frame = frame[["snapshot_date", "status"]]
    for column in frame.columns[frame.dtypes == object]:  # arrays compare as tuples
        frame[column] = frame[column].map(lambda v: tuple(v) if hasattr(v, "__len__") and not isinstance(v, str) else v)
    columns = sorted(frame.columns)
    return frame[columns].sort_values(TABLE_KEYS[name]).reset_index(drop=True)


def assert_same_tables(left: Path, right: Path, names=tuple(TABLE_KEYS)) -> None:
    """The six tables (or `names`) of two warehouses hold the same values: same columns in the same
    order, same rows, bit for bit (sums of doubles too: the contract makes them exact)."""
    for name in names:
        left_columns = DeltaTable(str(left / name)).schema().to_arrow().names
        assert left_columns == DeltaTable(str(right / name)).schema().to_arrow().names, name
        pd.testing.assert_frame_equal(table(left, name), table(right, name), check_exact=True, obj=name)


def main(config: str, engine: str, *steps: str) -> int:
    from labelspark.cli import main as labelspark

    name, _, remote = engine.partition("=")
    chosen = ["--engine", name, *(["--remote", remote] if remote else [])]
    for step in steps:
        command, _, day = step.rpartition(":")
        arguments = ["rewind", config, "--to", day] if command == "rewind" else ["run", config, "--date", day]
        status = labelspark([*arguments, *chosen])
        if status != 0:
            return status
    return 0


if __name__ == "__main__":
    sys.exit(main(*sys.argv[1:]))
