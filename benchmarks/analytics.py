"""Times the delta-rs commands (`audit`, `diff`, `profile`, `compare`) on the benchmark's warehouse.

    python benchmarks/analytics.py [--users 1000000] [--labels 50] [--days 2]

Builds once (and reuses) the synthetic data of bench.py and a warehouse of `--days` runs
ending on its run date, then runs each command in a fresh process, sampling the peak
resident memory of the process, and prints one line per command; `baseline` is `validate`
(start-up, imports and reading the config), which every command pays. Their cost should follow
the entities of one or two dates, never the table: a third date must not make them dearer.
"""
from __future__ import annotations

import argparse
import resource
import datetime as dt
import subprocess
import sys
import time
from pathlib import Path

import psutil

sys.path.insert(0, str(Path(__file__).resolve().parent))
from bench import _PeakMemory  # noqa: E402
from synthetic import RUN_DATE, data_set  # noqa: E402
from workload import KEY, workload, write_config  # noqa: E402

from labelspark.errors import NoResults  # noqa: E402
from labelspark.warehouse.deltars import read_rows, scan_rows, sql_literal  # noqa: E402


def main(argv: list[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    work = Path(args.work_dir).resolve()
    data = data_set(work, args.users, args.orders_per_user)
    directory = work / f"analytics-u{args.users}-l{args.labels}"
    config = write_config(workload(args.labels, data), data, directory, directory / "warehouse")
    days = [RUN_DATE - dt.timedelta(days=n) for n in range(args.days - 1, -1, -1)]
    _build(config, directory / "warehouse", days)
    entity = _an_entity(directory / "warehouse", RUN_DATE)
    first, last = str(days[0]), str(days[-1])
    commands = {
        "audit": ["audit", str(config), "--format", "json"],
        "diff": ["diff", str(config), "--from", first, "--to", last, "--format", "json"],
        "profile": ["profile", str(config), "--entity", str(entity), "--format", "json"],
        "compare": ["compare", str(config), "--segment", "bench_segment", "--rest", "--format", "json"],
    }
    print(f"{args.users:,} users, {args.labels} labels, dates {first} .. {last}")
    print(f"{'command':8} {'wall s':>7} {'cpu s':>7} {'peak RSS':>9}")
    for name, command in [("baseline", ["validate", str(config)]), *commands.items()]:
        seconds, cpu, peak = _timed([sys.executable, "-m", "labelspark", *command])
        print(f"{name:8} {seconds:7.2f} {cpu:7.2f} {peak / 2**20:6,.0f} MB", flush=True)
    return 0


def _build(config: Path, warehouse: Path, days: list[dt.date]) -> None:
    """Runs the dates the warehouse does not hold yet (the runs are not timed)."""
    try:
        dates = read_rows(str(warehouse / "label_snapshot"), ["snapshot_date"]).column(0).unique()
        done = set(dates.to_pylist())
    except NoResults:  # no table yet
        done = set()
    for day in days:
        if day not in done:
            print(f"running {day} ...", flush=True)
            subprocess.run([sys.executable, "-m", "labelspark", "run", str(config), "--date", str(day), "--no-publish"],
                           check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)


def _an_entity(warehouse: Path, day: dt.date):
    batches = scan_rows(str(warehouse / "label_snapshot"), [KEY], where=f"snapshot_date = {sql_literal(day)}")
    batch = next(b for b in batches if b.num_rows)
    return batch.column(0)[batch.num_rows // 2].as_py()


def _timed(command: list[str]) -> tuple[float, float, int]:
    """Wall seconds, CPU seconds (user + system, all threads) and peak RSS of one command."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    start = time.perf_counter()
    process = psutil.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    peak = _PeakMemory(process)
    _, error = process.communicate()
    seconds = time.perf_counter() - start
    peak.stop()
    if process.returncode != 0:
        raise SystemExit(f"{' '.join(command[2:4])} exited {process.returncode}: {error.decode()[-2000:]}")
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    return seconds, (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime), peak.peak


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--users", type=int, default=1_000_000)
    parser.add_argument("--orders-per-user", type=int, default=20)
    parser.add_argument("--labels", type=int, default=50)
    parser.add_argument("--days", type=int, default=2, help="runs in the warehouse, ending on the run date")
    parser.add_argument("--work-dir", default=str(Path(__file__).resolve().parent / ".work"))
    return parser


if __name__ == "__main__":
    sys.exit(main())
