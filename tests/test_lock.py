"""One run at a time per warehouse: concurrent runs, stale locks on this host and others, unlock."""
import datetime as dt
import json
import os
import signal
import socket
import subprocess
import sys
import time

import pytest
from deltalake import DeltaTable

from labelspark.config import load_project
from labelspark.cli.demo import write_demo
from labelspark.compute.run import run
from labelspark.warehouse.deltars import read_rows
from labelspark.warehouse.names import Tables
from labelspark.warehouse.lock import HEARTBEAT_ENV, LOCK_FILE, WarehouseLocked
from tests.support.projects import table_contents, with_outputs

MONDAY, TUESDAY = dt.date(2026, 3, 30), dt.date(2026, 3, 31)
LONG_AGO = "2026-01-01T06:00:00+00:00"
FUTURE = "2099-01-01T00:00:00+00:00"  # a heartbeat that stays fresh


def write_lock(warehouse, pid, since=LONG_AGO, run_id="r-other", host=None, heartbeat=None, versions=None):
    warehouse.mkdir(parents=True, exist_ok=True)
    body = {"run_id": run_id, "pid": pid, "host": host or socket.gethostname(), "since": since, "config": "x.yaml"}
    if heartbeat:
        body["heartbeat"] = heartbeat
    if versions is not None:
        body["versions"] = versions
    (warehouse / LOCK_FILE).write_text(json.dumps(body))


def labelspark(*args, cwd, env=None):
    return subprocess.run([sys.executable, "-m", "labelspark", *args], cwd=cwd, capture_output=True, text=True,
                          timeout=300, env=env)


def runs_of(project):
    return sorted(read_rows(Tables(project.warehouse).runs).to_pylist(), key=lambda r: r["started_at"])


def killed_after_the_snapshot(config, tmp_path):
    """Runs Tuesday in a process killed (SIGKILL) once label_snapshot is written: its lock stays behind."""
    snapshot = Tables(load_project(config).warehouse).snapshot
    before = DeltaTable(snapshot).version()
    tuesday = subprocess.Popen([sys.executable, "-m", "labelspark", "run", str(config), "--date", "2026-03-31"],
                               cwd=tmp_path, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    deadline = time.monotonic() + 120
    while tuesday.poll() is None and time.monotonic() < deadline and DeltaTable(snapshot).version() == before:
        time.sleep(0.005)
    tuesday.send_signal(signal.SIGKILL)
    tuesday.wait()
    lock = config.parent / "warehouse" / LOCK_FILE
    assert DeltaTable(snapshot).version() > before and lock.exists()
    return lock


def test_a_second_run_is_refused_while_one_runs(spark, tmp_path):
    config = write_demo(tmp_path / "demo")
    first = subprocess.Popen([sys.executable, "-m", "labelspark", "run", str(config), "--date", "2026-03-31"],
                             cwd=tmp_path, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    lock = tmp_path / "demo" / "warehouse" / LOCK_FILE
    deadline = time.monotonic() + 120
    while not lock.exists() and first.poll() is None and time.monotonic() < deadline:
        time.sleep(0.01)
    assert lock.exists(), "the first run never took the lock"
    with pytest.raises(WarehouseLocked) as refused:
        run(spark, load_project(config), TUESDAY)
    message = str(refused.value)
    assert "locked by run" in message and f"pid {first.pid}" in message and "labelspark unlock" in message
    assert "delete" not in message  # deleting the file would skip undoing a dead run's writes
    _, stderr = first.communicate(timeout=300)
    assert first.returncode == 0, stderr
    assert not lock.exists()  # released at the end


@pytest.mark.parametrize("host", [None, "driver-node-7"], ids=["this host, pid alive", "another host, fresh heartbeat"])
def test_a_busy_warehouse_exits_75_at_once(tmp_path, host):
    config = write_demo(tmp_path / "demo")
    holder = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(120)"])
    try:
        write_lock(tmp_path / "demo" / "warehouse", holder.pid, host=host, heartbeat=FUTURE)
        done = labelspark("run", str(config), "--date", "2026-03-31", cwd=tmp_path)
        assert done.returncode == 75, done.stderr
        assert f"locked by run r-other (pid {holder.pid}" in done.stderr and "Traceback" not in done.stderr
        assert not (tmp_path / "demo" / "warehouse" / "label_runs").exists()  # nothing touched
    finally:
        holder.kill()


def test_a_stale_lock_is_taken_over(spark, tmp_path, caplog):
    config = write_demo(tmp_path / "demo")
    gone = subprocess.Popen([sys.executable, "-c", "pass"])
    gone.wait()
    write_lock(tmp_path / "demo" / "warehouse", gone.pid, heartbeat=FUTURE)  # same host: a dead pid is enough
    result = run(spark, load_project(config), TUESDAY)
    assert result.rows == 500
    assert "taking over the stale lock of run r-other" in caplog.text
    assert not (tmp_path / "demo" / "warehouse" / LOCK_FILE).exists()


def test_a_run_killed_on_another_host_is_undone_and_marked_abandoned(spark, tmp_path):
    """A driver killed in cluster mode, retried on another node: once its heartbeat is old, the
    retry takes over, restores the tables and closes the dead run's row."""
    config = write_demo(tmp_path / "demo")
    project = load_project(config)
    run(spark, project, MONDAY)
    after_monday = table_contents(project)
    lock = killed_after_the_snapshot(config, tmp_path)
    dead = json.loads(lock.read_text())
    stale = dt.datetime.now(dt.timezone.utc) - dt.timedelta(minutes=10)
    lock.write_text(json.dumps({**dead, "host": "driver-node-7", "heartbeat": stale.isoformat()}))

    run(spark, project, MONDAY)

    assert table_contents(project) == after_monday
    recorded = {r["run_id"]: r for r in runs_of(project)}
    assert recorded[dead["run_id"]]["status"] == "abandoned"
    assert "pid" in recorded[dead["run_id"]]["error"] and "driver-node-7" in recorded[dead["run_id"]]["error"]
    assert recorded[dead["run_id"]]["finished_at"] == stale  # when it was last seen alive
    assert not lock.exists()


def test_a_lock_of_another_host_with_a_fresh_heartbeat_is_respected(spark, tmp_path):
    config = write_demo(tmp_path / "demo")
    recent = dt.datetime.now(dt.timezone.utc) - dt.timedelta(seconds=30)
    write_lock(tmp_path / "demo" / "warehouse", 12345, host="driver-node-7", heartbeat=recent.isoformat())
    with pytest.raises(WarehouseLocked, match="pid 12345 on driver-node-7"):
        run(spark, load_project(config), TUESDAY)


def test_the_holder_renews_its_heartbeat(tmp_path):
    config = write_demo(tmp_path / "demo")
    lock = tmp_path / "demo" / "warehouse" / LOCK_FILE
    beats = set()
    running = subprocess.Popen([sys.executable, "-m", "labelspark", "run", str(config), "--date", "2026-03-31"],
                               cwd=tmp_path, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                               env={**os.environ, HEARTBEAT_ENV: "0.05"})
    try:
        while running.poll() is None and len(beats) < 3:
            try:
                beats.add(json.loads(lock.read_text())["heartbeat"])
            except (FileNotFoundError, ValueError):
                pass  # not taken yet, or already released (never a partial file: it is replaced in one step)
            time.sleep(0.01)
        assert len(beats) >= 3, "the heartbeat was not renewed while the run held the lock"
    finally:
        running.wait(timeout=300)


def test_unlock_refuses_a_live_holder_unless_forced(tmp_path):
    config = write_demo(tmp_path / "demo")
    warehouse = tmp_path / "demo" / "warehouse"
    holder = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(120)"])
    try:
        write_lock(warehouse, holder.pid)  # this host, pid alive: however old its heartbeat
        refused = labelspark("unlock", str(config), cwd=tmp_path)
        assert refused.returncode == 75 and f"pid {holder.pid}" in refused.stderr and "--force" in refused.stderr
        assert (warehouse / LOCK_FILE).exists()

        write_lock(warehouse, 12345, host="worker-7", heartbeat=FUTURE)  # another host, fresh heartbeat
        assert labelspark("unlock", str(config), cwd=tmp_path).returncode == 75
        forced = labelspark("unlock", "--force", str(config), cwd=tmp_path)
        assert forced.returncode == 0 and "pid 12345 on worker-7" in forced.stdout
        assert not (warehouse / LOCK_FILE).exists()
    finally:
        holder.kill()


def test_unlock_clears_a_dead_run_and_undoes_its_writes(spark, tmp_path):
    config = write_demo(tmp_path / "demo")
    project = load_project(config)
    run(spark, project, MONDAY)
    after_monday = table_contents(project)
    lock = killed_after_the_snapshot(config, tmp_path)
    dead = json.loads(lock.read_text())["run_id"]

    done = labelspark("unlock", str(config), cwd=tmp_path)

    assert done.returncode == 0 and f"run {dead}" in done.stdout, done.stderr
    assert not lock.exists()
    assert table_contents(project) == after_monday
    assert {r["run_id"]: r["status"] for r in runs_of(project)}[dead] == "abandoned"
    assert labelspark("unlock", str(config), cwd=tmp_path).stdout.strip().endswith("was not locked")


def test_different_warehouses_run_side_by_side(spark, tmp_path):
    holder = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(120)"])
    try:
        write_lock(tmp_path / "a" / "warehouse", holder.pid, heartbeat=FUTURE)
        assert run(spark, load_project(write_demo(tmp_path / "b")), TUESDAY).rows == 500
    finally:
        holder.kill()


def test_a_run_killed_after_it_succeeded_is_not_undone_by_the_next(spark, tmp_path, receiver):
    """Killed (SIGKILL) while calling the business back, after its row says `succeeded` and before
    it released the lock: the next run takes the lock over and undoes nothing of the run that stood."""
    config = with_outputs(write_demo(tmp_path / "demo"), callback={"url": receiver(200, delay=30).url, "timeout_seconds": 60})
    project = load_project(config)
    run(spark, project, MONDAY, publish=False)
    tuesday = subprocess.Popen([sys.executable, "-m", "labelspark", "run", str(config), "--date", "2026-03-31"],
                               cwd=tmp_path, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    deadline = time.monotonic() + 120
    while tuesday.poll() is None and time.monotonic() < deadline and [r["status"] for r in runs_of(project)] != ["succeeded"] * 2:
        time.sleep(0.05)
    tuesday.send_signal(signal.SIGKILL)
    tuesday.wait()
    assert (config.parent / "warehouse" / LOCK_FILE).exists()
    after_tuesday = table_contents(project)

    run(spark, project, MONDAY, publish=False)  # a back-fill: takes the lock over, leaves history alone

    assert [r["status"] for r in runs_of(project)] == ["succeeded"] * 3
    assert table_contents(project)[Tables(project.warehouse).history] == after_tuesday[Tables(project.warehouse).history]
