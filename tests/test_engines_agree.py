"""Classic Spark with delta-spark writes the same six tables as Sail, value for value, and each
engine continues a warehouse the other started (teams develop on a laptop, run on a cluster).

The demo over three runs: 2026-03-31 (every label computed), 2026-04-01 (the weekly label not
due: carried over; the monthly one due) and 2026-04-01 again (a re-run). Each engine runs in a
process of its own (one JVM for all of classic Spark's runs); the tables are read with delta-rs.
"""
import shutil

from labelspark.demo import write_demo
from tests.support.warehouse import assert_same_tables, run_dates

DATES = ("2026-03-31", "2026-04-01", "2026-04-01")


def test_classic_spark_with_delta_writes_what_sail_writes_and_each_continues_the_other(tmp_path):
    config = write_demo(tmp_path / "sail")
    for name in ("spark", "mixed"):
        shutil.copytree(tmp_path / "sail", tmp_path / name)

    run_dates(config, "sail", *DATES)
    run_dates(tmp_path / "spark" / config.name, "spark", *DATES)
    mixed = tmp_path / "mixed" / config.name
    run_dates(mixed, "sail", DATES[0])
    run_dates(mixed, "spark", DATES[1])  # Sail's warehouse continued by classic Spark
    run_dates(mixed, "sail", DATES[2])   # and a date classic Spark wrote re-run by Sail

    assert_same_tables(tmp_path / "sail" / "warehouse", tmp_path / "spark" / "warehouse")
    assert_same_tables(tmp_path / "sail" / "warehouse", tmp_path / "mixed" / "warehouse")
