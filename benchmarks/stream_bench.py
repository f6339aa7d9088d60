"""`labelspark stream`'s latency benchmark (issue 31): order rows committed to a Delta source at a
steady rate over a large population, and the seconds from a row's commit to its document updated.

    python benchmarks/stream_bench.py [--entities 1000000] [--rows-per-second 1000] [--minutes 5]
                                      [--orders-per-entity 5] [--work-dir DIR]

The project is tests/support/streaming.py's (three real-time labels and one nightly label; orders
a Delta table marked `stream: true`) over --entities members with --orders-per-entity orders
each in the 30 days before today (UTC). That history is generated once per size and day and
reused; each run works on a fresh copy of the orders, a warehouse and an alias of its own (the
alias's indices deleted at the end), on an Elasticsearch node of its own that
`scripts/search-node.sh` starts in the work directory on --search-port and stops at the end: the
tests wipe and stop the default node, which other work on this machine shares.

The nightly run of yesterday makes the snapshot and the index; then `labelspark stream` runs as a
child process while this one appends, once a second, --rows-per-second rows timed now in one
delta-rs commit, as an application would. Each commit holds one probe: the only order of an
entity `probe-<run>-<n>`, whose document therefore shows orders_today == 1 once the stream has
handled that commit. A poller reads the pending probes' documents every 100 ms (one _mget, what
GET /<alias>/_doc/<id> reads, for all of them). A probe never seen fails the benchmark (exit 1).
"""
from __future__ import annotations

import argparse
import datetime as dt
import os
import re
import shutil
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq
import requests
from deltalake import write_deltalake

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))  # run as a script: the tests' project is this benchmark's
from tests.support.streaming import CONFIG  # noqa: E402

PYTHON = str(ROOT / ".venv" / "bin" / "python") if (ROOT / ".venv" / "bin" / "python").exists() else sys.executable
HISTORY_DAYS = 30
HISTORY_FILES = 4  # delta-rs commits of the history, a file or more each, and a last one of one entity's orders
CITIES = np.array(["Shanghai", "Beijing", "Hangzhou", "Chengdu", "Wuhan"])
CHANNELS = np.array(["app", "web", "store", "mini_program"])
MEMBERS = pa.schema([("member_id", pa.string()), ("updated_at", pa.timestamp("us", tz="UTC")), ("city", pa.string())])
ORDERS = pa.schema([("member_id", pa.string()), ("order_time", pa.timestamp("us", tz="UTC")),
                    ("amount", pa.float64()), ("channel", pa.string())])
PROBE_WAIT_SECONDS = 120  # for the probes still pending once the appends are over
READY = re.compile(r"stream [0-9a-f-]+: \d+ real-time labels")
BATCH_DONE = re.compile(r"batch \d+: \d+ entities, \d+ changes, \d+ documents in ([\d.]+)s")
BATCH_ROWS = re.compile(r"batch \d+: (\d+) new rows")


def member_ids(numbers: np.ndarray, entities: int) -> list[str]:
    width = len(str(entities - 1))
    return [f"m{n:0{width}d}" for n in numbers]


def orders_table(ids: list[str], micros: np.ndarray, amounts: np.ndarray, channels: np.ndarray) -> pa.Table:
    times = pa.array(micros, pa.int64()).cast(pa.timestamp("us", tz="UTC"))
    return pa.Table.from_arrays([pa.array(ids, pa.string()), times, pa.array(amounts, pa.float64()),
                                 pa.array(channels, pa.string())], schema=ORDERS)


def generate_history(base: Path, entities: int, orders_per_entity: int, today: dt.date) -> None:
    """Members (parquet) and their orders of the 30 days before `today` (Delta), unless already there."""
    if (base / "complete").exists():
        return
    shutil.rmtree(base, ignore_errors=True)
    rng = np.random.default_rng(31)
    start = int(dt.datetime.combine(today - dt.timedelta(days=HISTORY_DAYS), dt.time(), dt.timezone.utc).timestamp() * 10**6)
    (base / "members").mkdir(parents=True)
    everyone = member_ids(np.arange(entities), entities)
    updated = pa.array(np.full(entities, start), pa.int64()).cast(MEMBERS.field("updated_at").type)
    pq.write_table(pa.Table.from_arrays([pa.array(everyone, pa.string()), updated, pa.array(rng.choice(CITIES, entities))],
                                        schema=MEMBERS), base / "members" / "part-0.parquet")
    # the last commit small, as in a table appended all day: the stream reads its start version's rows again
    for chunk in [*np.array_split(np.arange(entities - 1), HISTORY_FILES), np.array([entities - 1])]:
        numbers = np.repeat(chunk, orders_per_entity)
        micros = start + rng.integers(0, HISTORY_DAYS * 86_400 * 10**6, len(numbers))
        write_deltalake(str(base / "orders"), orders_table([everyone[n] for n in numbers], micros,
                                                           rng.uniform(1, 200, len(numbers)).round(2),
                                                           rng.choice(CHANNELS, len(numbers))), mode="append")
    (base / "complete").write_text(f"{entities} entities x {orders_per_entity} orders before {today}\n")


def search_node(command: str, work: Path, port: int) -> str:
    """`search-node.sh start|stop elasticsearch` for the benchmark's own node (see above)."""
    environment = {**os.environ, "LABELSPARK_SEARCH_DIR": str(work / "search"), "SEARCH_NODE_PORT": str(port)}
    done = subprocess.run([str(ROOT / "scripts" / "search-node.sh"), command, "elasticsearch"], capture_output=True, text=True,
                          env=environment)
    if done.returncode:
        sys.exit(f"search-node.sh {command} failed ({done.returncode}): {done.stderr.strip()}")
    return done.stdout.strip()


def delete_indices(url: str, alias: str) -> None:
    """This run's indices (`<alias>-<date>-<run>`), by name: a node's wildcard deletes may be refused."""
    try:
        found = requests.get(f"{url}/_cat/indices/{alias}-*", params={"format": "json", "h": "index"}, timeout=30)
        names = [row["index"] for row in found.json()] if found.ok else []
        if names:
            requests.delete(f"{url}/{','.join(names)}", timeout=60).raise_for_status()
    except requests.RequestException as exc:
        print(f"could not delete the indices of {alias}: {exc}", file=sys.stderr)


class ProbePoller(threading.Thread):
    """Seconds from each probe's commit to the first read of its document with orders_today == 1."""

    def __init__(self, url: str, alias: str):
        super().__init__(daemon=True)
        self.url, self.alias = url, alias
        self.pending: dict[str, float] = {}  # probe id: wall time its commit returned
        self.latencies: dict[str, float] = {}
        self.errors = 0
        self.lock, self.done = threading.Lock(), threading.Event()

    def add(self, probe: str, committed: float) -> None:
        with self.lock:
            self.pending[probe] = committed

    def run(self) -> None:
        session = requests.Session()
        while not self.done.is_set():
            with self.lock:
                ids = list(self.pending)
            if ids:
                try:
                    answer = session.post(f"{self.url}/{self.alias}/_mget", json={"ids": ids}, timeout=5)
                    seen = time.time()
                    answer.raise_for_status()
                    with self.lock:
                        for doc in answer.json()["docs"]:
                            if doc.get("found") and doc["_source"].get("orders_today") == 1:
                                self.latencies[doc["_id"]] = seen - self.pending.pop(doc["_id"])
                except (requests.RequestException, KeyError, ValueError):
                    self.errors += 1
            time.sleep(0.1)

    def wait_for_pending(self, timeout: float) -> None:
        deadline = time.monotonic() + timeout
        while self.pending and time.monotonic() < deadline:
            time.sleep(0.2)


def start_stream(config: Path, log: Path) -> subprocess.Popen:
    """`labelspark stream` as a child in its own session (its JVM with it), once its query runs; our
    environment less the Spark Connect flags with which a classic session is refused."""
    environment = {k: v for k, v in os.environ.items() if k not in ("SPARK_REMOTE", "SPARK_CONNECT_MODE_ENABLED")}
    with open(log, "ab") as out:
        stream = subprocess.Popen([PYTHON, "-m", "labelspark", "stream", str(config), "--trigger-seconds", "0.5"],
                                  stdout=out, stderr=subprocess.STDOUT, env={**environment, "PYSPARK_PYTHON": PYTHON}, cwd=config.parent,
                                  start_new_session=True)
    deadline = time.monotonic() + 300
    while not READY.search(log.read_text(errors="replace")):
        if stream.poll() is not None or time.monotonic() > deadline:
            stop_stream(stream)
            sys.exit(f"the stream did not start (exit {stream.poll()}):\n{log.read_text(errors='replace')[-3000:]}")
        time.sleep(0.2)
    return stream


def stop_stream(stream: subprocess.Popen) -> int | None:
    """SIGTERM (the stream ends between batches), SIGKILL to its group if it does not within 120 s."""
    if stream.poll() is None:
        stream.send_signal(signal.SIGTERM)
        try:
            return stream.wait(120)
        except subprocess.TimeoutExpired:
            os.killpg(stream.pid, signal.SIGKILL)
            stream.wait(30)
            return None
    return stream.returncode


def append_rows(orders: Path, args: argparse.Namespace, run: str, poller: ProbePoller) -> tuple[int, int, int, float]:
    """One commit a second of --rows-per-second rows (a probe among them) for --minutes; a
    commit that overran its second is followed at once by the next, the missed seconds skipped.
    Returns (rows, commits, late commits, seconds)."""
    rng = np.random.default_rng()
    rows = commits = late = 0
    began = tick = time.time()
    end = began + 60 * args.minutes
    while tick < end:
        time.sleep(max(0.0, tick - time.time()))
        started = time.time()
        count = args.rows_per_second - 1
        probe = f"probe-{run}-{commits}"
        ids = member_ids(rng.integers(0, args.entities, count), args.entities) + [probe]
        now = int(started * 10**6)
        amounts = np.append(rng.uniform(1, 200, count).round(2), 10.0)
        write_deltalake(str(orders), orders_table(ids, np.full(count + 1, now), amounts,
                                                  np.append(rng.choice(CHANNELS, count), "app")), mode="append")
        committed = time.time()
        poller.add(probe, committed)
        rows, commits, late = rows + count + 1, commits + 1, late + (committed - started > 1.0)
        tick = max(tick + 1.0, committed)
    return rows, commits, late, max(60.0 * args.minutes, time.time() - began)


def batches(log: Path) -> tuple[int, float, float]:
    """(batches, mean seconds, mean new rows) from the stream's log."""
    text = log.read_text(errors="replace")
    seconds = [float(s) for s in BATCH_DONE.findall(text)]
    rows = [int(r) for r in BATCH_ROWS.findall(text)]
    return len(seconds), float(np.mean(seconds)) if seconds else 0.0, float(np.mean(rows)) if rows else 0.0


def load() -> str:
    return "load average " + ", ".join(f"{x:.2f}" for x in os.getloadavg())


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--entities", type=int, default=1_000_000)
    parser.add_argument("--rows-per-second", type=int, default=1000)
    parser.add_argument("--minutes", type=float, default=5)
    parser.add_argument("--orders-per-entity", type=int, default=5, help="history: orders per entity in the 30 days before today")
    parser.add_argument("--work-dir", type=Path, default=ROOT / "benchmarks" / ".work" / "stream")
    parser.add_argument("--search-port", type=int, default=9262, help="the HTTP port of the benchmark's own Elasticsearch node")
    args = parser.parse_args(argv)
    today = dt.datetime.now(dt.timezone.utc).date()
    work = args.work_dir.resolve()
    base = work / f"base-e{args.entities}-o{args.orders_per_entity}-{today:%Y%m%d}"
    for stale in work.glob(f"base-e{args.entities}-o{args.orders_per_entity}-*"):
        if stale != base:
            shutil.rmtree(stale)
    print(f"{load()}; history {args.entities} entities x {args.orders_per_entity} orders in {base}", flush=True)
    started = time.monotonic()
    generate_history(base, args.entities, args.orders_per_entity, today)
    print(f"history ready in {time.monotonic() - started:.1f}s", flush=True)

    run = dt.datetime.now(dt.timezone.utc).strftime("%Y%m%d%H%M%S")
    alias, url = f"bench_live_{run}", search_node("start", work, args.search_port).splitlines()[-1]
    project = work / "run"  # this run's config, orders, warehouse and logs (the last run's left for reading)
    shutil.rmtree(project, ignore_errors=True)
    shutil.copytree(base / "orders", project / "data" / "orders")
    config = project / "labelspark.yaml"
    config.write_text(CONFIG.format(members=base / "members", url=url, alias=alias))
    stream = poller = None
    try:
        started = time.monotonic()
        with open(project / "nightly.log", "wb") as out:
            nightly = subprocess.run([PYTHON, "-m", "labelspark", "run", str(config), "--date", str(today - dt.timedelta(days=1))],
                                     stdout=out, stderr=subprocess.STDOUT, cwd=project)
        if nightly.returncode:
            print((project / "nightly.log").read_text(errors="replace")[-3000:], file=sys.stderr)
            return 1
        print(f"nightly run of {today - dt.timedelta(days=1)} (sail, publish to {alias}): {time.monotonic() - started:.1f}s; {load()}", flush=True)

        started = time.monotonic()
        stream = start_stream(config, project / "stream.log")
        print(f"stream ready in {time.monotonic() - started:.1f}s", flush=True)
        poller = ProbePoller(url, alias)
        poller.start()
        rows, commits, late, seconds = append_rows(project / "data" / "orders", args, run, poller)
        appended_load = load()
        print(f"appended {rows} rows in {commits} commits ({late} over 1s) in {seconds:.1f}s; {appended_load}", flush=True)
        poller.wait_for_pending(PROBE_WAIT_SECONDS)
        exit_code = stop_stream(stream)
    finally:
        if poller is not None:
            poller.done.set()
        if stream is not None:
            stop_stream(stream)
        delete_indices(url, alias)
        search_node("stop", work, args.search_port)

    latencies = np.array(sorted(poller.latencies.values()))
    lost = len(poller.pending)
    p50, p95, worst = (f"{x:.1f}s" for x in np.percentile(latencies, [50, 95, 100])) if len(latencies) else ("none",) * 3
    count, mean_seconds, mean_rows = batches(project / "stream.log")
    print(f"achieved {rows / seconds:.0f} rows/s (target {args.rows_per_second}) over {args.entities} entities")
    print(f"probes: {len(latencies)} measured, {lost} lost; poll errors {poller.errors}")
    print(f"commit to document: p50 {p50}, p95 {p95}, max {worst}")
    print(f"stream: {count} batches, mean {mean_seconds:.1f}s, mean {mean_rows:.0f} new rows; exit {exit_code} (expected 143)")
    print(f"while appending: {appended_load}; at the end: {load()}")
    print(f"stream: p50={p50} p95={p95} rows_per_second={rows / seconds:.0f}")
    if lost or not len(latencies):
        print(f"FAILED: {lost} probes never seen", file=sys.stderr)
        return 1
    if exit_code != 143:
        print(f"FAILED: the stream exited {exit_code}, not 143", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
