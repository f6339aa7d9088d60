"""`bench.py --year`: a year of history, and an ordinary day of incremental source passes set
against the full pass of the same day (issue 29).

The data (`synthetic.year_of_history`): `--users` x `--orders-per-user` orders spread uniformly
over the 365 days before the run date D (RUN_DATE), one parquet file per day sorted by time,
and D's own orders (1/365 of the rows again, 2% of them timed on D-1 and D-2: late rows inside
the default lookback of 3 days) in a file of their own, added only after the first run. The
workload is `--labels` labels over windows of 7 to 365 days, as the rest of the bench; the
orders source has `incremental: true` and `tiles_from_rows: 0` (tiles at any scale), its lookback the
default (3d).

Three Sail runs of `labelspark run --no-publish`, each in a fresh process, timed whole and
(from its log) its source passes, its tree's peak resident memory sampled:

  year-first  D-1 on an empty warehouse: the first run, which tiles every day of the year
  year-day    D on that warehouse, D's file added: the ordinary day (tiles present: it reads the
              last `lookback` days' rows, rebuilds their tiles and merges tiles for the windows)
  year-full   D with `--full` on a copy of the warehouse taken after year-first: the full pass,
              every window's rows read again (the reference; tiles untouched)

Then the two snapshots of D (read with delta-rs, as labelspark reads its tables) must be equal,
row for row and cell for cell (doubles bit for bit), or the benchmark fails. The ratio
`incremental/full` is year-day's wall time over year-full's (issue 29's target: at most 0.25, and
year-day's peak memory no higher than year-full's).

Until `labelspark run` has `--full`, year-full is a plain run of the copy (said in the report).

The mode works in `year-u<users>-o<orders>-s<seed>-labels-<N>/` of the work directory (configs,
sources, warehouses, the runs' logs), one per data set and workload, so benches of other scales
in one work directory leave it alone. The warehouse as year-first left it is kept (the same
name with `-first`, with that run's figures and log): `--year-reuse-first` starts the next bench from it, for the
same data set and config, instead of running year-first again (its figures are then the kept
ones, marked so), to time the ordinary day and the full pass again on a quieter machine.
"""
from __future__ import annotations

import dataclasses
import datetime as dt
import json
import math
import os
import re
import shutil
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Callable

import pyarrow as pa
import yaml

from synthetic import RUN_DATE, YEAR_DAYS, DataSet, YearOfHistory
from workload import KEY, workload, write_config

from labelspark.warehouse.deltars import read_rows, sql_literal

FIRST_DATE = RUN_DATE - dt.timedelta(days=1)  # the first run's date: the history's last day
FIRST, DAY, FULL = "year-first", "year-day", "year-full"  # the runs' names (and their logs')
RATIO_TARGET = 0.25  # the ordinary day's wall time over the full pass's, at most
SOURCE_PHASE = "source passes"  # bench.PHASES' first phase
SOURCE_LINE = re.compile(r"INFO (source \S+: (?:tiling|full pass|\d+ indicators merged|tiles made).*)$")


@dataclass(frozen=True)
class YearRuns:
    directory: Path
    data: DataSet  # what the configs read: links to the year's files, D's added for the day
    year: YearOfHistory
    config: Path  # first run and ordinary day
    warehouse: Path
    full_config: Path  # the full pass, on a copy of the warehouse the first run left
    full_warehouse: Path
    first: Path  # the warehouse as the first run left it, its figures (first.json) and log kept

    @property
    def logs(self) -> Path:
        return self.directory / "logs"

    @property
    def first_record(self) -> Path:
        return self.first / "first.json"


@dataclass
class YearResult:
    timings: list  # bench.Timing of FIRST, DAY, FULL
    loads: dict[str, tuple[float, float]]  # run -> 1-minute load average before, after
    differences: int  # cells (or whole-table mismatches) where the ordinary day's snapshot differs from the full pass's
    full_flag: bool  # whether year-full ran with --full
    first_reused: bool = False  # year-first's figures are those kept from an earlier bench


def prepare(work: Path, year: YearOfHistory, labels: int) -> YearRuns:
    """A fresh directory of the mode: the year's files linked where the configs read them
    (members, VIP file, the history's days; D's file comes later), the configs of both
    warehouses."""
    directory = work / f"year-u{year.users}-o{year.orders_per_user}-s{year.seed}-labels-{labels}"
    shutil.rmtree(directory, ignore_errors=True)
    data = DataSet(directory / "sources", year.users, year.orders_per_user, year.seed)
    data.members.mkdir(parents=True)
    (directory / "logs").mkdir()
    data.orders.mkdir()
    for file in sorted(year.members.glob("*.parquet")):
        _link(file, data.members / file.name)
    for file in sorted(year.history.glob("*.parquet")):
        _link(file, data.orders / file.name)
    _link(year.vip, data.vip)
    load = workload(labels, data)
    runs = YearRuns(directory, data, year, directory / "labelspark.yaml", directory / "warehouse",
                    directory / "full" / "labelspark.yaml", directory / "full" / "warehouse", directory.with_name(directory.name + "-first"))
    for config, warehouse in ((runs.config, runs.warehouse), (runs.full_config, runs.full_warehouse)):
        write_config(load, data, config.parent, warehouse)
        # incremental (off by default), tiles from the first row at any scale (CI's smoke test has
        # 10^4 orders; the default keeps a source below 10^6 rows on the full pass); lookback as default
        text = yaml.safe_load(config.read_text())
        text["sources"]["orders"]["incremental"] = True
        text["sources"]["orders"]["tiles_from_rows"] = 0
        config.write_text(yaml.safe_dump(text, sort_keys=False, allow_unicode=True, width=200))
    print(f"{directory.name}: {len(load.labels)} labels over {len(load.indicators)} indicators -> {runs.config}", flush=True)
    return runs


def _link(source: Path, target: Path) -> None:
    """A hard link (no copy of the data; the engines read it as a plain file), else a copy."""
    try:
        os.link(source, target)
    except OSError:
        shutil.copy2(source, target)


def add_new_day(runs: YearRuns) -> None:
    for file in sorted(runs.year.new_day.glob("*.parquet")):
        _link(file, runs.data.orders / file.name)


def has_full_flag() -> bool:
    """Whether this labelspark's `run` takes `--full` (issue 29)."""
    help_text = subprocess.run([sys.executable, "-m", "labelspark", "run", "--help"], capture_output=True, text=True).stdout
    return "--full" in help_text


def run_year(runs: YearRuns, time_run: Callable[[str, list[str]], object], command: Callable[..., list[str]],
             timing: Callable[..., object], reuse_first: bool = False) -> YearResult:
    """The first run (D-1), the ordinary day (D) and the full pass (D, on the warehouse's copy),
    then the comparison of both snapshots of D. `time_run(name, argv)` times a command and
    returns a bench.Timing; `command(config, *extra, date=)` is the `labelspark run` argv;
    `timing(**fields)` makes a bench.Timing (a kept first run's); `reuse_first`: start from the
    kept first run where it was made of this data set and config."""
    timings, loads = [], {}

    def timed(name: str, argv: list[str]) -> None:
        before = os.getloadavg()[0]
        timings.append(time_run(name, argv))
        loads[name] = (before, os.getloadavg()[0])

    kept = _kept_first(runs) if reuse_first else None
    if kept is not None:
        shutil.copytree(runs.first / "warehouse", runs.warehouse)
        timings.append(timing(**{**kept["timing"], "log": runs.first / "year-first.log"}))
        loads[FIRST] = tuple(kept["load"])
        print(f"{FIRST}: reused, the warehouse kept in {runs.first} ({kept['timing']['seconds']:.1f} s when it ran)", flush=True)
    else:
        if reuse_first:
            print(f"{FIRST}: nothing kept for this data set and config in {runs.first}: running it", flush=True)
        timed(FIRST, command(runs.config, date=FIRST_DATE))
        _keep_first(runs, timings[-1], loads[FIRST])
    tables = sorted(p.name for p in runs.warehouse.iterdir() if p.is_dir())
    print(f"{FIRST}: warehouse tables {', '.join(tables)}", flush=True)
    shutil.copytree(runs.warehouse, runs.full_warehouse)
    add_new_day(runs)
    timed(DAY, command(runs.config, date=RUN_DATE))
    full_flag = has_full_flag()
    if not full_flag:
        print(f"{FULL}: this labelspark's run has no --full: a plain run of the copy (the same as {DAY}'s once tiles exist)", flush=True)
    timed(FULL, command(runs.full_config, *(["--full"] if full_flag else []), date=RUN_DATE))
    differences = snapshot_differences(runs.warehouse, runs.full_warehouse, RUN_DATE)
    return YearResult(timings, loads, differences, full_flag, first_reused=kept is not None)


def _made_of(runs: YearRuns) -> dict:
    """What a kept first run must have been made of to be reused: the data set, the config's text."""
    return {"data": str(runs.year.directory), "config": runs.config.read_text()}


def _keep_first(runs: YearRuns, first, load: tuple[float, float]) -> None:
    shutil.rmtree(runs.first, ignore_errors=True)
    shutil.copytree(runs.warehouse, runs.first / "warehouse")
    shutil.copy2(first.log, runs.first / "year-first.log")
    fields = {k: (str(v) if isinstance(v, Path) else v) for k, v in dataclasses.asdict(first).items()}
    runs.first_record.write_text(json.dumps({"made_of": _made_of(runs), "timing": fields, "load": list(load)}, indent=2))


def _kept_first(runs: YearRuns) -> dict | None:
    if not runs.first_record.exists():
        return None
    kept = json.loads(runs.first_record.read_text())
    return kept if kept["made_of"] == _made_of(runs) else None


def snapshot_differences(ordinary: Path, full: Path, day: dt.date) -> int:
    """Where the ordinary day's snapshot of `day` differs from the full pass's: both read with
    delta-rs, sorted by the entity key (unique in a snapshot), compared column by column
    (floating point bit for bit, NaN included). Prints what differs; returns how many cells (a
    mismatch of rows, columns or types counts 1)."""
    where = f"snapshot_date = {sql_literal(day)}"
    left = read_rows(str(ordinary / "label_snapshot"), where=where)
    right = read_rows(str(full / "label_snapshot"), where=where)
    problems: list[str] = []
    if left.num_rows == 0:
        problems.append(f"the ordinary day's snapshot has no rows for {day}")
    if left.num_rows != right.num_rows:
        problems.append(f"rows: ordinary day {left.num_rows:,}, full pass {right.num_rows:,}")
    if sorted(left.column_names) != sorted(right.column_names):
        problems.append(f"columns: only the ordinary day's {sorted(set(left.column_names) - set(right.column_names))}, "
                        f"only the full pass's {sorted(set(right.column_names) - set(left.column_names))}")
    cells = 0
    if not problems:
        right = right.select(left.column_names)
        left, right = left.sort_by(KEY), right.sort_by(KEY)
        if len(left[KEY].unique()) != left.num_rows:
            problems.append(f"{KEY} is not unique in the ordinary day's snapshot")
        for name in left.column_names:
            a, b = left[name].combine_chunks(), right[name].combine_chunks()
            if a.type != b.type:
                problems.append(f"{name}: type {a.type} (ordinary day) vs {b.type} (full pass)")
                continue
            if _equal(a, b):
                continue
            x, y, keys = a.to_pylist(), b.to_pylist(), left[KEY].to_pylist()
            wrong = [i for i in range(len(x)) if not _same(x[i], y[i])]
            cells += len(wrong)
            shown = ", ".join(f"{KEY}={keys[i]}: {x[i]!r} vs {y[i]!r}" for i in wrong[:3])
            problems.append(f"{name}: {len(wrong):,} values differ ({shown})")
    if problems:
        print(f"incremental != full on {day}: the ordinary day's snapshot differs from the full pass's:", file=sys.stderr, flush=True)
        for problem in problems:
            print(f"  {problem}", file=sys.stderr, flush=True)
        return max(cells, 1)
    print(f"incremental == full on {day}: {left.num_rows:,} rows x {left.num_columns} columns equal cell for cell", flush=True)
    return 0


def _equal(a: pa.Array, b: pa.Array) -> bool:
    if pa.types.is_floating(a.type):  # bit for bit: -0.0 is not 0.0, NaN is NaN
        width = {16: pa.int16(), 32: pa.int32(), 64: pa.int64()}[a.type.bit_width]
        return a.view(width).equals(b.view(width))
    return a.equals(b)


def _same(x, y) -> bool:
    if isinstance(x, float) and isinstance(y, float):
        return math.copysign(1, x) == math.copysign(1, y) and (x == y or (math.isnan(x) and math.isnan(y)))
    return x == y


def report(result: YearResult, year: YearOfHistory, phases: Callable[[Path], dict | None]) -> None:
    """The three runs (wall seconds, source passes, peak RSS, load) and the ratios."""
    rows = year.rows()
    by_name = {t.name: t for t in result.timings}
    print()
    print(f"year of history: {year.users:,} users x {year.orders_per_user} orders over the {YEAR_DAYS} days to {FIRST_DATE} "
          f"({rows['history']:,} rows); {RUN_DATE} adds {rows['new_day']:,} ({rows['new_day_late']:,} of them late, timed on the two days before)")
    print(f"{'run':<11} {'date':<10} {'seconds':>8} {'source passes':>14} {'peak RSS':>10}  load before/after")
    source = {}
    first = "first run: tiles every day" + (", kept from an earlier bench" if result.first_reused else "")
    for name, date, what in ((FIRST, FIRST_DATE, first), (DAY, RUN_DATE, "ordinary day"),
                             (FULL, RUN_DATE, "full pass" + ("" if result.full_flag else ", no --full: a plain run"))):
        t = by_name[name]
        known = phases(t.log)
        source[name] = known[SOURCE_PHASE] if known else None
        passes = f"{source[name]:>14.2f}" if source[name] is not None else f"{'n/a':>14}"
        before, after = result.loads[name]
        print(f"{name:<11} {date.isoformat():<10} {t.seconds:>8.2f} {passes} {t.peak_rss / 2**20:>7,.0f} MB  {before:.2f} / {after:.2f}  ({what})")
    for name in (FIRST, DAY):  # what each source did: tiled days, blocks merged, or the full pass and why
        said = [m.group(1) for m in map(SOURCE_LINE.search, by_name[name].log.read_text().splitlines()) if m]
        print(f"{name}: " + "; ".join(said))
    day, full = by_name[DAY], by_name[FULL]
    passes = f"{source[DAY] / source[FULL]:.2f}" if source[DAY] and source[FULL] else "n/a"
    print(f"ordinary day / full pass: whole run {day.seconds / full.seconds:.2f} (target <= {RATIO_TARGET:.2f}), "
          f"source passes {passes}, peak RSS {day.peak_rss / full.peak_rss:.2f} (target <= 1.00)")
    print()
