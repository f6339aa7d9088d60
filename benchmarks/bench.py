"""labelspark's benchmark: the main job on Sail, classic Spark and hand-written DuckDB SQL.

    python benchmarks/bench.py [--users 1000000] [--orders-per-user 20] [--labels 50] [--scaling [LABELS ...]] [--only ENGINE] [--sail-memory 2g] [--year | --year-only [--year-reuse-first]]
    python benchmarks/bench.py --cluster [--users N] [--orders-per-user N] [--labels 50] [--executor-memory 1g]

Generates a synthetic retail data set (reused when it exists) and a config of `--labels`
labels, then times each of these end to end in a fresh process, sampling the peak resident
memory of its whole process tree:

  sail    `labelspark run` on the embedded default engine, Delta writes included
  spark   `labelspark run --engine spark --snapshot-to DIR`: classic local Spark, computing the
          same snapshot into parquet (no Delta jars can be loaded here)
  duckdb  the same indicators and labels in hand-written DuckDB SQL, into parquet: the floor

The label values of sail and spark are compared with DuckDB's on a sample of entities; any
difference fails the benchmark (exit 1). `--scaling` adds Sail and DuckDB runs with 20, 200 and
600 labels, and `200same`: 200 labels reading only the indicators of the 20 (`--scaling 20 200`:
those only; CI's smoke test leaves 600 out). `--only ENGINE`
runs one engine (nothing to compare with then).

With `--scaling`, the Sail runs of `--labels` labels and of 20 and 200same labels are each
followed by an ordinary day (`sail-N-day2`): `labelspark run` of the next date on the warehouse
the first day left, so `label_history` is advanced, not loaded. Its changes are the data's own
(the next day's orders, every window a day later): at 20 orders per user ~3% of the values,
the share `history_days.py` changes; the report counts them. The phases of every Sail run are
read from its log, and the history phase of each ordinary day is set against its first load
(the target: at most 20% of it at 200 labels).

`--year` adds a year of history (incremental.py; `--year-only`: that alone): `--users` x
`--orders-per-user` orders over the 365 days before the run date D, one file per day sorted by
time, and `--labels` labels over windows up to 365 days. Sail runs D-1 on an empty warehouse
(`year-first`: the first run, which tiles the year), then, D's orders added, D on that warehouse
(`year-day`: the ordinary day, incremental source passes) and D with `--full` on a copy of it
(`year-full`: the full pass). The two snapshots of D must be equal cell for cell (else exit 1);
the report gives each run's wall time, source passes, peak RSS and the load average.

`--cluster` runs instead labelspark's job and a hand-written PySpark job of the same workload
(the floor of the production path) on the local standalone cluster through spark-submit, and
compares their tables (cluster.py; its own last line).

The last line is
`bench: sail/duckdb=X.XX day2/day1=D.DD labels200same/labels20=Y.YY sail200/sail20=Z.ZZ floor200/floor20=W.WW spark/sail=V.VV load200same/load20=L.LL incremental/full=I.II`
(day2/day1: the whole ordinary day over the first day, `--labels` labels; labels200same/labels20
on the ordinary day, where history is advanced by the day's changes; load200same/load20 the
same on the first day, which loads history whole; floor: DuckDB's own growth from 20 to 200
labels, the indicators growing with them; incremental/full: `--year`'s ordinary day over its
full pass of the same day, whole runs (target: at most 0.25); n/a where a run was left out).
"""
from __future__ import annotations

import argparse
import datetime as dt
import os
import platform
import re
import shutil
import subprocess
import sys
import threading
import time
from dataclasses import dataclass
from pathlib import Path

import duckdb
import psutil
import pyarrow.parquet as pq

sys.path.insert(0, str(Path(__file__).resolve().parent))
import cluster  # noqa: E402
import incremental  # noqa: E402
from synthetic import RUN_DATE, data_set, year_of_history  # noqa: E402
from workload import KEY, duckdb_sql, workload, write_config  # noqa: E402

from labelspark.engine.error_conversion import SAIL_MEMORY  # noqa: E402
from labelspark.warehouse.deltars import read_rows, sql_literal  # noqa: E402

SAIL_ENV = dict(os.environ)
SCALING = ("20", "200", "600", "200same")  # label counts; `same`: over the indicators of the first
ENGINES = ("sail", "duckdb", "spark")
# scaled runs followed by an ordinary day, besides `--labels`: 200same is the ordinary day at 200
# labels (200 over more indicators would add only its source passes' cost, and ~11 s to CI's smoke)
ORDINARY_DAY = ("20", "200same")
NEXT_DATE = RUN_DATE + dt.timedelta(days=1)  # the ordinary day
DAY2 = "-day2"  # the ordinary day's run: its first day's name and this
HISTORY_TARGET = 0.2  # history's phase on an ordinary day at 200 labels, over its first load's


@dataclass
class Timing:
    name: str
    engine: str
    labels: str
    seconds: float
    peak_rss: int  # bytes, summed over the process tree
    log: Path


def main(argv: list[str] | None = None) -> int:
    parser = _parser()
    args = parser.parse_args(argv)
    if (args.year or args.year_only) and args.only not in (None, "sail"):
        parser.error("--year runs Sail: leave --only out or make it sail")
    if args.sail_memory:
        SAIL_ENV[SAIL_MEMORY] = str(args.sail_memory)
    work = Path(args.work_dir).resolve()
    if args.cluster:
        return cluster.run(args, work)
    logs = work / "logs"
    logs.mkdir(parents=True, exist_ok=True)
    timings, differences = [], 0
    if not args.year_only:
        timings, differences = _main_runs(args, work, logs)
    if args.year or args.year_only:
        year_timings, year_differences = _year(args, work)
        timings += year_timings
        differences += year_differences
    print(_bench_line(timings, args.labels), flush=True)
    return 1 if differences else 0


def _main_runs(args, work: Path, logs: Path) -> tuple[list[Timing], int]:
    """The runs of `--labels` labels on each engine, and `--scaling`'s: their timings and the
    sampled label values that differ from DuckDB's."""
    started = time.perf_counter()
    data = data_set(work, args.users, args.orders_per_user, args.seed)
    rows = data.rows()
    input_rows = rows["members"] + rows["orders"]
    print(f"data: {rows['members']:,} member rows, {rows['orders']:,} orders ({time.perf_counter() - started:.1f} s) in {data.directory}", flush=True)

    engines = [args.only] if args.only else [e for e in ENGINES if not (e == "spark" and args.no_spark)]
    timings: list[Timing] = []
    main_run = _prepare(work, data, str(args.labels))
    ordinary_day = args.scaling is not None
    if "sail" in engines:
        timings += _time_sail_days(main_run, logs, ordinary_day)
    if "duckdb" in engines:
        timings.append(_time_duckdb(main_run, logs))
    if "spark" in engines:
        timings.append(_time(f"spark-{args.labels}", "spark", str(args.labels), logs, _labelspark(main_run.config, "--engine", "spark", "--snapshot-to", str(main_run.parquet)), _spark_env(args.spark_driver_memory), main_run.parquet))
    scaling = [] if args.scaling is None else (args.scaling or list(SCALING))
    scaled_runs = [_prepare(work, data, count) for count in scaling]
    for scaled in scaled_runs:
        if "sail" in engines:
            timings += _time_sail_days(scaled, logs, ordinary_day and scaled.labels in ORDINARY_DAY)
        if "duckdb" in engines:
            timings.append(_time_duckdb(scaled, logs))

    differences = 0
    if "duckdb" in engines and len(engines) > 1:
        differences = _compare(main_run, args.sample, engines)
        differences += sum(_compare(scaled, args.sample, ["sail"]) for scaled in scaled_runs if "sail" in engines)
    _report(timings, input_rows, args)
    _report_days(timings, [main_run, *scaled_runs])
    if differences:
        print(f"label values differ from DuckDB's on {differences} sampled entity-labels: see above", file=sys.stderr)
    return timings, differences


def _year(args, work: Path) -> tuple[list[Timing], int]:
    """`--year`: the first run, ordinary day and full pass over a year of history (incremental.py)."""
    started = time.perf_counter()
    year = year_of_history(work, args.users, args.orders_per_user, args.seed)
    rows = year.rows()
    print(f"year data: {rows['members']:,} member rows, {rows['history']:,} orders over {incremental.YEAR_DAYS} days "
          f"+ {rows['new_day']:,} on {RUN_DATE} ({time.perf_counter() - started:.1f} s) in {year.directory}", flush=True)
    runs = incremental.prepare(work, year, args.labels)

    def time_run(name: str, command: list[str]) -> Timing:
        return _time(name, "sail", str(args.labels), runs.logs, command, SAIL_ENV, runs.directory)

    result = incremental.run_year(runs, time_run, _labelspark, Timing, reuse_first=args.year_reuse_first)
    incremental.report(result, year, _phases)
    return result.timings, result.differences


DUCKDB_RUNNER = "import sys, duckdb; con = duckdb.connect(); con.execute('SET enable_progress_bar = false'); con.execute(open(sys.argv[1]).read())"


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--users", type=int, default=1_000_000)
    parser.add_argument("--orders-per-user", type=int, default=20)
    parser.add_argument("--labels", type=int, default=50)
    parser.add_argument("--scaling", nargs="*", choices=SCALING, metavar="LABELS",
                        help=f"also time Sail and DuckDB with {', '.join(SCALING)} labels (or those named), and the next "
                             f"date's run (an ordinary day) after Sail's first day of --labels, {' and '.join(ORDINARY_DAY)} labels")
    parser.add_argument("--only", choices=ENGINES, help="run this engine only (answers are not compared)")
    parser.add_argument("--sample", type=int, default=20_000, help="entities whose labels are compared with DuckDB's")
    parser.add_argument("--seed", type=int, default=42)
    parser.add_argument("--work-dir", default=str(Path(__file__).resolve().parent / ".work"), help="data, configs, outputs and logs")
    parser.add_argument("--spark-driver-memory", default="8g", help="heap of the classic Spark driver (local mode runs in it)")
    parser.add_argument("--no-spark", action="store_true", help="skip the classic Spark run")
    parser.add_argument("--sail-memory", type=_bytes, help="Sail's memory pool, e.g. 2g: beyond it Sail spills (default: labelspark's, a quarter of the machine's memory)")
    parser.add_argument("--year", action="store_true",
                        help=f"also a year of history on Sail (--users x --orders-per-user orders over the 365 days before {RUN_DATE}, "
                             f"--labels labels): the first run ({incremental.FIRST_DATE}), the ordinary day ({RUN_DATE}, incremental "
                             "source passes) and the full pass of that day (run --full), timed, their snapshots compared")
    parser.add_argument("--year-only", action="store_true", help="only --year's runs")
    parser.add_argument("--cluster", action="store_true",
                        help="instead: labelspark and the hand-written Spark job (handwritten_job.py) on the local standalone "
                             "cluster through spark-submit, timed, phases from their event logs, tables compared (cluster.py)")
    parser.add_argument("--executor-memory", default="1g", help="--cluster: each executor's memory (and a started cluster's workers')")
    parser.add_argument("--year-reuse-first", action="store_true",
                        help="--year: start from the warehouse the last first run left (kept for the same data set and config) "
                             "instead of running it again")
    return parser


def _bytes(size: str) -> int:
    units = {"k": 2**10, "m": 2**20, "g": 2**30}
    return int(float(size[:-1]) * units[size[-1].lower()]) if size[-1].lower() in units else int(size)


@dataclass(frozen=True)
class Run:
    labels: str  # the count, with `same` for a workload over the indicators of SCALING[0]
    config: Path
    warehouse: Path
    parquet: Path  # classic Spark's snapshot
    sql: Path
    duckdb_output: Path


def _prepare(work: Path, data, labels: str) -> Run:
    """Config and SQL of `labels` labels (`200same`: over the indicators of SCALING[0]), with empty outputs."""
    directory = work / f"labels-{labels}"
    run = Run(labels, directory / "labelspark.yaml", directory / "warehouse", directory / "spark-snapshot", directory / "labels.sql", directory / "duckdb-labels.parquet")
    count, same = int(labels.removesuffix("same")), labels.endswith("same")
    load = workload(count, data, indicators_of=int(SCALING[0]) if same else None)
    write_config(load, data, directory, run.warehouse)
    run.sql.write_text(duckdb_sql(load, data, run.duckdb_output))
    for output in (run.warehouse, run.parquet):
        shutil.rmtree(output, ignore_errors=True)
    run.duckdb_output.unlink(missing_ok=True)
    print(f"labels-{labels}: {len(load.labels)} labels over {len(load.indicators)} indicators -> {run.config}", flush=True)
    return run


def _labelspark(config: Path, *extra: str, date: dt.date = RUN_DATE) -> list[str]:
    return [sys.executable, "-m", "labelspark", "run", str(config), "--date", date.isoformat(), "--no-publish", *extra]


def _spark_env(driver_memory: str) -> dict:
    return {**os.environ, "PYSPARK_SUBMIT_ARGS": f"--driver-memory {driver_memory} pyspark-shell"}


def _time_sail(run: Run, logs: Path) -> Timing:
    return _time(f"sail-{run.labels}", "sail", run.labels, logs, _labelspark(run.config), SAIL_ENV, run.warehouse)


def _time_sail_days(run: Run, logs: Path, ordinary_day: bool) -> list[Timing]:
    """The first day's Sail run on an empty warehouse, then (with `ordinary_day`) the next date's
    on the warehouse it left."""
    timings = [_time_sail(run, logs)]
    if ordinary_day:
        command = _labelspark(run.config, date=NEXT_DATE)
        timings.append(_time(f"sail-{run.labels}{DAY2}", "sail", run.labels, logs, command, SAIL_ENV, run.warehouse))
    return timings


def _time_duckdb(run: Run, logs: Path) -> Timing:
    return _time(f"duckdb-{run.labels}", "duckdb", run.labels, logs, [sys.executable, "-c", DUCKDB_RUNNER, str(run.sql)], os.environ, run.duckdb_output)


def _time(name: str, engine: str, labels: str, logs: Path, command: list[str], env, output: Path) -> Timing:
    """Runs `command` in a fresh process, timing it and sampling its tree's memory."""
    log = logs / f"{name}.log"
    print(f"{name}: running ...", end=" ", flush=True)
    with log.open("w") as out:
        start = time.perf_counter()
        process = psutil.Popen(command, stdout=out, stderr=subprocess.STDOUT, env=env)
        peak = _PeakMemory(process)
        code = process.wait()
        seconds = time.perf_counter() - start
        peak.stop()
    if code != 0:
        print("failed")
        print(log.read_text()[-4000:], file=sys.stderr)
        raise SystemExit(f"{name} exited {code}: see {log}")
    print(f"{seconds:.1f} s", flush=True)
    return Timing(name, engine, labels, seconds, peak.peak, log)


class _PeakMemory:
    """Samples the resident memory of a process and all its descendants (the JVM of classic
    Spark is a child of its Python driver) every 50 ms."""

    def __init__(self, process: psutil.Process):
        self.process, self.peak, self._done = process, 0, threading.Event()
        self._thread = threading.Thread(target=self._sample, daemon=True)
        self._thread.start()

    def _sample(self) -> None:
        while not self._done.wait(0.05):
            try:
                tree = [self.process, *self.process.children(recursive=True)]
            except psutil.NoSuchProcess:
                return
            total = 0
            for member in tree:
                try:
                    total += member.memory_info().rss
                except psutil.NoSuchProcess:
                    pass
            self.peak = max(self.peak, total)

    def stop(self) -> None:
        self._done.set()
        self._thread.join()


def _compare(run: Run, sample: int, engines: list[str]) -> int:
    """Differences between labelspark's label values and DuckDB's on a sample of entities."""
    con = duckdb.connect()
    con.execute("SET TimeZone = 'UTC'")
    con.execute(f"CREATE VIEW expected AS SELECT * FROM read_parquet('{run.duckdb_output}')")
    entities = con.execute("SELECT count(*) FROM expected").fetchall()[0][0]
    step = max(1, entities // max(1, sample))
    candidates = {}
    if "sail" in engines:
        # the first day's snapshot, whatever days came after it
        snapshot = read_rows(str(run.warehouse / "label_snapshot"), where=f"snapshot_date = {sql_literal(RUN_DATE)}")
        candidates["sail"] = snapshot.drop_columns(["snapshot_date"])
    if "spark" in engines:
        candidates["spark"] = pq.read_table(run.parquet / f"snapshot_date={RUN_DATE.isoformat()}")
    total = 0
    for engine, actual in candidates.items():
        total += _differences(con, f"{engine}-{run.labels}", actual, step)
    return total


def _differences(con, engine: str, actual, step: int, against: str = "duckdb") -> int:
    con.register("actual", actual)
    types = dict(con.execute("SELECT column_name, column_type FROM (DESCRIBE expected)").fetchall())
    labels = [c for c in types if c != KEY]
    checks = []
    for label in labels:
        a, e = f"a.{label}", f"e.{label}"
        if types[label] in ("DOUBLE", "BIGINT", "INTEGER", "HUGEINT") or types[label].startswith("DECIMAL"):
            # exact: the amounts are quarters, whose double sums DuckDB adds without rounding,
            # and labelspark's sums are exact (same bits on every engine)
            same = f"{a} IS NOT DISTINCT FROM {e}"
        else:
            same = f"{a}::VARCHAR IS NOT DISTINCT FROM {e}::VARCHAR"
        checks.append(f"count(*) FILTER (WHERE a.{KEY} IS NOT NULL AND e.{KEY} IS NOT NULL AND NOT ({same})) AS {label}")
    query = f"""
        SELECT count(*) AS compared,
               count(*) FILTER (WHERE a.{KEY} IS NULL) AS missing,
               count(*) FILTER (WHERE e.{KEY} IS NULL) AS extra,
               {', '.join(checks)}
        FROM (SELECT * FROM actual WHERE {KEY} % {step} = 0) a
        FULL OUTER JOIN (SELECT * FROM expected WHERE {KEY} % {step} = 0) e ON a.{KEY} = e.{KEY}"""
    row = dict(zip(["compared", "missing", "extra", *labels], con.execute(query).fetchall()[0]))
    wrong = {label: row[label] for label in labels if row[label]}
    print(f"compare {engine} with {against}: {row['compared']:,} sampled entities x {len(labels)} labels, "
          f"{row['missing']} missing, {row['extra']} extra, {sum(wrong.values())} values differ", flush=True)
    for label, count in sorted(wrong.items()):
        print(f"  {label}: {count} differ", flush=True)
    con.unregister("actual")
    return row["missing"] + row["extra"] + sum(wrong.values())


def _report(timings: list[Timing], input_rows: int, args) -> None:
    memory = psutil.virtual_memory().total / 2**30
    print()
    print(f"machine: {platform.machine()}, {os.cpu_count()} cores, {memory:.0f} GiB; python {platform.python_version()}; "
          f"{args.users:,} users x {args.orders_per_user} orders; run date {RUN_DATE}")
    print(f"{'run':<17} {'engine':<7} {'labels':>7} {'seconds':>8} {'rows/s':>12} {'peak RSS':>10}")
    for t in timings:
        print(f"{t.name:<17} {t.engine:<7} {t.labels:>7} {t.seconds:>8.2f} {input_rows / t.seconds:>12,.0f} {t.peak_rss / 2**20:>7,.0f} MB")
    print()


# The phases of a Sail run, each ending at the first log line matching its pattern after the
# previous one's; the first starts at the run's first line.
PHASES = (
    ("source passes", r"writing label_snapshot partition"),
    ("labels, snapshot", r"label_snapshot \S+: \d+ entities"),
    ("stats, segments", r"(label_stats \S+: \d+ labels|segment_members \S+: \d+ segments)"),  # the last of either
    ("history, catalog", r"label_history and label_catalog advanced to"),
)
LOG_LINE = re.compile(r"^(\d\d):(\d\d):(\d\d)\.(\d{3}) [A-Z]+ (.*)$")


def _phases(log: Path) -> dict[str, float] | None:
    """Wall seconds of each phase of a Sail run, from its log's timestamps; None where a phase
    cannot be told (the log's lines changed)."""
    moments: list[tuple[float, str]] = []
    for line in log.read_text().splitlines():
        match = LOG_LINE.match(line)
        if match:
            hours, minutes, seconds, millis, message = match.groups()
            moment = int(hours) * 3600 + int(minutes) * 60 + int(seconds) + int(millis) / 1000
            if moments and moment < moments[-1][0]:  # past midnight
                moment += 86_400
            moments.append((moment, message))
    if not moments:
        return None
    phases, start, at = {}, moments[0][0], 0
    for name, pattern in PHASES:
        ends = [i for i in range(at, len(moments)) if re.search(pattern, moments[i][1])]
        if name == "stats, segments":  # the segments' line, where there is one, follows the stats'
            ends = ends[:2] if len(ends) > 1 and "segment_members" in moments[ends[1]][1] else ends[:1]
        if not ends:
            return None
        at = ends[-1]
        phases[name], start = moments[at][0] - start, moments[at][0]
    return phases


def _history_changes(warehouse: Path, day: dt.date) -> tuple[int, int, int]:
    """(versions opened on `day`, versions closed on it, current versions the day before) of the
    warehouse's label_history, read with delta-rs (which reads deletion vectors)."""
    path, on = str(warehouse / "label_history"), sql_literal(day)
    opened = read_rows(path, ["is_current"], where=f"valid_from = {on}").num_rows
    closed = read_rows(path, ["is_current"], where=f"valid_to = {on}").num_rows
    current = read_rows(path, ["is_current"], where="is_current").num_rows
    return opened, closed, current - opened + closed


def _report_days(timings: list[Timing], runs: list[Run]) -> None:
    """The phases of every Sail run, and each ordinary day's history phase and changes against
    its first day's."""
    sail = [t for t in timings if t.engine == "sail"]
    if not sail:
        return
    phases = {t.name: _phases(t.log) for t in sail}
    print("phases of the Sail runs (wall seconds, from their logs; start-up and the end not listed):")
    print(f"{'run':<17} " + " ".join(f"{name:>16}" for name, _ in PHASES))
    for t in sail:
        known = phases[t.name]
        print(f"{t.name:<17} " + (" ".join(f"{known[name]:>16.2f}" for name, _ in PHASES) if known else "(phases not found in the log)"))
    warehouses = {run.labels: run.warehouse for run in runs}
    days = [t for t in sail if t.name.endswith(DAY2)]
    if days:
        print()
        print(f"ordinary day ({NEXT_DATE}) against the first ({RUN_DATE}): the whole run, label_history's phase (with label_catalog), what changed")
    for t in days:
        first = t.name.removesuffix(DAY2)
        whole = _ratio(timings, t.name, first)
        history = "n/a"
        if phases.get(first) and phases[t.name]:
            h1, h2 = phases[first]["history, catalog"], phases[t.name]["history, catalog"]
            history = f"{h2:.2f} s / {h1:.2f} s = {h2 / h1:.2f}" + (f" (target <= {HISTORY_TARGET:.2f})" if t.labels.startswith("200") else "")
        opened, closed, before = _history_changes(warehouses[t.labels], NEXT_DATE)
        share = f"{opened / before:.1%}" if before else "n/a"
        print(f"{t.name:<17} run {whole}, history {history}; {opened:,} versions opened, {closed:,} closed ({share} of {before:,} values)")
    print()


def _ratio(timings: list[Timing], top: str, bottom: str) -> str:
    seconds = {t.name: t.seconds for t in timings}
    return f"{seconds[top] / seconds[bottom]:.2f}" if top in seconds and bottom in seconds else "n/a"


def _bench_line(timings: list[Timing], labels: int) -> str:
    return (
        f"bench: sail/duckdb={_ratio(timings, f'sail-{labels}', f'duckdb-{labels}')} "
        f"day2/day1={_ratio(timings, f'sail-{labels}{DAY2}', f'sail-{labels}')} "
        f"labels200same/labels20={_ratio(timings, f'sail-200same{DAY2}', f'sail-20{DAY2}')} "
        f"sail200/sail20={_ratio(timings, 'sail-200', 'sail-20')} "
        f"floor200/floor20={_ratio(timings, 'duckdb-200', 'duckdb-20')} "
        f"spark/sail={_ratio(timings, f'spark-{labels}', f'sail-{labels}')} "
        f"load200same/load20={_ratio(timings, 'sail-200same', 'sail-20')} "
        f"incremental/full={_ratio(timings, incremental.DAY, incremental.FULL)}"
    )


if __name__ == "__main__":
    sys.exit(main())
