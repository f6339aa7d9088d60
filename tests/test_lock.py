"""One run at a time per warehouse: concurrent runs, stale locks, clearing."""
import json
import socket
import subprocess
import sys
import time

import pytest

from labelspark.config import load_project
from labelspark.demo import write_demo
from labelspark.pipeline import run
from labelspark.storage.lock import LOCK_FILE, WarehouseLocked
from tests.test_pipeline import TUESDAY


def write_lock(warehouse, pid, since="2026-11-23T06:00:00+00:00", run_id="r-other", host=None):
    warehouse.mkdir(parents=True, exist_ok=True)
    (warehouse / LOCK_FILE).write_text(json.dumps({"run_id": run_id, "pid": pid, "host": host or socket.gethostname(),
                                                   "since": since, "config": "x.yaml"}))


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
    holder = json.loads(lock.read_text()) if lock.exists() else None
    assert "locked by run" in message and f"pid {first.pid}" in message and "labelspark unlock" in message
    assert holder is None or holder["pid"] == first.pid
    _, stderr = first.communicate(timeout=300)
    assert first.returncode == 0, stderr
    assert not lock.exists()  # released at the end


def test_the_cli_refuses_at_once_with_exit_1(tmp_path):
    config = write_demo(tmp_path / "demo")
    holder = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(120)"])
    try:
        write_lock(tmp_path / "demo" / "warehouse", holder.pid, since="2099-01-01T00:00:00+00:00")
        done = subprocess.run([sys.executable, "-m", "labelspark", "run", str(config), "--date", "2026-03-31"],
                              cwd=tmp_path, capture_output=True, text=True, timeout=300)
        assert done.returncode == 1
        assert f"locked by run r-other (pid {holder.pid}" in done.stderr and "Traceback" not in done.stderr
        assert not (tmp_path / "demo" / "warehouse" / "label_runs").exists()  # nothing touched
    finally:
        holder.kill()


def test_a_stale_lock_is_taken_over(spark, tmp_path, caplog):
    config = write_demo(tmp_path / "demo")
    gone = subprocess.Popen([sys.executable, "-c", "pass"])
    gone.wait()
    write_lock(tmp_path / "demo" / "warehouse", gone.pid)
    result = run(spark, load_project(config), TUESDAY)
    assert result.rows == 500
    assert "taking over the stale lock of run r-other" in caplog.text
    assert not (tmp_path / "demo" / "warehouse" / LOCK_FILE).exists()


def test_unlock_clears_a_lock_of_another_host(tmp_path):
    config = write_demo(tmp_path / "demo")
    write_lock(tmp_path / "demo" / "warehouse", 12345, since="2099-01-01T00:00:00+00:00", host="worker-7")
    done = subprocess.run([sys.executable, "-m", "labelspark", "unlock", str(config)], capture_output=True, text=True)
    assert done.returncode == 0 and "pid 12345 on worker-7" in done.stdout
    assert not (tmp_path / "demo" / "warehouse" / LOCK_FILE).exists()


def test_different_warehouses_run_side_by_side(spark, tmp_path):
    holder = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(120)"])
    try:
        write_lock(tmp_path / "a" / "warehouse", holder.pid, since="2099-01-01T00:00:00+00:00")
        assert run(spark, load_project(write_demo(tmp_path / "b")), TUESDAY).rows == 500
    finally:
        holder.kill()
