"""The parts of real-time labels that need no stream: a value's text form read back (what the
stream replays onto a new index), and `history --intraday` over a label_updates table."""
from __future__ import annotations

import datetime as dt

import pyarrow as pa
import pytest
from chispa import assert_df_equality
from deltalake import write_deltalake
from pyspark.sql import functions as F

from labelspark.cli import main
from labelspark.udfs import as_text, from_text

KINDS = {
    "string": ("string", ["gold", None]),
    "number": ("double", [3.0, 848.56, -12345678.5, None]),
    "boolean": ("boolean", [True, False, None]),
    "date": ("date", [dt.date(2026, 3, 31), None]),
    "list": ("array<string>", [["beauty", "fashion"], [], None]),
}


@pytest.mark.portable
@pytest.mark.parametrize("kind", KINDS)
def test_a_value_comes_back_from_its_text_form(spark, kind):
    spark_type, values = KINDS[kind]
    frame = spark.createDataFrame(list(enumerate(values)), f"n int, value {spark_type}")
    back = frame.select("n", from_text(as_text(F.col("value"), kind), kind).alias("value"))
    assert_df_equality(back.orderBy("n"), frame.orderBy("n"), ignore_nullable=True)


UPDATES = pa.schema([("member_id", pa.string()), ("label_id", pa.string()), ("value", pa.string()),
                     ("previous_value", pa.string()), ("snapshot_date", pa.date32())])
CONFIG = """\
version: 1
name: live
entity: {key: member_id}
sources:
  orders: {format: parquet, path: data/orders, key: member_id}
indicators:
  orders_total: {source: orders, agg: count}
labels:
  - {id: orders_total, type: number, method: metric, indicator: orders_total}
outputs: {warehouse: warehouse}
"""


def test_history_intraday_counts_the_streams_changes_per_date_and_value(write_config, tmp_path):
    config = write_config(CONFIG)
    day = dt.date(2026, 12, 7)
    rows = [("m1", "orders_total", "1", None, day), ("m1", "orders_total", "2", "1", day), ("m2", "orders_total", "1", "0", day),
            ("m2", "other", "x", None, day)]
    write_deltalake(str(tmp_path / "warehouse" / "label_updates"), pa.Table.from_pylist(
        [dict(zip(UPDATES.names, row)) for row in rows], schema=UPDATES), partition_by=["snapshot_date"])

    assert main(["history", str(config), "--label", "orders_total", "--intraday", "--export", str(tmp_path / "day.csv")]) == 0
    lines = (tmp_path / "day.csv").read_text().splitlines()
    assert lines == ["snapshot_date,value,entered,left", "2026-12-07,0,0,1", "2026-12-07,1,2,1", "2026-12-07,2,1,0",
                     "2026-12-07,,0,1"]
