"""Bad data at run time: exit 1, a message naming the source and column (or path), no traceback,
and a `label_runs` row that records the failure."""
import shutil
import subprocess
import sys

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from labelspark.cli.demo import write_demo
from labelspark.warehouse.deltars import read_rows


def labelspark_run(config, *extra):
    return subprocess.run([sys.executable, "-m", "labelspark", "run", str(config), "--date", "2026-03-31", *extra],
                          cwd=config.parent, capture_output=True, text=True, timeout=600)


def edit(config, old, new):
    text = config.read_text()
    assert old in text
    config.write_text(text.replace(old, new))


def missing_orders(config):
    shutil.rmtree(config.parent / "data" / "orders")


def missing_column(config):
    edit(config, "spend_90d:       {source: orders, agg: sum, of: amount, window: 90d}",
         "spend_90d:       {source: orders, agg: sum, of: amonut, window: 90d}")


def text_summed(config):
    edit(config, "spend_90d:       {source: orders, agg: sum, of: amount, window: 90d}",
         "spend_90d:       {source: orders, agg: sum, of: channel, window: 90d}")


def empty_events(config):
    events = config.parent / "data" / "events" / "part-0.parquet"
    pq.write_table(pq.read_table(events).slice(0, 0), events)


def time_as_number(config):
    members = config.parent / "data" / "members" / "part-0.parquet"
    table = pq.read_table(members)
    pq.write_table(table.set_column(table.schema.get_field_index("updated_at"), "updated_at",
                                    pa.array(range(table.num_rows), pa.int64())), members)


def infinite_amount(config):
    orders = config.parent / "data" / "orders" / "part-0.parquet"
    table = pq.read_table(orders)
    amounts = table.column("amount").to_pylist()
    amounts[0] = float("inf")
    pq.write_table(table.set_column(table.schema.get_field_index("amount"), "amount", pa.array(amounts, pa.float64())), orders)


def bad_import_rows(config):
    vip = config.parent / "data" / "vip.csv"
    vip.write_text(vip.read_text() + "m00001,maybe\n")


@pytest.mark.parametrize("breakage, culprits", [
    (missing_orders, ["source 'orders'", "data/orders"]),
    (missing_column, ["source 'orders', column 'amonut'", "not found"]),
    (text_summed, ["source 'orders', column 'channel'", "agg sum needs a number column, found string"]),
    (empty_events, ["source 'events'", "holds no rows"]),
    (time_as_number, ["source 'members', column 'updated_at'", "date or timestamp"]),
    (infinite_amount, ["source 'orders', column 'amount'", "NaN, infinite or beyond"]),
    (bad_import_rows, ["import of label 'vip_list'", "column 'is_vip'", "data/vip.csv", "m00001='maybe'"]),
], ids=lambda value: getattr(value, "__name__", ""))
def test_bad_data_names_its_culprit(tmp_path, breakage, culprits):
    config = write_demo(tmp_path / "demo")
    breakage(config)
    done = labelspark_run(config)
    assert done.returncode == 1, done.stderr
    for culprit in culprits:
        assert culprit in done.stderr
    assert "Traceback" not in done.stderr
    runs = read_rows(str(tmp_path / "demo" / "warehouse" / "label_runs")).to_pylist()
    assert [r["status"] for r in runs] == ["failed"]
    assert culprits[0] in runs[0]["error"]


@pytest.mark.parametrize("where", ["before the command", "after it"])
def test_verbose_shows_the_trace(tmp_path, where):
    config = write_demo(tmp_path / "demo")
    missing_orders(config)
    arguments = ["run", str(config), "--date", "2026-03-31"]
    arguments = ["--verbose", *arguments] if where == "before the command" else [*arguments, "-v"]
    done = subprocess.run([sys.executable, "-m", "labelspark", *arguments],
                          cwd=config.parent, capture_output=True, text=True, timeout=600)
    assert done.returncode == 1 and "Traceback" in done.stderr
