"""The life of the tiles on the demo project: days merged from tiles equal the full pass, a
rewind removes the blocks after its date, a changed indicator makes the tiles again, a failed
run puts them back, and a small source takes the full pass until it has tiles. On Sail only: a
run costs several times Sail's on classic Spark, where tests/test_incremental.py checks the
tiled answers against its oracle."""
from __future__ import annotations

import datetime as dt
import logging

import pytest
import yaml

from labelspark.blocks import Block
from labelspark.cli.demo import write_demo
from labelspark.compute import incremental
from labelspark.compute.run import rewind, run
from labelspark.config import load_project
from labelspark.publish import PublishError
from labelspark.warehouse.deltars import read_rows, sql_literal
from labelspark.warehouse.names import Tables
from tests.support.projects import table_contents, with_outputs

DAYS = [dt.date(2026, 3, 29), dt.date(2026, 3, 30), dt.date(2026, 3, 31)]


def snapshot(project, day: dt.date) -> list[dict]:
    rows = read_rows(Tables(project.warehouse).snapshot, where=f"snapshot_date = {sql_literal(day)}").to_pylist()
    return sorted(rows, key=lambda row: row[project.key])


def blocks(project, source: str) -> set[Block]:
    rows = read_rows(Tables(project.warehouse).tile_manifest, ["tile"], f"source = {sql_literal(source)}").to_pylist()
    return {Block.parse(row["tile"]) for row in rows}


def tiled_blocks(project, source: str) -> set[Block]:
    return {Block.parse(row["tile"]) for row in read_rows(Tables(project.warehouse).tiles(source), ["tile"]).to_pylist()}


@pytest.fixture
def projects(tmp_path):
    """The demo twice: one warehouse run from tiles, one by the full pass."""
    config = write_demo(tmp_path / "demo")
    settings = yaml.safe_load(config.read_text(encoding="utf-8"))
    for source in ("orders", "events"):
        settings["sources"][source]["incremental"] = True
        settings["sources"][source]["tiles_from_rows"] = 0  # the demo's few thousand rows would take the full pass
    config.write_text(yaml.safe_dump(settings, sort_keys=False), encoding="utf-8")
    reference = config.with_name("reference.yaml")
    reference.write_text(config.read_text(encoding="utf-8").replace("warehouse: warehouse", "warehouse: reference"), encoding="utf-8")
    assert "reference" in reference.read_text(encoding="utf-8")
    return config, load_project(config), load_project(reference)


def test_days_from_tiles_a_rewind_and_a_changed_indicator_equal_the_full_pass(spark, projects, caplog):
    config, project, reference = projects
    for day in DAYS:
        run(spark, project, day, publish=False)
        run(spark, reference, day, publish=False, full=True)
        assert snapshot(project, day) == snapshot(reference, day)
    assert {"orders", "events"} <= {row["source"] for row in read_rows(Tables(project.warehouse).tile_manifest, ["source"]).to_pylist()}
    assert tiled_blocks(project, "orders") <= blocks(project, "orders")  # a block without rows has no tiles
    assert max(b.end for b in blocks(project, "orders")) == DAYS[-1]

    rewind(spark, project, DAYS[0])
    assert max(b.end for b in blocks(project, "orders")) == DAYS[0]
    assert all(b.end <= DAYS[0] for b in tiled_blocks(project, "orders"))
    run(spark, project, DAYS[1], publish=False)
    assert snapshot(project, DAYS[1]) == snapshot(reference, DAYS[1])

    # a new indicator over orders: the tiles hold no partial for it, so they are made again
    for target in (config, config.with_name("reference.yaml")):
        settings = yaml.safe_load(target.read_text(encoding="utf-8"))
        settings["indicators"]["largest_order"] = {"source": "orders", "agg": "max", "of": "amount", "window": "7d"}
        settings["labels"].append({"id": "largest_order", "type": "number", "method": "metric", "indicator": "largest_order"})
        target.write_text(yaml.safe_dump(settings, sort_keys=False), encoding="utf-8")
    project, reference = load_project(config), load_project(config.with_name("reference.yaml"))
    with caplog.at_level(logging.INFO, logger="labelspark"):
        run(spark, project, DAYS[2], publish=False)
    assert "source orders: tiles made for another definition" in caplog.text
    run(spark, reference, DAYS[2], publish=False, full=True)
    assert snapshot(project, DAYS[2]) == snapshot(reference, DAYS[2])
    assert any(row["largest_order"] is not None for row in snapshot(project, DAYS[2]))


def test_a_back_fill_reads_every_row_and_leaves_the_tiles(spark, projects, caplog):
    config, project, reference = projects
    for day in DAYS:
        run(spark, project, day, publish=False)
    tiles = read_rows(Tables(project.warehouse).tile_manifest).to_pylist()
    with caplog.at_level(logging.INFO, logger="labelspark"):
        run(spark, project, DAYS[0], publish=False)
    assert "source orders: full pass (a back-fill" in caplog.text
    assert read_rows(Tables(project.warehouse).tile_manifest).to_pylist() == tiles
    run(spark, reference, DAYS[0], publish=False, full=True)
    assert snapshot(project, DAYS[0]) == snapshot(reference, DAYS[0])


def test_a_failed_run_puts_the_tiles_back(spark, projects):
    config, project, _ = projects
    run(spark, project, DAYS[0], publish=False)
    before = table_contents(project)
    assert before[Tables(project.warehouse).tiles("orders")]
    with_outputs(config, elasticsearch={"nodes": "http://127.0.0.1:9", "alias": "demo_labels"})
    with pytest.raises(PublishError):
        run(spark, load_project(config), DAYS[1])
    assert table_contents(project) == before


def test_tiles_made_level_by_level_equal_those_made_at_once(spark, projects, monkeypatch):
    """A large first tiling merges one level at a time; here every tiling is taken as large (the
    reference warehouse tiles at once)."""
    config, project, reference = projects
    for day in DAYS[:2]:
        run(spark, reference, day, publish=False)
    monkeypatch.setattr(incremental, "ONE_COMMIT_ROWS", 0)
    for day in DAYS[:2]:
        run(spark, project, day, publish=False)
        assert snapshot(project, day) == snapshot(reference, day)
    level_by_level, at_once = (sorted(read_rows(Tables(p.warehouse).tiles("orders")).to_pylist(), key=repr) for p in (project, reference))
    assert level_by_level == at_once


def test_a_source_below_tiles_from_rows_takes_the_full_pass_and_writes_no_tiles(spark, tmp_path, caplog):
    config = write_demo(tmp_path / "demo")  # ~6,000 orders, under the default 10^6
    settings = yaml.safe_load(config.read_text(encoding="utf-8"))
    settings["sources"]["orders"]["incremental"] = True
    config.write_text(yaml.safe_dump(settings, sort_keys=False), encoding="utf-8")
    project = load_project(config)
    with caplog.at_level(logging.INFO, logger="labelspark"):
        run(spark, project, DAYS[0], publish=False)
    assert "source orders: full pass (" in caplog.text and "fewer than `tiles_from_rows` (1000000)" in caplog.text
    assert table_contents(project)[Tables(project.warehouse).tiles("orders")] is None
