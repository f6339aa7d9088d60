"""`labelspark compact`: the partitions holding files with many masked rows are written again
without masks, the same rows; a file below the threshold stays as it is; vacuum deletes what
the table's retention allows, never a deletion vector in use; the warehouse lock is taken as a
run takes it. Tables read back with delta-rs' SQL reader (the one that reads deletion vectors)."""
from __future__ import annotations

import datetime as dt
import subprocess
import sys
from pathlib import Path

import pytest
from deltalake import DeltaTable

from labelspark.cli import build_parser
from labelspark.cli.demo import write_demo
from labelspark.compute.maintenance import compact
from labelspark.compute.run import run
from labelspark.config import load_project
from labelspark.errors import WarehouseLocked
from labelspark.warehouse.compact import compact_table, masked_files
from labelspark.warehouse.delta import DELETION_VECTORS, merge
from labelspark.warehouse.deltars import read_rows
from labelspark.warehouse.lock import warehouse_lock
from labelspark.warehouse.names import Tables
from tests.support.projects import table_contents

CURRENT, CLOSED = 60, 40  # versions in the two partitions, one file each
MASKED_CURRENT = {f"m{i:02}" for i in range(12)}  # 20% of the current file
MASKED_CLOSED = {"m60"}  # 2.5% of the closed file
NO_RETENTION = "interval 0 hours"


def masked_history(spark, path: str, retention: str | None = None) -> None:
    """A table laid out as label_history (partitioned by `is_current`, deletion vectors on), one
    file per partition, whose MERGE masks 12 of the 60 current versions and 1 of the 40 closed."""
    rows = [(f"m{i:02}", "tier", "gold", i < CURRENT) for i in range(CURRENT + CLOSED)]
    versions = spark.createDataFrame(rows, "member_id string, label_id string, value string, is_current boolean not null")
    writer = versions.coalesce(1).write.format("delta").option(DELETION_VECTORS, "true").partitionBy("is_current")
    if retention:
        writer = writer.option("delta.deletedFileRetentionDuration", retention)
    writer.save(path)
    gone = spark.createDataFrame([(m,) for m in sorted(MASKED_CURRENT | MASKED_CLOSED)], "member_id string")
    merge(spark, gone, path, "ON t.member_id = s.member_id WHEN MATCHED THEN DELETE")


def kept_rows() -> list[dict]:
    return [{"member_id": f"m{i:02}", "label_id": "tier", "value": "gold", "is_current": i < CURRENT}
            for i in range(CURRENT + CLOSED) if f"m{i:02}" not in MASKED_CURRENT | MASKED_CLOSED]


def rows(path: str) -> list[dict]:
    return sorted(read_rows(path).to_pylist(), key=lambda row: row["member_id"])


def masks(path: str) -> dict[str, int]:
    return {file.path: file.masked for file in masked_files(path)}


@pytest.mark.portable
def test_a_partition_with_a_file_past_the_threshold_is_written_again_the_same_rows_without_masks(spark, tmp_path):
    """With no retention, vacuum deletes the file written again at once, and leaves the deletion
    vector the closed file still reads (delta-rs' full vacuum would delete it)."""
    table = tmp_path / "label_history"
    masked_history(spark, str(table), NO_RETENTION)
    before = masks(str(table))
    assert sorted(before.values()) == [1, 12]  # the masks exist: nothing passes vacuously
    current_file, closed_file = (next(file for file, masked in before.items() if masked == n) for n in (12, 1))
    assert rows(str(table)) == kept_rows()

    done = compact_table(spark, str(table), threshold=0.1)

    assert (done.partitions, done.over_threshold, done.purged, done.vacuumed) == (["is_current=true"], 1, 12, 1)
    assert rows(str(table)) == kept_rows()
    assert masks(str(table)) == {closed_file: 1}  # below the threshold: the same file, its mask kept
    assert not (table / current_file).exists() and (table / closed_file).exists()
    assert compact_table(spark, str(table), threshold=0.1).vacuumed == 0  # a file deleted is not counted again


@pytest.mark.portable
def test_compaction_is_refused_while_a_run_holds_the_warehouse(tmp_path):
    config = write_demo(tmp_path / "demo")
    project = load_project(config)

    with warehouse_lock(project.warehouse, "r-running", config), pytest.raises(WarehouseLocked, match="locked by run r-running"):
        compact(None, project, threshold=0.1)  # refused before any engine work

    assert sorted(path.name for path in (tmp_path / "demo" / "warehouse").iterdir()) == []


@pytest.mark.portable
@pytest.mark.parametrize("threshold", ["0", "1.5", "many"])
def test_a_threshold_is_a_share_above_0_and_at_most_1(threshold, capsys):
    with pytest.raises(SystemExit) as refused:
        build_parser().parse_args(["compact", "labelspark.yaml", "--threshold", threshold])
    assert refused.value.code == 2 and "not a share above 0 and at most 1" in capsys.readouterr().err


def test_the_command_compacts_a_demo_warehouse_and_exits_75_while_a_run_holds_it(spark, tmp_path):
    """The demo run once, then the kind of MERGE classic Spark's day runs: versions closed, their
    current rows masked. Sail only: the command runs in a process of its own, where classic
    Spark would start a JVM (its compaction is the same code, tested above)."""
    config = write_demo(tmp_path / "demo")
    project = load_project(config)
    run(spark, project, dt.date(2026, 3, 31))
    history = Tables(project.warehouse).history
    current = read_rows(history, ["member_id"], where="is_current").column("member_id").to_pylist()
    leavers = spark.createDataFrame([(member,) for member in sorted(set(current))[:100]], "member_id string")
    merge(spark, leavers, history, "ON t.is_current AND t.member_id = s.member_id "
                                   "WHEN MATCHED THEN UPDATE SET t.valid_to = DATE'2026-04-01', t.is_current = false")
    assert masked_files(history)
    contents, files = table_contents(project), DeltaTable(history).file_uris()

    with warehouse_lock(project.warehouse, "r-running", config):
        busy = labelspark("compact", str(config), cwd=tmp_path)
    assert busy.returncode == 75 and "locked by run r-running" in busy.stderr, busy.stderr

    done = labelspark("compact", str(config), cwd=tmp_path)

    assert done.returncode == 0, done.stderr
    assert "demo_retail: label_history: is_current=true written again (" in done.stdout
    assert "demo_retail: label_snapshot: nothing to rewrite; 0 files vacuumed" in done.stdout
    assert "label_history: is_current=true written again, without masks" in done.stderr
    assert table_contents(project) == contents
    assert masked_files(history) == []
    assert all(Path(file).exists() for file in files)  # within the tables' retention (7 days): kept


def labelspark(*args: str, cwd: Path) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "labelspark", *args], cwd=cwd, capture_output=True, text=True, timeout=300)
