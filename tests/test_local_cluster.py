"""The jobs submitted to a real Spark standalone cluster (a master and two workers on 127.0.0.1, each
its own JVM, started by scripts/local-cluster.sh), on both Spark lines (tests/support/spark_lines.py):
delta-spark writes the six tables Sail writes, continues a warehouse Sail started, the publish job
reads the snapshot and records its run, and the faults of a cluster change no answer: an executor
killed while the sources are aggregated (Spark runs its tasks again), the driver killed between
two table writes (the next run, from a new driver, restores the tables first).

One cluster per line for the module; the demo project (500 members), small enough for CI. The two
fault tests run on one line each (the executor's on 3.5, the driver's on 4.x): a job on this
cluster takes a minute or two, and each line writes on the cluster what Sail writes in one of them.
"""
import os
import shutil
import signal
import subprocess
import threading
from pathlib import Path

import psutil
import pytest
from deltalake import DeltaTable

from labelspark.cli.demo import CONFIG_NAME, write_demo
from labelspark.warehouse.delta import set_table_properties
from labelspark.warehouse.deltars import read_rows
from labelspark.warehouse.lock import LOCK_FILE
from tests.support.projects import with_outputs
from tests.support.search import alias_targets, get
from tests.support.spark_lines import SPARK_LINES, environment_of, python_of
from tests.support.warehouse import TABLE_KEYS, assert_same_tables, run_dates, table

pytestmark = pytest.mark.cluster

ROOT = Path(__file__).resolve().parent.parent
MONDAY, TUESDAY = "2026-03-30", "2026-03-31"
SUBMIT = {"SPARK_DRIVER_MEMORY": "1g", "SPARK_EXECUTOR_MEMORY": "1g", "SPARK_EXECUTOR_CORES": "1",
          "LABELSPARK_SPARK_CONF": str(ROOT / "conf" / "spark-local-cluster.conf")}


@pytest.fixture(scope="module", params=SPARK_LINES)
def cluster(request, tmp_path_factory):
    """The environment of a shell that started a cluster of the line and submits to it; stopped after."""
    env = {**environment_of(python_of(request.param)), **SUBMIT,
           "LABELSPARK_CLUSTER_DIR": str(tmp_path_factory.mktemp("cluster"))}
    script = str(ROOT / "scripts" / "local-cluster.sh")
    started = subprocess.run([script, "start"], env=env, capture_output=True, text=True, timeout=300)
    try:
        assert started.returncode == 0, started.stderr
        yield {**env, "SPARK_MASTER": started.stdout.strip()}
    finally:
        stopped = subprocess.run([script, "stop"], env=env, capture_output=True, text=True, timeout=120)
    assert stopped.returncode == 0, stopped.stderr
    assert subprocess.run([script, "status"], env=env, capture_output=True).returncode == 1


@pytest.fixture(scope="module")
def sail(tmp_path_factory):
    """The demo's Monday, and Monday then Tuesday, computed on Sail: the answers, and warehouses to continue."""
    days = {}
    config = write_demo(tmp_path_factory.mktemp("sail") / "project")
    for date in (MONDAY, TUESDAY):
        run_dates(config, "sail", date)
        days[date] = shutil.copytree(config.parent, tmp_path_factory.mktemp("sail") / date)
    return days


def project_from(spark, source: Path, target: Path) -> Path:
    """A copy of a Sail project (config, data, warehouse) whose tables checkpoint at every commit,
    the change of their properties included: the cluster reads and writes tables from checkpoints
    (a Delta jar that does not fit its Spark fails there). Returns its config."""
    config = shutil.copytree(source, target) / CONFIG_NAME
    for name in TABLE_KEYS:
        path = str(target / "warehouse" / name)
        set_table_properties(spark, path, {"delta.checkpointInterval": "1"})
        DeltaTable(path).create_checkpoint()  # Sail's ALTER writes none
    return config


class Submitted:
    """A job submitted with scripts/submit.sh, in a process group of its own; its output is read as
    it comes (spark-submit passes the Python driver's stderr, labelspark's log, on as its stdout)."""

    def __init__(self, cluster: dict, job: str, config: Path, date: str):
        self.process = subprocess.Popen([str(ROOT / "scripts" / "submit.sh"), job, str(config), "--date", date],
                                        cwd=ROOT, env=cluster, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                                        text=True, start_new_session=True)
        self.lines: list[str] = []
        self.changed = threading.Condition()
        threading.Thread(target=self._read, daemon=True).start()

    def _read(self) -> None:
        for line in self.process.stdout:
            with self.changed:
                self.lines.append(line)
                self.changed.notify_all()
        with self.changed:
            self.lines.append(None)  # the end
            self.changed.notify_all()

    def wait_for(self, text: str) -> None:
        """Until a line of the job's log holds `text`; fails if the job ends first."""
        with self.changed:
            assert self.changed.wait_for(lambda: any(line is None or text in line for line in self.lines), timeout=900)
            assert None not in self.lines, f"the job ended before logging {text!r}:\n{self.log[-4000:]}"

    @property
    def log(self) -> str:
        return "".join(line for line in self.lines if line)

    def finish(self) -> int:
        code = self.process.wait(timeout=900)
        with self.changed:
            self.changed.wait_for(lambda: None in self.lines, timeout=60)
        return code


def executors(cluster: dict) -> list[psutil.Process]:
    """The executor JVMs of this cluster's workers (each runs in a work folder of its worker)."""
    found = []
    for process in psutil.process_iter(["cmdline", "cwd"]):
        cmdline, cwd = process.info["cmdline"] or [], process.info["cwd"] or ""
        if any("CoarseGrainedExecutorBackend" in part for part in cmdline) and cwd.startswith(cluster["LABELSPARK_CLUSTER_DIR"]):
            found.append(process)
    return found


def test_the_cluster_runs_a_master_and_two_workers(cluster):
    status = subprocess.run([str(ROOT / "scripts" / "local-cluster.sh"), "status"], env=cluster,
                            capture_output=True, text=True)
    assert status.returncode == 0 and status.stdout.strip() == cluster["SPARK_MASTER"]
    assert cluster["SPARK_MASTER"].startswith("spark://127.0.0.1:")
    workers = Path(cluster["LABELSPARK_CLUSTER_DIR"])
    assert all("Successfully registered with master" in (workers / f"worker-{n}.log").read_text() for n in (1, 2))


@pytest.mark.parametrize("cluster", ["3.5"], indirect=True)
def test_a_killed_executor_is_replaced_and_the_job_writes_what_sail_writes(tmp_path, cluster, sail):
    """On the 3.5 line only (CI's time): replacing a lost executor is Spark's scheduler, whichever
    line; that the 4.x line writes what Sail writes on the cluster, the driver-kill test shows (its
    tables equal Sail's after the cluster's runs), and both lines read Sail's checkpointed tables
    there (the publish job)."""
    config = write_demo(tmp_path)
    job = Submitted(cluster, "jobs/compute_labels.py", config, MONDAY)
    job.wait_for("writing label_snapshot partition")  # the source passes run as the snapshot is written
    running = executors(cluster)
    assert len(running) == 2, job.log[-4000:]
    running[0].kill()

    assert job.finish() == 0, job.log[-4000:]
    assert "Lost executor" in job.log or "ExecutorLostFailure" in job.log
    # an executor ran on each worker (each keeps its executors' logs under app-ID/EXECUTOR/), and a third replaced the killed one
    cluster_dir = Path(cluster["LABELSPARK_CLUSTER_DIR"])
    assert all(list((cluster_dir / f"worker-{n}").glob("app-*/*/stderr")) for n in (1, 2))
    assert len(list(cluster_dir.glob("worker-*/app-*/*/stderr"))) >= 3
    assert_same_tables(sail[MONDAY] / "warehouse", tmp_path / "warehouse")


@pytest.mark.parametrize("cluster", ["4.x"], indirect=True)
def test_a_run_whose_driver_was_killed_is_undone_by_the_next_run(spark, tmp_path, cluster, sail):
    """A warehouse Sail started, continued on the cluster; its driver killed after the snapshot
    is written and before the stats are: the next driver restores, then runs the day again.
    On one line only (CI's time): the restore is delta-rs's, whichever line wrote the tables."""
    config = project_from(spark, sail[MONDAY], tmp_path / "project")
    killed = Submitted(cluster, "jobs/compute_labels.py", config, TUESDAY)
    killed.wait_for(f"label_snapshot {TUESDAY}: ")
    os.killpg(killed.process.pid, signal.SIGKILL)
    assert killed.finish() == -signal.SIGKILL
    warehouse = tmp_path / "project" / "warehouse"
    assert (warehouse / LOCK_FILE).exists()  # the dead driver's lock stays, and its snapshot was written
    assert TUESDAY in {str(day) for day in read_rows(str(warehouse / "label_snapshot"), ["snapshot_date"]).column(0).to_pylist()}

    again = Submitted(cluster, "jobs/compute_labels.py", config, TUESDAY)
    assert again.finish() == 0, again.log[-4000:]
    assert all(len(list((warehouse / name / "_delta_log").glob("*.checkpoint.parquet"))) >= 2 for name in TABLE_KEYS)
    assert_same_tables(sail[TUESDAY] / "warehouse", warehouse, [name for name in TABLE_KEYS if name != "label_runs"])
    runs = table(warehouse, "label_runs")  # the killed run is recorded as abandoned
    assert list(runs[runs["snapshot_date"].astype(str) == TUESDAY]["status"]) == ["abandoned", "succeeded"]


def test_the_publish_job_indexes_the_snapshot_and_records_its_run(spark, tmp_path, cluster, sail, search_url):
    config = with_outputs(project_from(spark, sail[MONDAY], tmp_path / "project"),
                          elasticsearch={"nodes": search_url, "alias": "demo_labels", "writer": "python"})
    job = Submitted(cluster, "jobs/publish_labels.py", config, MONDAY)
    assert job.finish() == 0, job.log[-4000:]
    # labelspark's lines, and of Spark's only warnings (submit.sh passes conf/log4j2.properties)
    assert "INFO alias demo_labels moved from " in job.log and "INFO SparkContext" not in job.log, job.log[-4000:]

    [index] = alias_targets(search_url, "demo_labels")
    assert get(search_url, f"/{index}/_count")["count"] == 500
    runs = read_rows(str(tmp_path / "project" / "warehouse" / "label_runs")).to_pandas()
    published = runs[runs["index"] == index]
    assert list(published["status"]) == ["succeeded"]
