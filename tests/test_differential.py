"""Same rules, same data, same answers on classic Spark and on Sail (each in its own process)."""
import subprocess
import sys
from pathlib import Path

import pandas as pd
import pyarrow.parquet as pq
import pytest

from labelspark.cli.demo import write_demo

ROOT = Path(__file__).resolve().parent.parent


DATES = ("2026-03-31", "2026-02-14")
# `labelspark run --date D --snapshot-to DIR` for each date in turn, through the CLI's own entry
# point, in one process: the classic JVM starts once for both dates (each run opens and stops
# its session as the command does)
_RUNS = """
import sys
from labelspark.cli import main
config, engine, out, *dates = sys.argv[1:]
for date in dates:
    code = main(["run", config, "--date", date, "--engine", engine, "--snapshot-to", out])
    if code:
        sys.exit(code)
"""


def _compute(engine: str, config: Path, out: Path) -> dict[str, pd.DataFrame]:
    """Each date's snapshot, run in a process of the engine's own (classic and Connect cannot share one)."""
    done = subprocess.run([sys.executable, "-c", _RUNS, str(config), engine, str(out), *DATES],
                          cwd=ROOT, capture_output=True, text=True, timeout=900)
    assert done.returncode == 0, done.stderr
    frames = {}
    for date in DATES:
        frame = pq.read_table(out / f"snapshot_date={date}").to_pandas()
        frames[date] = frame.sort_values("member_id").reset_index(drop=True)
    return frames


@pytest.fixture(scope="module")
def snapshots(tmp_path_factory) -> dict[str, dict[str, pd.DataFrame]]:
    """engine -> date -> the demo's snapshot of that date (both dates' runs in one process per engine)."""
    root = tmp_path_factory.mktemp("differential")
    config = write_demo(root / "demo")
    return {engine: _compute(engine, config, root / engine) for engine in ("sail", "spark")}


@pytest.mark.parametrize("date", DATES)
def test_demo_labels_are_the_same_on_classic_spark_and_sail(snapshots, date):
    sail, classic = snapshots["sail"][date], snapshots["spark"][date]

    assert list(sail.columns) == list(classic.columns)
    assert len(sail) == len(classic) > 0
    for column in sail.columns:
        left, right = sail[column], classic[column]
        if column == "interests":
            left, right = left.map(lambda v: None if v is None else list(v)), right.map(lambda v: None if v is None else list(v))
        pd.testing.assert_series_equal(left, right, check_exact=True, obj=column)  # sums too: bit for bit
