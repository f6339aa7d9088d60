"""Classic Spark with delta-spark writes the same six tables as Sail, value for value, and each
engine continues a warehouse the other started (teams develop on a laptop, run on a cluster), on
both Spark lines: 4.x (delta-spark 4.1) and 3.5 (delta-spark 3.3, tests/support/spark_lines.py).

The demo over three runs: 2026-03-31 (every label computed), 2026-04-01 (the weekly label not
due: carried over; the monthly one due) and 2026-04-01 again (a re-run). Each engine runs in a
process of its own (one JVM for all of classic Spark's runs); the tables are read with delta-rs.
"""
import shutil

import pytest

from labelspark.demo import write_demo
from tests.support.spark_lines import SPARK_LINES, python_of
from tests.support.warehouse import assert_same_tables, run_dates

DATES = ("2026-03-31", "2026-04-01", "2026-04-01")


@pytest.fixture(scope="module")
def sail_warehouse(tmp_path_factory):
    """The demo's three runs on Sail: what every line must write."""
    config = write_demo(tmp_path_factory.mktemp("sail"))
    run_dates(config, "sail", *DATES)
    return config.parent / "warehouse"


@pytest.mark.parametrize("line", SPARK_LINES)
def test_classic_spark_with_delta_writes_what_sail_writes_and_each_continues_the_other(tmp_path, sail_warehouse, line):
    python = python_of(line)
    config = write_demo(tmp_path / "spark")
    shutil.copytree(tmp_path / "spark", tmp_path / "mixed")

    run_dates(config, "spark", *DATES, python=python)
    mixed = tmp_path / "mixed" / config.name
    run_dates(mixed, "sail", DATES[0])
    run_dates(mixed, "spark", DATES[1], python=python)  # Sail's warehouse continued by classic Spark
    run_dates(mixed, "sail", DATES[2])   # and a date classic Spark wrote re-run by Sail

    assert_same_tables(sail_warehouse, tmp_path / "spark" / "warehouse")
    assert_same_tables(sail_warehouse, tmp_path / "mixed" / "warehouse")
