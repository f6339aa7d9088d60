"""bench.py --cluster: labelspark's job and the hand-written Spark job (handwritten_job.py, the
floor of the production path) on the local standalone cluster, with the same executors, jars
and settings (scripts/submit.sh, conf/spark-local-cluster.conf), an event log each.

The cluster of scripts/local-cluster.sh is used when it runs, else started (workers of
`--executor-memory`) and stopped at the end. Each run's phases are read from its log
lines and its event log: wall seconds, task seconds, shuffle bytes and Spark jobs (each
SparkListenerJobStart). The two warehouses are compared: the snapshot on sampled entities,
label_stats row for row, label_history and segment_members by count and checksum; a
difference fails the benchmark. The last line is
`cluster: labelspark/handwritten=X.XX jobs=N handwritten_jobs=M` (wall seconds from
spark-submit to exit; jobs of each run).
"""
from __future__ import annotations

import datetime as dt
import os
import re
import shlex
import shutil
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

import duckdb
import yaml

import spark_stages
from synthetic import RUN_DATE, data_set
from workload import workload, write_config
from workload_spark import write_spec

from labelspark.warehouse.deltars import read_rows, scan_rows

ROOT = Path(__file__).resolve().parent.parent
# (phase, the log line that ends it: the first pattern found); the time after the last is `end`
STATS = (r"segment_members \S+: \d+ segments", r"label_stats \S+: \d+ labels")
LABELSPARK_PHASES = (
    ("start-up, plan", (r"labels due",)),
    ("source passes", (r"writing label_snapshot partition",)),
    ("labels, snapshot", (r"label_snapshot \S+: \d+ entities",)),
    ("stats, segments", STATS),
    ("history, catalog", (r"label_history and label_catalog advanced",)),
)
HANDWRITTEN_PHASES = (
    ("start-up", (r"labels due",)),
    ("sources, labels, snapshot", (r"label_snapshot \S+: \d+ entities",)),
    ("stats, segments", STATS),
    ("history", (r"label_history advanced",)),
)
TABLES = ("label_snapshot", "label_stats", "segment_members", "label_history")
LOG_TIME = re.compile(r"^(\d\d):(\d\d):(\d\d)\.(\d{3}) [A-Z]+ (.*)$")


@dataclass
class Submitted:
    name: str
    started: float  # epoch seconds
    seconds: float
    log: Path
    events: Path  # the application's event log


def run(args, work: Path) -> int:
    """The cluster benchmark of `args` (bench.py's): both jobs, the report, the comparison."""
    data = data_set(work, args.users, args.orders_per_user, args.seed)
    directory = work / f"cluster-{args.labels}"
    load = workload(args.labels, data)
    config = write_config(load, data, directory, directory / "labelspark-warehouse")
    spec = write_spec(load, data, yaml.safe_load(config.read_text()), directory / "handwritten-warehouse", directory / "handwritten.json")
    for output in ("labelspark-warehouse", "handwritten-warehouse", "events-labelspark", "events-handwritten"):
        shutil.rmtree(directory / output, ignore_errors=True)
    print(f"cluster: {args.users:,} users x {args.orders_per_user} orders, {args.labels} labels -> {directory}", flush=True)
    master, started_here = _cluster(args.executor_memory)
    try:
        env = _environment(master, args.executor_memory)
        date = ["--date", RUN_DATE.isoformat(), "--no-publish"]
        labelspark = _submit("labelspark", lambda e: [str(ROOT / "scripts/submit.sh"), str(ROOT / "jobs/compute_labels.py"), str(config), *date],
                             env, directory)
        handwritten = _submit("handwritten", lambda e: _handwritten_command(spec, e), env, directory)
    finally:
        if started_here:
            subprocess.run([str(ROOT / "scripts/local-cluster.sh"), "stop"], check=False)
    jobs = {}
    for submitted, phases in ((labelspark, LABELSPARK_PHASES), (handwritten, HANDWRITTEN_PHASES)):
        jobs[submitted.name] = _report(submitted, phases)
    differences = _compare(directory / "labelspark-warehouse", directory / "handwritten-warehouse", args.sample)
    if differences:
        print(f"the hand-written job's tables differ from labelspark's in {differences} places: see above", file=sys.stderr)
    print(f"cluster: labelspark/handwritten={labelspark.seconds / handwritten.seconds:.2f} "
          f"jobs={jobs['labelspark']} handwritten_jobs={jobs['handwritten']}", flush=True)
    return 1 if differences else 0


def _cluster(executor_memory: str) -> tuple[str, bool]:
    """The running local cluster's master URL, or a new one's; and whether it was started here."""
    script = str(ROOT / "scripts/local-cluster.sh")
    status = subprocess.run([script, "status"], capture_output=True, text=True)
    if status.returncode == 0:
        return status.stdout.strip(), False
    env = {**os.environ, "PYTHON": sys.executable, "SPARK_WORKER_MEMORY": os.environ.get("SPARK_WORKER_MEMORY", executor_memory)}
    started = subprocess.run([script, "start"], capture_output=True, text=True, env=env, check=True)
    return started.stdout.strip(), True


def _environment(master: str, executor_memory: str) -> dict:
    """scripts/submit.sh's settings for the local cluster, the README's, with an event log."""
    return {
        **os.environ, "PATH": f"{Path(sys.executable).parent}{os.pathsep}{os.environ['PATH']}", "PYSPARK_PYTHON": sys.executable,
        "SPARK_MASTER": master, "SPARK_DRIVER_MEMORY": "1g", "SPARK_EXECUTOR_MEMORY": executor_memory, "SPARK_EXECUTOR_CORES": "1",
        "LABELSPARK_SPARK_CONF": str(ROOT / "conf/spark-local-cluster.conf"),
    }


def _handwritten_command(spec: Path, env: dict) -> list[str]:
    """submit.sh's spark-submit command (same jars, executors and settings) for the
    hand-written job, without labelspark's package."""
    printed = subprocess.run([str(ROOT / "scripts/submit.sh"), "--dry-run", str(Path(__file__).with_name("handwritten_job.py")), str(spec)],
                             env=env, capture_output=True, text=True, check=True).stdout
    command = shlex.split(printed)
    at = command.index("--py-files")
    del command[at:at + 2]
    command[command.index("--name") + 1] = "handwritten labels"
    return command


def _submit(name: str, command, env: dict, directory: Path) -> Submitted:
    """Runs `command(env)`, its event log in a folder of its own, timing it to exit."""
    events = directory / f"events-{name}"
    events.mkdir(parents=True)
    extra = f"spark.eventLog.enabled=true spark.eventLog.dir={events.as_uri()} {env.get('LABELSPARK_EXTRA_CONF', '')}".strip()
    env = {**env, "LABELSPARK_EXTRA_CONF": extra}
    command = command(env)
    log = directory / f"{name}.log"
    print(f"{name}: spark-submit ...", end=" ", flush=True)
    with log.open("w") as out:
        started, clock = time.time(), time.perf_counter()
        code = subprocess.run(command, stdout=out, stderr=subprocess.STDOUT, env=env).returncode
        seconds = time.perf_counter() - clock
    if code != 0:
        print("failed")
        print(log.read_text()[-4000:], file=sys.stderr)
        raise SystemExit(f"{name} exited {code}: see {log}")
    print(f"{seconds:.1f} s", flush=True)
    return Submitted(name, started, seconds, log, next(events.iterdir()))


def _marks(submitted: Submitted, phases) -> list[tuple[str, float]]:
    """(phase, epoch second it ends) from the run's log lines; the last phase ends at exit."""
    day = dt.datetime.fromtimestamp(submitted.started).replace(hour=0, minute=0, second=0, microsecond=0)
    lines = []
    for line in submitted.log.read_text().splitlines():
        match = LOG_TIME.match(line)
        if match:
            hours, minutes, seconds, millis, message = match.groups()
            moment = (day + dt.timedelta(hours=int(hours), minutes=int(minutes), seconds=int(seconds), milliseconds=int(millis))).timestamp()
            lines.append((moment + 86_400 if moment < submitted.started - 60 else moment, message))
    marks, at = [], 0
    for name, patterns in phases:
        for pattern in patterns:
            found = next((i for i in range(at, len(lines)) if re.search(pattern, lines[i][1])), None)
            if found is not None:
                marks.append((name, lines[found][0]))
                at = found
                break
        else:
            raise SystemExit(f"{submitted.name}: no log line ends the phase '{name}' in {submitted.log}")
    return marks + [("end (bookkeeping, exit)", submitted.started + submitted.seconds)]


def _report(submitted: Submitted, phases) -> int:
    """The run's table per phase; returns its Spark jobs."""
    jobs = spark_stages.jobs(submitted.events)
    print(f"\n{submitted.name}: {submitted.seconds:.1f} s from spark-submit to exit, {len(jobs)} Spark jobs ({submitted.events})")
    print(f"{'phase':<26} {'wall s':>7} {'task s':>8} {'shuffle MB':>11} {'jobs':>5}")
    begin, total = submitted.started, {"task_ms": 0, "shuffle_bytes": 0}
    for name, end in _marks(submitted, phases):
        mine = [job for job in jobs if begin * 1000 <= job["start"] < end * 1000 or (name.startswith("end") and job["start"] >= begin * 1000)]
        task, shuffle = sum(job["task_ms"] for job in mine), sum(job["shuffle_bytes"] for job in mine)
        print(f"{name:<26} {end - begin:>7.1f} {task / 1000:>8.1f} {shuffle / 2**20:>11.1f} {len(mine):>5}")
        total["task_ms"] += task
        total["shuffle_bytes"] += shuffle
        begin = end
    print(f"{'total':<26} {submitted.seconds:>7.1f} {total['task_ms'] / 1000:>8.1f} {total['shuffle_bytes'] / 2**20:>11.1f} {len(jobs):>5}")
    return len(jobs)


def _compare(expected: Path, actual: Path, sample: int) -> int:
    """Differences of the hand-written tables from labelspark's."""
    from bench import _differences  # bench imports this module

    print()
    missing = [table for table in TABLES if (expected / table).exists() != (actual / table).exists()]
    for table in missing:
        print(f"compare: {table} written by one job only", flush=True)
    con = duckdb.connect()
    con.execute("SET TimeZone = 'UTC'")
    on = f"snapshot_date = DATE '{RUN_DATE.isoformat()}'"
    con.register("expected", read_rows(str(expected / "label_snapshot"), where=on).drop_columns(["snapshot_date"]))
    entities = con.execute("SELECT count(*) FROM expected").fetchall()[0][0]
    differences = len(missing) + _differences(con, "handwritten", read_rows(str(actual / "label_snapshot"), where=on).drop_columns(["snapshot_date"]),
                                              max(1, entities // max(1, sample)), against="labelspark")
    differences += _stats(con, expected, actual)
    for table in ("segment_members", "label_history"):
        if (expected / table).exists() and (actual / table).exists():
            differences += _checksums(con, table, expected, actual)
    return differences


def _stats(con, expected: Path, actual: Path) -> int:
    con.register("e", read_rows(str(expected / "label_stats")))
    con.register("a", read_rows(str(actual / "label_stats")))
    rows, differ = con.execute("""
        SELECT count(*), count(*) FILTER (WHERE e.label_id IS NULL OR a.label_id IS NULL OR e.users <> a.users
                                          OR e.proportion <> a.proportion OR e.rank <> a.rank OR e.snapshot_date <> a.snapshot_date)
        FROM e FULL OUTER JOIN a ON e.label_id = a.label_id AND e.value IS NOT DISTINCT FROM a.value""").fetchall()[0]
    print(f"compare handwritten with labelspark: label_stats {rows:,} rows (label x value), {differ} differ", flush=True)
    return differ


def _checksums(con, table: str, expected: Path, actual: Path) -> int:
    """Rows and an order-free checksum of every column, of each side's `table`."""
    sums = []
    for side in (expected, actual):
        reader = scan_rows(str(side / table))
        columns = ", ".join(f'"{name}"' for name in sorted(reader.schema.names))
        sums.append(con.execute(f"SELECT count(*), bit_xor(hash({columns})) FROM reader").fetchall()[0])
    same = sums[0] == sums[1]
    print(f"compare handwritten with labelspark: {table} {sums[0][0]:,} rows against {sums[1][0]:,}, "
          f"checksums {'equal' if same else 'differ'}", flush=True)
    return 0 if same else 1
