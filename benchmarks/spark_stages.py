"""Where a classic Spark run spent its time: one line per SQL execution of a Spark event log.

    python benchmarks/spark_stages.py EVENT_LOG [--log RUN_LOG]

Run the job with `spark.eventLog.enabled=true` and `spark.eventLog.dir=file:///tmp/spark-events`
(`LABELSPARK_EXTRA_CONF` of scripts/submit.sh); EVENT_LOG is the application's file or, as Spark
4 writes it, its folder of `events_N_*` files (uncompressed or zstd, Spark 4's default). Each
line: the execution's start (local time), wall seconds, the task time of its stages summed over
executors, rows read from files, shuffle bytes written and bytes written to files. With `--log` (labelspark's log of the same run) each execution
is headed by the log line it follows, so the figures group by phase of the job.
"""
from __future__ import annotations

import argparse
import datetime as dt
import json
import re
from collections import defaultdict
from pathlib import Path

import pyarrow as pa

METRICS = {
    "internal.metrics.executorRunTime": "task_ms",
    "internal.metrics.input.recordsRead": "rows_read",
    "internal.metrics.shuffle.write.bytesWritten": "shuffle_bytes",
    "internal.metrics.output.bytesWritten": "bytes_written",
}


def executions(event_log: Path) -> list[dict]:
    """SQL executions in start order, with the metrics of their stages summed."""
    started, ended, stage_execution, totals = {}, {}, {}, defaultdict(lambda: defaultdict(int))
    for line in _lines(event_log):
        event = json.loads(line)
        kind = event["Event"]
        if kind.endswith("SQLExecutionStart"):
            started[event["executionId"]] = event["time"]
        elif kind.endswith("SQLExecutionEnd"):
            ended[event["executionId"]] = event["time"]
        elif kind == "SparkListenerJobStart":
            execution = (event.get("Properties") or {}).get("spark.sql.execution.id")
            if execution is not None:
                stage_execution.update(dict.fromkeys(event["Stage IDs"], int(execution)))
        elif kind == "SparkListenerStageCompleted":
            info = event["Stage Info"]
            execution = stage_execution.get(info["Stage ID"])
            for accumulable in info.get("Accumulables", []) if execution is not None else []:
                name = METRICS.get(accumulable.get("Name"))
                if name:
                    totals[execution][name] += int(accumulable.get("Value", 0))
    return [
        {"start": started[e], "seconds": (ended.get(e, started[e]) - started[e]) / 1000, **totals[e]}
        for e in sorted(started, key=started.get)
        if totals[e]
    ]


def jobs(event_log: Path) -> list[dict]:
    """Spark jobs in submission order (the SparkListenerJobStart events), each with the metrics
    of the stages it ran summed (a stage skipped by a later job counts in the first)."""
    found, stage_job = [], {}
    for line in _lines(event_log):
        event = json.loads(line)
        if event["Event"] == "SparkListenerJobStart":
            found.append(defaultdict(int, start=event["Submission Time"]))
            for stage in event["Stage IDs"]:
                stage_job.setdefault(stage, found[-1])
        elif event["Event"] == "SparkListenerStageCompleted" and event["Stage Info"]["Stage ID"] in stage_job:
            job = stage_job[event["Stage Info"]["Stage ID"]]
            for accumulable in event["Stage Info"].get("Accumulables", []):
                name = METRICS.get(accumulable.get("Name"))
                if name:
                    job[name] += int(accumulable.get("Value", 0))
    return sorted(found, key=lambda job: job["start"])


def _lines(event_log: Path) -> list[str]:
    """The events of a log file, or of a rolling log's folder in order."""
    parts = sorted(event_log.glob("events_*"), key=lambda p: int(p.name.split("_")[1])) if event_log.is_dir() else [event_log]
    text = []
    for part in parts:
        with pa.input_stream(str(part), compression="zstd" if part.suffix == ".zstd" else None) as stream:
            text += stream.read().decode().splitlines()
    return text


def phases(run_log: Path) -> list[tuple[dt.time, str]]:
    """labelspark's log lines, `HH:MM:SS.mmm LEVEL message`, as (time, message)."""
    found = []
    for line in run_log.read_text().splitlines():
        match = re.match(r"(\d\d:\d\d:\d\d\.\d{3}) \w+ (.*)", line)
        if match:
            found.append((dt.datetime.strptime(match[1], "%H:%M:%S.%f").time(), match[2][:100]))
    return found


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("event_log", type=Path)
    parser.add_argument("--log", type=Path, help="labelspark's log of the same run")
    args = parser.parse_args()
    marks = phases(args.log) if args.log else []
    shown = None
    print(f"{'start':<12} {'wall s':>7} {'task s':>8} {'rows read':>13} {'shuffle MB':>11} {'written MB':>11}")
    for e in executions(args.event_log):
        start = dt.datetime.fromtimestamp(e["start"] / 1000)
        heading = next((text for time, text in reversed(marks) if time <= start.time()), None)
        if heading and heading != shown:
            print(f"-- after: {heading}")
            shown = heading
        print(f"{start.time().isoformat('milliseconds'):<12} {e['seconds']:>7.1f} {e.get('task_ms', 0) / 1000:>8.1f} "
              f"{e.get('rows_read', 0):>13,} {e.get('shuffle_bytes', 0) / 2**20:>11,.1f} {e.get('bytes_written', 0) / 2**20:>11,.1f}")


if __name__ == "__main__":
    main()
