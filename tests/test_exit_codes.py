"""What an orchestrator is told: a date after today is a bad argument (exit 2) unless
`--allow-future`; the busy (75) and interrupted (130/143) codes are tested with the lock and
the interrupts."""
import datetime as dt
import os
import subprocess
import sys
from zoneinfo import ZoneInfo


from labelspark.cli.demo import write_demo
from labelspark.engine.error_conversion import SAIL_MEMORY
from labelspark.warehouse.deltars import read_rows


def labelspark(*args, cwd, env=None):
    return subprocess.run([sys.executable, "-m", "labelspark", *args], cwd=cwd, capture_output=True, text=True, timeout=300, env=env)


def tomorrow_in_the_demo_timezone() -> dt.date:
    return dt.datetime.now(ZoneInfo("Asia/Shanghai")).date() + dt.timedelta(days=1)


def test_a_date_after_today_is_refused_with_exit_2(tmp_path):
    config = write_demo(tmp_path / "demo")
    tomorrow = tomorrow_in_the_demo_timezone().isoformat()
    for command in ("run", "publish"):
        done = labelspark(command, str(config), "--date", tomorrow, cwd=tmp_path)
        assert done.returncode == 2, done.stderr
        assert f"--date {tomorrow} is after today" in done.stderr and "--allow-future" in done.stderr
    assert not (tmp_path / "demo" / "warehouse").exists()  # refused before anything is touched


def test_allow_future_runs_a_date_after_today(tmp_path):
    config = write_demo(tmp_path / "demo")
    tomorrow = tomorrow_in_the_demo_timezone()
    # the demo's data ends 2026-03-31: tomorrow is also past it, which --allow-stale-sources accepts
    done = labelspark("run", str(config), "--date", tomorrow.isoformat(), "--allow-future", "--allow-stale-sources", cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    snapshot = read_rows(str(tmp_path / "demo" / "warehouse" / "label_snapshot"))
    assert set(snapshot["snapshot_date"].to_pylist()) == {tomorrow}


def test_running_out_of_the_embedded_engines_memory_names_the_setting_to_raise(tmp_path):
    config = write_demo(tmp_path / "demo")
    tiny_pool = {**os.environ, SAIL_MEMORY: str(256 * 1024)}  # below what one sort reserves
    done = labelspark("run", str(config), "--date", "2026-03-31", cwd=tmp_path, env=tiny_pool)
    assert done.returncode == 1, done.stderr
    assert f"memory pool (0.00 GiB: {SAIL_MEMORY}" in done.stderr and f"set {SAIL_MEMORY} higher" in done.stderr
    assert not (tmp_path / "demo" / "warehouse" / "label_snapshot").exists()
