"""The main job submitted to a real Spark standalone cluster (a master and two workers on 127.0.0.1,
each its own JVM, started by scripts/local-cluster.sh) writes with delta-spark the six tables Sail writes."""
import os
import subprocess
import sys
from pathlib import Path

import pytest

from labelspark.demo import write_demo
from tests.support.warehouse import assert_same_tables, run_dates

pytestmark = pytest.mark.cluster

ROOT = Path(__file__).resolve().parent.parent


@pytest.fixture(scope="module")
def cluster_env(tmp_path_factory):
    """The environment of a shell that started the cluster and submits to it; the cluster is stopped after."""
    env = {**os.environ, "PATH": f"{Path(sys.executable).parent}{os.pathsep}{os.environ['PATH']}",
           "PYTHON": sys.executable, "PYSPARK_PYTHON": sys.executable, "SPARK_LOCAL_IP": "127.0.0.1",
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


def test_the_cluster_runs_a_master_and_two_workers(cluster_env):
    status = subprocess.run([str(ROOT / "scripts" / "local-cluster.sh"), "status"], env=cluster_env,
                            capture_output=True, text=True)
    assert status.returncode == 0 and status.stdout.strip() == cluster_env["SPARK_MASTER"]
    assert cluster_env["SPARK_MASTER"].startswith("spark://127.0.0.1:")
    workers = Path(cluster_env["LABELSPARK_CLUSTER_DIR"])
    assert all("Successfully registered with master" in (workers / f"worker-{n}.log").read_text() for n in (1, 2))


def test_submitted_job_writes_the_tables_sail_writes(tmp_path, cluster_env):
    config = write_demo(tmp_path / "cluster")
    reference = write_demo(tmp_path / "sail")
    env = {**cluster_env, "SPARK_DRIVER_MEMORY": "1g", "SPARK_EXECUTOR_MEMORY": "1g", "SPARK_EXECUTOR_CORES": "1",
           "LABELSPARK_SPARK_CONF": str(ROOT / "conf" / "spark-local-cluster.conf")}
    submitted = subprocess.run([str(ROOT / "scripts" / "submit.sh"), "jobs/compute_labels.py", str(config),
                                "--date", "2026-03-31"], cwd=ROOT, env=env, capture_output=True, text=True, timeout=600)
    assert submitted.returncode == 0, submitted.stderr[-4000:]
    # an executor ran on each worker (each keeps its executors' logs under app-ID/EXECUTOR/)
    cluster_dir = Path(cluster_env["LABELSPARK_CLUSTER_DIR"])
    assert all(list((cluster_dir / f"worker-{n}").glob("app-*/*/stderr")) for n in (1, 2))

    run_dates(reference, "sail", "2026-03-31")
    assert_same_tables(tmp_path / "sail" / "warehouse", tmp_path / "cluster" / "warehouse")
