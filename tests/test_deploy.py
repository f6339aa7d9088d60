"""Cluster deployment: the submit script, the --py-files archive, the jobs, the connect engine."""
import os
import shutil
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest

from labelspark.cli.demo import write_demo
from labelspark.warehouse.deltars import read_rows

ROOT = Path(__file__).resolve().parent.parent
BIN = Path(sys.executable).parent


def submit(*args, **env):
    environment = {**os.environ, "PATH": f"{BIN}{os.pathsep}{os.environ['PATH']}", "LABELSPARK_SPARK_VERSION": "4.1.1",
                   "LABELSPARK_JARS": "/jars/spark-4.1", **env}
    return subprocess.run([str(ROOT / "scripts" / "submit.sh"), *args], cwd=ROOT, env=environment,
                          capture_output=True, text=True, timeout=120)


def test_dry_run_prints_a_complete_spark_submit_line():
    done = submit("--dry-run", "jobs/compute_labels.py", "conf/retail_members.yaml", "--date", "2026-03-02")
    assert done.returncode == 0, done.stderr
    line = done.stdout.strip()
    assert line.startswith("spark-submit ")
    # the jars pinned for Spark 4.1 from the local folder: Delta and PostgreSQL's JDBC driver
    # (no search connector exists for Spark 4)
    folder = "/jars/spark-4.1"
    assert (f"--jars {folder}/delta-spark_4.1_2.13-4.4.0.jar\\,{folder}/delta-storage-4.4.0.jar"
            f"\\,{folder}/postgresql-42.7.14.jar ") in line
    for setting in ("spark.sql.extensions=io.delta.sql.DeltaSparkSessionExtension",
                    "spark.sql.catalog.spark_catalog=org.apache.spark.sql.delta.catalog.DeltaCatalog",
                    "spark.speculation=false", "spark.sql.adaptive.enabled=true", "spark.sql.shuffle.partitions=2000"):
        assert f"--conf {setting}" in line
    # Spark logs from WARN up: the driver reads the file here, executors the copy --files puts beside them
    log_conf = ROOT / "conf" / "log4j2.properties"
    assert f"--conf spark.driver.extraJavaOptions=-Dlog4j2.configurationFile={log_conf} " in line
    assert "--conf spark.executor.extraJavaOptions=-Dlog4j2.configurationFile=log4j2.properties " in line
    assert f"--files {log_conf} " in line
    assert line.endswith(f"--py-files {ROOT}/dist/labelspark.zip jobs/compute_labels.py conf/retail_members.yaml --date 2026-03-02")


def test_dry_run_takes_cluster_settings_from_the_environment():
    done = submit("--dry-run", "jobs/compute_labels.py", "conf/retail_members.yaml", SPARK_MASTER="k8s://https://k8s:443",
                  SPARK_DEPLOY_MODE="cluster", SPARK_NUM_EXECUTORS="50", LABELSPARK_EXTRA_CONF="spark.a=1 spark.b=2",
                  LABELSPARK_PACKAGES="io.delta:delta-spark_2.13:9.9.9")
    assert done.returncode == 0, done.stderr
    line = done.stdout
    assert "--master k8s://https://k8s:443 --deploy-mode cluster" in line and "--num-executors 50" in line
    assert "--packages io.delta:delta-spark_2.13:9.9.9" in line and "--jars" not in line and "--conf spark.a=1 --conf spark.b=2" in line
    # in cluster mode the driver runs elsewhere: the config and the log4j2 file travel with --files
    # and are named by file name
    assert f"--files {ROOT}/conf/log4j2.properties\\,conf/retail_members.yaml " in line
    assert "--conf spark.driver.extraJavaOptions=-Dlog4j2.configurationFile=log4j2.properties " in line
    assert line.rstrip().endswith("jobs/compute_labels.py retail_members.yaml")


def test_a_log4j2_file_of_the_users_own_is_kept(tmp_path):
    conf_dir = tmp_path / "spark-conf"
    conf_dir.mkdir()
    (conf_dir / "log4j2.properties").write_text("rootLogger.level = info\n")
    assert "log4j2" not in submit("--dry-run", "jobs/compute_labels.py", "conf/retail_members.yaml",
                                  SPARK_CONF_DIR=str(conf_dir)).stdout
    assert "log4j2" not in submit("--dry-run", "jobs/compute_labels.py", "conf/retail_members.yaml", LABELSPARK_LOG_CONF="").stdout
    named = submit("--dry-run", "jobs/compute_labels.py", "conf/retail_members.yaml",
                   LABELSPARK_EXTRA_CONF="spark.driver.extraJavaOptions=-Dlog4j2.configurationFile=/etc/mine.properties").stdout
    assert "--conf spark.driver.extraJavaOptions=-Dlog4j2.configurationFile=/etc/mine.properties " in named
    assert "--conf spark.executor.extraJavaOptions=-Dlog4j2.configurationFile=log4j2.properties " in named


def test_submit_refuses_missing_files_and_unknown_spark_versions():
    assert submit("--dry-run", "jobs/nope.py", "conf/retail_members.yaml").returncode == 2
    unknown = submit("--dry-run", "jobs/compute_labels.py", "conf/retail_members.yaml", LABELSPARK_SPARK_VERSION="9.0.0")
    assert unknown.returncode == 2 and "no Delta Lake jars pinned for Spark 9.0.0" in unknown.stderr
    assert "Use Spark 4.1.4" in unknown.stderr  # the release that fits (tests/test_jars.py: the patch ranges)


def test_the_archive_imports_labelspark_in_a_clean_interpreter(tmp_path):
    assert submit("--dry-run", "jobs/compute_labels.py", "conf/retail_members.yaml").returncode == 0
    archive = ROOT / "dist" / "labelspark.zip"
    probe = ("import sys; sys.path.insert(0, sys.argv[1]); import labelspark, labelspark.compute.run, labelspark.cli; "
             "print(labelspark.__file__)")
    done = subprocess.run([sys.executable, "-I", "-c", probe, str(archive)], cwd=tmp_path, capture_output=True, text=True)
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip().startswith(str(archive))


@pytest.mark.parametrize("config", sorted(p.name for p in (ROOT / "conf").glob("*.yaml")))
def test_example_configs_validate(config):
    done = subprocess.run([sys.executable, "-m", "labelspark", "validate", str(ROOT / "conf" / config)],
                          capture_output=True, text=True)
    assert done.returncode == 0, done.stdout + done.stderr


def job(*args, cwd):
    return subprocess.run([sys.executable, str(ROOT / "jobs" / "compute_labels.py"), *args], cwd=cwd,
                          capture_output=True, text=True, timeout=600)


def test_compute_job_runs_end_to_end_on_sail(tmp_path):
    config = write_demo(tmp_path / "demo")
    done = job(str(config), "--date", "2026-03-31", "--engine", "sail", cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    rows = read_rows(str(tmp_path / "demo" / "warehouse" / "label_snapshot")).num_rows
    assert rows == 500


def test_compute_job_exit_codes(tmp_path):
    config = write_demo(tmp_path / "demo")
    broken = tmp_path / "broken.yaml"
    broken.write_text(config.read_text().replace("window: 30d", "window: 30"))
    bad_config = job(str(broken), "--date", "2026-03-31", "--engine", "sail", cwd=tmp_path)
    assert bad_config.returncode == 2 and "window" in bad_config.stderr and "Traceback" not in bad_config.stderr

    shutil.rmtree(tmp_path / "demo" / "data" / "orders")
    failing = job(str(config), "--date", "2026-03-31", "--engine", "sail", cwd=tmp_path)
    assert failing.returncode == 1
    assert "source 'orders'" in failing.stderr


def test_compute_job_on_classic_spark_without_its_jars(tmp_path):
    config = write_demo(tmp_path / "demo")
    # a folder named for the jars that lacks them: a clear error before Spark starts, exit 1
    done = subprocess.run([sys.executable, str(ROOT / "jobs" / "compute_labels.py"), str(config), "--date", "2026-03-31"],
                          cwd=tmp_path, env={**os.environ, "LABELSPARK_JARS": str(tmp_path)}, capture_output=True, text=True)
    assert done.returncode == 1
    assert f"LABELSPARK_JARS={tmp_path} lacks delta-spark_4.1_2.13-4.4.0.jar" in done.stderr and "scripts/fetch-jars.sh" in done.stderr
    assert not (tmp_path / "demo" / "warehouse").exists()


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def test_connect_engine_against_a_sail_server_in_another_process(tmp_path):
    config = write_demo(tmp_path / "demo")
    port = free_port()
    server = subprocess.Popen([sys.executable, "-m", "pysail", "spark", "server", "--ip", "127.0.0.1", "--port", str(port)],
                              stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            with socket.socket() as sock:
                if sock.connect_ex(("127.0.0.1", port)) == 0:
                    break
            time.sleep(0.2)
        done = subprocess.run([sys.executable, "-m", "labelspark", "run", str(config), "--date", "2026-03-31",
                               "--engine", "connect", "--remote", f"sc://127.0.0.1:{port}"],
                              cwd=tmp_path, capture_output=True, text=True, timeout=600)
        assert done.returncode == 0, done.stderr
        assert read_rows(str(tmp_path / "demo" / "warehouse" / "label_snapshot")).num_rows == 500
    finally:
        server.terminate()
        server.wait(timeout=30)


def test_help_names_the_environment_and_nothing_else():
    done = submit("--help")
    assert done.returncode == 0
    assert "LABELSPARK_JARS" in done.stdout and "LABELSPARK_PACKAGES" in done.stdout
    assert done.stdout.rstrip().splitlines()[-1].lstrip().startswith("LABELSPARK_EXTRA_CONF")


@pytest.mark.parametrize("engine", [["--engine", "sail"], ["--engine=sail"]])
def test_the_job_entry_point_takes_the_engine_in_either_spelling(tmp_path, engine):
    config = write_demo(tmp_path / "demo", members=50)
    done = subprocess.run([sys.executable, str(ROOT / "jobs" / "compute_labels.py"), str(config), "--date", "2026-03-31", *engine],
                          capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr
    assert read_rows(str(tmp_path / "demo" / "warehouse" / "label_snapshot")).num_rows == 50
