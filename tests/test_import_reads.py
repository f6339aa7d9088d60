"""An import file is read once per run: its rows are checked, labelled and matched against
the entities from one read (issue 26: each file was read and checked twice). The opens are
counted by the kernel (inotify), so every reader counts, in or out of Python. A file with no
rows still gives the label, null for everyone."""
from __future__ import annotations

import datetime as dt
import sys

import pytest

from labelspark.config import load_project
from labelspark.config.models import Source
from labelspark.cli.demo import write_demo
from labelspark.compute.run import run
from labelspark.compute.sources import read_source
from labelspark.warehouse.deltars import read_rows
from tests.support.file_opens import counted_opens

FIRST_DAY = dt.date(2026, 3, 30)  # vip_list (monthly:1) is due: never computed before


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="counts opens with Linux inotify")
def test_a_run_reads_each_import_file_once(spark, tmp_path):
    project = load_project(write_demo(tmp_path / "demo", members=120))
    label = project.label("vip_list")
    vip_file = project.resolve_path(label.path)
    with counted_opens(vip_file) as one_read:
        as_source = Source(format=label.file_format, path=label.path, options=label.options, key=label.key)
        read_source(spark, project, "vip file", source=as_source, allow_empty=True).collect()

    with counted_opens(vip_file) as during_run:
        result = run(spark, project, FIRST_DAY, publish=False)

    assert "vip_list" in result.labels
    assert one_read[0] > 0
    assert during_run[0] == one_read[0]


def test_an_import_file_with_no_rows_is_a_label_nobody_holds(spark, tmp_path):
    config = write_demo(tmp_path / "demo", members=120)
    (config.parent / "data" / "vip.csv").write_text("member_id,is_vip\n", encoding="utf-8")

    run(spark, load_project(config), FIRST_DAY, publish=False)

    snapshot = read_rows(str(config.parent / "warehouse" / "label_snapshot"), ["vip_list"])
    assert snapshot.num_rows == 120
    assert snapshot.column("vip_list").null_count == 120
