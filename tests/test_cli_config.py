"""The `labelspark` command on good and bad configs and arguments, run as a user runs it.

None of these start Spark: a bad config or bad arguments stop `run` before any session opens.
"""
from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import pytest

pytestmark = pytest.mark.portable

GOOD = """\
version: 1
name: shop
timezone: Asia/Shanghai
entity:
  key: member_id
sources:
  orders:
    format: parquet
    path: data/orders
    key: member_id
    time: order_time
indicators:
  orders_30d: {source: orders, agg: count, window: 30d}
labels:
  - id: buyer
    type: boolean
    method: rules
    values:
      - {value: true, when: {field: orders_30d, op: gte, value: 1}}
outputs:
  warehouse: warehouse
"""

# three problems, each on its own line
BROKEN = GOOD.replace("timezone: Asia/Shanghai", "timezone: Mars/Olympus").replace(
    "  orders_30d: {source: orders, agg: count, window: 30d}",
    "  orders_30d: {source: shops, agg: count, window: 30d}",
).replace("  - id: buyer", "  - id: member_id")
EXPECTED = [  # (line, path, culprit)
    (3, "timezone", "Mars/Olympus"),
    (13, "indicators.orders_30d.source", "shops"),
    (15, "labels[0].id", "member_id"),
]


def labelspark(*args: str, cwd: Path) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "labelspark", *args],
        cwd=cwd, capture_output=True, text=True, timeout=300,
    )


def files_under(root: Path) -> set[Path]:
    return {path.relative_to(root) for path in root.rglob("*")}


def problem_lines(output: str, config: Path) -> list[str]:
    return [line.strip() for line in output.splitlines() if f"{config}:" in line]


def test_broken_config_fails_validate_and_run_alike_and_writes_nothing(tmp_path):
    project = tmp_path / "project"
    project.mkdir()
    config = project / "labelspark.yaml"
    config.write_text(BROKEN, encoding="utf-8")
    before = files_under(tmp_path)

    validate = labelspark("validate", str(config), cwd=tmp_path)
    run = labelspark("run", str(config), "--date", "2026-03-31", cwd=tmp_path)

    outputs = {}
    for name, result in (("validate", validate), ("run", run)):
        assert result.returncode == 2, f"{name}: exit {result.returncode}\n{result.stderr}"
        output = result.stdout + result.stderr
        assert "Traceback" not in output, output
        outputs[name] = problem_lines(output, config)
    assert outputs["validate"] == outputs["run"]
    assert len(outputs["validate"]) == len(EXPECTED), outputs["validate"]
    for (line, path, culprit), shown in zip(EXPECTED, outputs["validate"]):
        assert shown.startswith(f"{config}:{line}: {path}: "), shown
        assert culprit in shown.split(f"{path}: ", 1)[1], shown
    assert files_under(tmp_path) == before
    assert not (project / "warehouse").exists()


def test_valid_config_validates(tmp_path):
    config = tmp_path / "labelspark.yaml"
    config.write_text(GOOD, encoding="utf-8")
    result = labelspark("validate", str(config), cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    assert "ok" in result.stdout
    assert files_under(tmp_path) == {Path("labelspark.yaml")}


@pytest.mark.parametrize("command", ["run", "plan"])
def test_impossible_date_is_an_argument_error(tmp_path, command):
    config = tmp_path / "labelspark.yaml"
    config.write_text(GOOD, encoding="utf-8")
    result = labelspark(command, str(config), "--date", "2026-13-45", cwd=tmp_path)
    assert result.returncode == 2
    assert "2026-13-45" in result.stderr
    assert "Traceback" not in result.stdout + result.stderr
    assert files_under(tmp_path) == {Path("labelspark.yaml")}


def test_unknown_command_is_an_argument_error(tmp_path):
    result = labelspark("frobnicate", "labelspark.yaml", cwd=tmp_path)
    assert result.returncode == 2
    assert "frobnicate" in result.stderr
    assert "Traceback" not in result.stdout + result.stderr


@pytest.mark.parametrize("text", [None, "", "- just\n- a list\n"], ids=["missing", "empty", "not a mapping"])
def test_unusable_config_file_exits_2_without_traceback(tmp_path, text):
    config = tmp_path / "labelspark.yaml"
    if text is not None:
        config.write_text(text, encoding="utf-8")
    for args in (["validate", str(config)], ["run", str(config), "--date", "2026-03-31"]):
        result = labelspark(*args, cwd=tmp_path)
        output = result.stdout + result.stderr
        assert result.returncode == 2, f"{args[0]}: exit {result.returncode}\n{output}"
        assert "Traceback" not in output
        assert str(config) in output
    assert not (tmp_path / "warehouse").exists()


def parse_plan(output: str) -> tuple[dict[str, tuple[list[str], list[str]]], list[str]]:
    """`plan` output as {source: (indicators, labels)} in pass order, and the labels not due."""
    passes: dict[str, tuple[list[str], list[str]]] = {}
    kept: list[str] = []
    lines = output.splitlines()
    for i, line in enumerate(lines):
        match = re.fullmatch(r"\s*pass \d+: source (\w+) \((incremental|full pass): .*\)", line)
        if match:
            indicators = lines[i + 1].split("indicators:", 1)[1].strip()
            labels = lines[i + 2].split("labels:", 1)[1].strip()
            passes[match.group(1)] = (
                [] if indicators == "-" else indicators.split(", "),
                [] if labels == "-" else labels.split(", "),
            )
        if "not due" in line:
            kept = line.split(":", 1)[1].strip().split(", ")
    return passes, kept


def test_demo_validates_and_plans_a_monday(tmp_path):
    demo = tmp_path / "demo"
    result = labelspark("demo", str(demo), cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    config = demo / "labelspark.yaml"

    result = labelspark("validate", str(config), cwd=tmp_path)
    assert result.returncode == 0, result.stderr

    monday = labelspark("plan", str(config), "--date", "2026-03-30", cwd=tmp_path)
    assert monday.returncode == 0, monday.stderr
    passes, kept = parse_plan(monday.stdout)
    assert list(passes) == ["members", "orders", "events"], monday.stdout
    assert "pass 2: source orders (full pass: `incremental` is off (the default" in monday.stdout
    assert passes["members"] == (["birthday", "city", "email"], ["age_band", "city_tier", "corporate_email"])
    orders_indicators, orders_labels = passes["orders"]
    assert orders_indicators == ["big_orders_30d", "categories", "first_channel", "last_order_date",
                                 "orders_30d", "orders_total", "spend_90d", "top_category"]
    assert orders_labels == ["active_buyer", "lapsed", "recent_buyer", "interests", "whale_watch", "spend_90d",
                             "last_order_date", "first_channel", "favourite_category", "spend_tier"]
    assert passes["events"] == (["carts_30d", "views_7d"], ["engaged_browser"])
    assert "imported from files: vip_list" in monday.stdout
    assert kept == []  # nothing was computed yet: every label is due, whatever its schedule
    assert "2026-03-30" in monday.stdout

    # still nothing computed on Tuesday: the weekly and monthly labels are due all the same
    tuesday = labelspark("plan", str(config), "--date", "2026-03-31", cwd=tmp_path)
    assert tuesday.returncode == 0, tuesday.stderr
    passes, kept = parse_plan(tuesday.stdout)
    assert "lapsed" in passes["orders"][1]
    assert kept == []
    assert not (demo / "warehouse").exists()
