"""label_runs is written with delta-rs (a run whose engine died is still recorded), stays
readable by the engine, and carries on a table that Spark wrote before."""
import datetime as dt


from labelspark.warehouse import runs
from labelspark.warehouse.deltars import read_rows
from labelspark.warehouse.runs import RunRecord

SPARK_SCHEMA = (  # label_runs as the engine wrote it before delta-rs did
    "run_id string, snapshot_date date, status string, labels array<string>, rows bigint, "
    "started_at timestamp, finished_at timestamp, `index` string, error string, details string"
)
MONDAY, TUESDAY = dt.date(2026, 3, 30), dt.date(2026, 3, 31)
NOON = dt.datetime(2026, 3, 31, 12, 0, tzinfo=dt.timezone.utc)


def test_delta_rs_carries_on_a_table_spark_wrote_and_spark_reads_it(spark, tmp_path):
    path = str(tmp_path / "label_runs")
    spark.createDataFrame([("r-monday", MONDAY, "succeeded", ["a"], 5, NOON, NOON, None, None, None)], SPARK_SCHEMA) \
        .write.format("delta").save(path)

    tuesday = RunRecord(TUESDAY, run_id="r-tuesday", started_at=NOON)
    runs.record(path, tuesday)
    tuesday.labels, tuesday.finished_at, tuesday.details = ["a", "b"], NOON, {"callback_error": "HTTP 503"}
    tuesday.fail(RuntimeError("boom"))
    runs.record(path, tuesday)

    read = spark.read.format("delta").load(path).orderBy("run_id").collect()
    assert [(r.run_id, r.snapshot_date, r.status, r.labels, r.error, r.details) for r in read] == [
        ("r-monday", MONDAY, "succeeded", ["a"], None, None),
        ("r-tuesday", TUESDAY, "failed", ["a", "b"], "RuntimeError: boom", '{"callback_error": "HTTP 503"}'),
    ]
    assert runs.latest_succeeded_date(path) == MONDAY


def test_only_a_running_row_is_marked_abandoned(tmp_path):
    path = str(tmp_path / "label_runs")
    died, finished = RunRecord(TUESDAY, run_id="r-died"), RunRecord(MONDAY, run_id="r-done", status="succeeded")
    runs.record(path, died)
    runs.record(path, finished)

    assert runs.mark_abandoned(path, "r-died", NOON, "abandoned: pid 7 on node-3 stopped without finishing")
    assert not runs.mark_abandoned(path, "r-done", NOON, "abandoned: ...")
    assert not runs.mark_abandoned(str(tmp_path / "none"), "r-died", NOON, "abandoned: ...")
    rows = {row["run_id"]: row for row in read_rows(path).to_pylist()}
    assert (rows["r-died"]["status"], rows["r-died"]["finished_at"], rows["r-died"]["error"]) == (
        "abandoned", NOON, "abandoned: pid 7 on node-3 stopped without finishing")
    assert (rows["r-done"]["status"], rows["r-done"]["error"]) == ("succeeded", None)
