"""Tables with deletion vectors, read through the warehouse's one reader (`read_rows`).

delta-rs' `to_pyarrow_table` refuses such tables, and a reader that skipped the vectors would
return the rows they mask. label_history here is written by the engine under test with
deletion vectors on, then loses a row by DELETE (masked in its file, which keeps the other
rows); the log is checked to hold a deletion vector, so no test passes on a table without one.
(Two Spark commands in all: classic Spark's Delta commands take seconds each.)
"""
from __future__ import annotations

import csv
import datetime as dt
import textwrap

import pyarrow as pa
import pytest
from deltalake import DeltaTable, write_deltalake

from labelspark.cli import main
from labelspark.warehouse.deltars import read_rows, sql_in, sql_literal

pytestmark = pytest.mark.portable

D1, D2 = dt.date(2026, 3, 2), dt.date(2026, 3, 3)
HISTORY_SCHEMA = "member_id string, label_id string, value string, valid_from date, valid_to date, is_current boolean"
HISTORY_ARROW = pa.schema([("member_id", pa.string()), ("label_id", pa.string()), ("value", pa.string()),
                           ("valid_from", pa.date32()), ("valid_to", pa.date32()), ("is_current", pa.bool_())])
KEPT_HISTORY = [
    ("m1", "tier", "gold", D1, None, True),
    ("m2", "tier", "gold", D1, None, True),
    ("m3", "tier", "basic", D1, D2, False),
    ("m3", "tier", "gold", D2, None, True),
    ("m4", "tier", "basic", D1, None, True),
]
MASKED_HISTORY = ("m9", "tier", "basic", D2, None, True)
STATS_ARROW = pa.schema([("label_id", pa.string()), ("snapshot_date", pa.date32()), ("rank", pa.int32()),
                         ("value", pa.string()), ("users", pa.int64()), ("proportion", pa.float64())])
STATS = [
    ("tier", D1, 1, "basic", 2, 0.5),
    ("tier", D1, 2, "gold", 2, 0.5),
    ("tier", D2, 1, "gold", 3, 0.75),
    ("tier", D2, 2, "basic", 1, 0.25),
]
CONFIG = """\
    version: 1
    name: shop
    entity: {key: member_id}
    sources:
      members: {format: parquet, path: data/members, key: member_id}
    labels:
      - {id: tier, type: string, method: import, path: tier.csv, key: member_id, value: tier}
    outputs:
      warehouse: warehouse
"""


@pytest.fixture(scope="module")
def project(spark, tmp_path_factory):
    """A config whose warehouse holds label_history with a version masked, and label_stats."""
    root = tmp_path_factory.mktemp("dv_reads")
    write_masked(spark, KEPT_HISTORY, MASKED_HISTORY, HISTORY_SCHEMA, root / "warehouse" / "label_history", "is_current", "member_id = 'm9'")
    write_deltalake(str(root / "warehouse" / "label_stats"), arrow(STATS, STATS_ARROW), partition_by=["snapshot_date"])
    config = root / "labelspark.yaml"
    config.write_text(textwrap.dedent(CONFIG), encoding="utf-8")
    return config


def arrow(rows: list[tuple], schema: pa.Schema) -> pa.Table:
    return pa.Table.from_pylist([dict(zip(schema.names, row)) for row in rows], schema=schema)


def write_masked(spark, kept, masked, schema: str, path, partition: str, masked_where: str) -> None:
    """`kept` and `masked` as a Delta table with deletion vectors on, partitioned by `partition`
    (one file per partition), then `masked` deleted (`masked_where`)."""
    (spark.createDataFrame([*kept, masked], schema).coalesce(1).write.format("delta")
     .option("delta.enableDeletionVectors", "true").partitionBy(partition).save(str(path)))
    spark.sql(f"DELETE FROM delta.`{path}` WHERE {masked_where}").collect()
    assert masked_files(str(path)) > 0, "the DELETE wrote no deletion vector"


def masked_files(path: str) -> int:
    """Files of the table's latest version that carry a deletion vector, from its log."""
    return pa.RecordBatchReader.from_stream(DeltaTable(path).deletion_vectors()).read_all().num_rows


def test_a_table_with_deletion_vectors_reads_as_a_plain_table_of_the_rows_it_kept(project, tmp_path):
    masked = str(project.parent / "warehouse" / "label_history")
    plain = str(tmp_path / "plain")
    write_deltalake(plain, arrow(KEPT_HISTORY, HISTORY_ARROW), partition_by=["is_current"])
    assert masked_files(plain) == 0

    for columns, where in [(None, None), (["member_id", "value"], "valid_to IS NULL AND value = 'basic'")]:
        read = in_order(read_rows(masked, columns, where))
        assert read.num_rows and read.equals(in_order(read_rows(plain, columns, where))), (columns, where)
    assert read_rows(masked, ["member_id"], "valid_to IS NULL AND value = 'basic'").to_pylist() == [{"member_id": "m4"}]


def test_values_in_a_where_are_literals_never_sql(project):
    history = str(project.parent / "warehouse" / "label_history")
    sneaky = "m1' OR 'a' = 'a"
    assert read_rows(history, where=f"member_id = {sql_literal(sneaky)}").num_rows == 0
    assert read_rows(history, where=sql_in("member_id", [])).num_rows == 0
    assert read_rows(history, ["member_id"], f"{sql_in('member_id', ['m3', 'm9'])} AND valid_from = {sql_literal(D2)}").to_pylist() == [
        {"member_id": "m3"}]


def in_order(table: pa.Table) -> pa.Table:
    return table.sort_by([(name, "ascending") for name in table.column_names])


def test_stats_and_history_commands_read_a_warehouse_with_deletion_vectors(project, tmp_path):
    """Versions entered and left come from label_history, users from label_stats: the masked
    version (m9's, opened on D2) would show as a D2 `basic` entered."""
    assert main(["history", str(project), "--label", "tier", "--export", str(tmp_path / "history.csv")]) == 0
    assert main(["stats", str(project), "--label", "tier", "--export", str(tmp_path / "stats.csv")]) == 0

    assert exported(tmp_path / "history.csv") == [
        ["snapshot_date", "value", "users", "proportion", "entered", "left"],
        ["2026-03-02", "basic", "2", "0.5", "2", "0"],
        ["2026-03-02", "gold", "2", "0.5", "2", "0"],
        ["2026-03-03", "gold", "3", "0.75", "1", "0"],
        ["2026-03-03", "basic", "1", "0.25", "0", "1"],
    ]
    assert exported(tmp_path / "stats.csv") == [
        ["label_id", "snapshot_date", "rank", "value", "users", "proportion"],
        ["tier", "2026-03-03", "1", "gold", "3", "0.75"],
        ["tier", "2026-03-03", "2", "basic", "1", "0.25"],
    ]


def exported(path) -> list[list[str]]:
    with open(path, newline="", encoding="utf-8") as rows:
        return list(csv.reader(rows))
