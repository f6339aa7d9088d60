"""`labelspark stats` and `labelspark history` on a demo warehouse: tables, CSV and PNG."""
import csv
import datetime as dt
import struct
import subprocess
import sys

import pytest

from labelspark.config import load_project
from labelspark.cli.demo import write_demo
from labelspark.compute.run import run
from labelspark.warehouse.deltars import read_rows

DAYS = [dt.date(2026, 3, 29), dt.date(2026, 3, 30), dt.date(2026, 3, 31)]


@pytest.fixture(scope="module")
def warehouse(spark, tmp_path_factory):
    config = write_demo(tmp_path_factory.mktemp("report") / "demo")
    project = load_project(config)
    for day in DAYS:
        run(spark, project, day)
    return config


def labelspark(*args, cwd):
    return subprocess.run([sys.executable, "-m", "labelspark", *args], cwd=cwd, capture_output=True, text=True, timeout=300)


def stats_table(config, label, day):
    rows = read_rows(f"{config.parent}/warehouse/label_stats").to_pylist()
    return sorted((row for row in rows if row["label_id"] == label and row["snapshot_date"] == day), key=lambda row: row["rank"])


def png_size(path):
    data = path.read_bytes()
    assert data[:8] == b"\x89PNG\r\n\x1a\n"
    width, height = struct.unpack(">II", data[16:24])
    return width, height, len(data)


@pytest.mark.parametrize("chart_type", ["bar", "column", "donut"])
def test_stats_prints_exports_and_draws(warehouse, tmp_path, chart_type):
    out_csv, out_png = tmp_path / "stats.csv", tmp_path / "stats.png"
    done = labelspark("stats", str(warehouse), "--label", "favourite_category", "--export", str(out_csv),
                      "--chart", str(out_png), "--chart-type", chart_type, cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    expected = stats_table(warehouse, "favourite_category", DAYS[-1])
    assert "favourite_category on 2026-03-31" in done.stdout
    for row in expected:
        assert (row["value"] or "(null)") in done.stdout and f"{row['users']:,}" in done.stdout
    with open(out_csv, newline="") as f:
        exported = list(csv.DictReader(f))
    assert [(r["value"], int(r["users"]), int(r["rank"])) for r in exported] == [
        (row["value"] or "", row["users"], row["rank"]) for row in expected
    ]
    width, height, size = png_size(out_png)
    assert width >= 600 and height >= 300 and size > 10_000


def test_stats_top_and_date(warehouse, tmp_path):
    done = labelspark("stats", str(warehouse), "--label", "age_band", "--date", "2026-03-29", "--top", "2",
                      "--export", str(tmp_path / "top.csv"), cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    with open(tmp_path / "top.csv", newline="") as f:
        exported = list(csv.DictReader(f))
    expected = stats_table(warehouse, "age_band", DAYS[0])[:2]
    assert [(r["snapshot_date"], r["value"], int(r["users"])) for r in exported] == [
        ("2026-03-29", row["value"], row["users"]) for row in expected
    ]


def test_history_counts_versions_entered_and_left(warehouse, tmp_path):
    out_csv = tmp_path / "history.csv"
    done = labelspark("history", str(warehouse), "--label", "active_buyer", "--value", "true",
                      "--from", "2026-03-30", "--export", str(out_csv), cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    with open(out_csv, newline="") as f:
        exported = list(csv.DictReader(f))
    versions = [r for r in read_rows(f"{warehouse.parent}/warehouse/label_history").to_pylist()
                if r["label_id"] == "active_buyer" and r["value"] == "true"]
    users = {day: row["users"] for day in DAYS for row in stats_table(warehouse, "active_buyer", day) if row["value"] == "true"}
    expected = [
        (day.isoformat(), users[day], sum(v["valid_from"] == day for v in versions), sum(v["valid_to"] == day for v in versions))
        for day in DAYS[1:]
    ]
    assert [(r["snapshot_date"], int(r["users"]), int(r["entered"]), int(r["left"])) for r in exported] == expected
    # the population moves by exactly what entered and left
    assert users[DAYS[2]] == users[DAYS[1]] + expected[1][2] - expected[1][3]


def test_unknown_label_is_an_argument_error(warehouse, tmp_path):
    done = labelspark("stats", str(warehouse), "--label", "nope", cwd=tmp_path)
    assert done.returncode == 2
    assert "'nope'" in done.stderr and "Traceback" not in done.stderr


def test_a_value_the_label_never_had_is_an_argument_error_listing_its_values(warehouse, tmp_path):
    done = labelspark("history", str(warehouse), "--label", "engaged_browser", "--value", "High", cwd=tmp_path)
    assert done.returncode == 2, done.stderr
    assert "'High'" in done.stderr and "values: high, low" in done.stderr


def test_stats_on_a_date_without_stats_is_an_argument_error_naming_the_nearest(warehouse, tmp_path):
    done = labelspark("stats", str(warehouse), "--label", "spend_tier", "--date", "2026-04-02", cwd=tmp_path)
    assert done.returncode == 2, done.stderr
    assert ("no label_stats of label 'spend_tier' for 2026-04-02 (nearest: 2026-03-31; "
            "dates: 2026-03-29, 2026-03-30, 2026-03-31)") in done.stderr
