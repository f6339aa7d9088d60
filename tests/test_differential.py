"""Same rules, same data, same answers on classic Spark and on Sail (each in its own process)."""
import subprocess
import sys
from pathlib import Path

import pandas as pd
import pyarrow.parquet as pq
import pytest

from labelspark.cli.demo import write_demo

ROOT = Path(__file__).resolve().parent.parent


def _compute(engine: str, config: Path, date: str, out: Path) -> pd.DataFrame:
    """`labelspark run --snapshot-to` in a process of its own (classic and Connect cannot share one)."""
    done = subprocess.run(
        [sys.executable, "-m", "labelspark", "run", str(config), "--date", date, "--engine", engine, "--snapshot-to", str(out)],
        cwd=ROOT, capture_output=True, text=True, timeout=600,
    )
    assert done.returncode == 0, done.stderr
    frame = pq.read_table(out / f"snapshot_date={date}").to_pandas()
    return frame.sort_values("member_id").reset_index(drop=True)


@pytest.mark.parametrize("date", ["2026-03-31", "2026-02-14"])
def test_demo_labels_are_the_same_on_classic_spark_and_sail(tmp_path, date):
    config = write_demo(tmp_path / "demo")
    sail = _compute("sail", config, date, tmp_path / "sail")
    classic = _compute("spark", config, date, tmp_path / "spark")

    assert list(sail.columns) == list(classic.columns)
    assert len(sail) == len(classic) > 0
    for column in sail.columns:
        left, right = sail[column], classic[column]
        if column == "interests":
            left, right = left.map(lambda v: None if v is None else list(v)), right.map(lambda v: None if v is None else list(v))
        pd.testing.assert_series_equal(left, right, check_exact=True, obj=column)  # sums too: bit for bit
