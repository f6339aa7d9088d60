"""A small project whose orders arrive as a Delta table all day, for `labelspark stream`.

Members are parquet (read whole, never streamed); orders a Delta table marked `stream: true`,
appended with delta-rs as an application would. Three labels are real-time, one is not. The
stream runs as a child process on classic Spark, the way `labelspark stream` runs for users;
the test process reads what it made over HTTP and with delta-rs.
"""
from __future__ import annotations

import datetime as dt
import os
import re
import signal
import subprocess
import sys
import time
from pathlib import Path

import pyarrow as pa
from deltalake import write_deltalake

from tests.support.projects import write_parquet
from tests.support.spark_lines import classic_environment

ROOT = Path(__file__).resolve().parents[2]
MEMBERS = [f"m{n:02d}" for n in range(1, 31)]
WEEK_BUYERS = [m for n, m in enumerate(MEMBERS) if n % 4]  # those with orders in the week before today
CONFIG = """\
version: 1
name: live
timezone: UTC
entity: {{key: member_id}}
sources:
  members: {{format: parquet, path: "{members}", key: member_id, time: updated_at}}
  orders:
    format: delta
    path: data/orders
    key: member_id
    time: order_time
    stream: true
    clean: {{filter: "amount > 0"}}
indicators:
  city:       {{source: members, column: city}}
  orders_1d:  {{source: orders, agg: count, window: 1d}}
  spend_7d:   {{source: orders, agg: sum, of: amount, window: 7d}}
  last_order: {{source: orders, agg: max, of: order_time}}
  channels:   {{source: orders, agg: collect_set, of: channel}}
labels:
  - {{id: orders_today, type: number, method: metric, indicator: orders_1d, realtime: true}}
  - id: spender
    type: string
    method: rules
    realtime: true
    values:
      - {{value: big, when: {{field: spend_7d, op: gte, value: 100}}}}
      - {{value: small, when: {{field: spend_7d, op: gt, value: 0}}}}
  - {{id: channels_used, type: list, method: preference, indicator: channels, realtime: true}}
  - id: city_tier
    type: string
    method: rules
    values:
      - {{value: tier1, when: {{field: city, op: in, value: [Shanghai, Beijing]}}}}
outputs:
  warehouse: warehouse
  elasticsearch: {{nodes: "{url}", alias: {alias}, writer: python}}
"""
ORDERS = pa.schema([("member_id", pa.string()), ("order_time", pa.timestamp("us", tz="UTC")),
                    ("amount", pa.float64()), ("channel", pa.string())])


def write_project(directory: Path, url: str, today: dt.date) -> Path:
    """The config, members and the orders of the week before `today`."""
    members = pa.schema([("member_id", pa.string()), ("updated_at", pa.timestamp("us", tz="UTC")), ("city", pa.string())])
    start = dt.datetime.combine(today - dt.timedelta(days=30), dt.time(), dt.timezone.utc)
    write_parquet(directory, "members", members, [(m, start, "Shanghai" if n % 3 else "Hangzhou") for n, m in enumerate(MEMBERS)])
    week = [(m, dt.datetime.combine(today - dt.timedelta(days=1 + n % 6), dt.time(10, n), dt.timezone.utc), float(10 * (n % 7)), "app")
            for n, m in enumerate(MEMBERS) if m in WEEK_BUYERS]
    append_orders(directory, week)
    config = directory / "labelspark.yaml"
    config.write_text(CONFIG.format(members="data/members", url=url, alias="live_labels"))
    return config


def append_orders(directory: Path, rows: list[tuple]) -> None:
    """One Delta commit of order rows (member_id, order_time, amount, channel)."""
    write_deltalake(str(directory / "data" / "orders"), pa.Table.from_pylist(
        [dict(zip(ORDERS.names, row)) for row in rows], schema=ORDERS), mode="append")


def now_orders(members: list[str], amount: float, channel: str) -> list[tuple]:
    at = dt.datetime.now(dt.timezone.utc)
    return [(member, at, amount, channel) for member in members]


class StreamProcess:
    """`labelspark stream CONFIG` in a child process on classic Spark, its log kept in a file."""

    def __init__(self, config: Path, log: Path):
        self.config, self.log = config, log
        self.process: subprocess.Popen | None = None
        self.offset = 0

    def start(self, timeout: float = 240) -> None:
        self.offset = self.log.stat().st_size if self.log.exists() else 0
        environment = {**classic_environment(), "PYSPARK_PYTHON": sys.executable, "PYTHONPATH": str(ROOT)}
        with open(self.log, "ab") as out:
            self.process = subprocess.Popen([sys.executable, "-m", "labelspark", "stream", str(self.config), "--trigger-seconds", "0.5"],
                                            stdout=out, stderr=subprocess.STDOUT, env=environment, cwd=self.config.parent,
                                            start_new_session=True)
        self.wait_for(r"stream [0-9a-f-]+: \d+ real-time labels", timeout)

    def text(self) -> str:
        return self.log.read_text(errors="replace")[self.offset:]

    def wait_for(self, pattern: str, timeout: float, count: int = 1) -> re.Match:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            found = list(re.finditer(pattern, self.text()))
            if len(found) >= count:
                return found[count - 1]
            if self.process.poll() is not None:
                raise AssertionError(f"the stream exited {self.process.returncode}:\n{self.text()[-4000:]}")
            time.sleep(0.05)
        raise AssertionError(f"no {pattern!r} in the stream's log within {timeout}s:\n{self.text()[-4000:]}")

    def signal(self, signum: int, timeout: float = 120) -> int:
        self.process.send_signal(signum)
        return self.process.wait(timeout)

    def kill(self) -> None:
        """SIGKILL to the driver and the JVM it started (its process group has only them)."""
        os.killpg(self.process.pid, signal.SIGKILL)
        self.process.wait(30)

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.signal(signal.SIGTERM)
