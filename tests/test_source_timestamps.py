"""Sources written by pandas with its defaults (`DataFrame.to_parquet`): timestamps in every unit,
with and without a zone, give the same labels, with days and windows in the project's timezone.

Zone-less timestamps are wall-clock times of the project's timezone (Asia/Shanghai, UTC+8); zoned
ones are instants, written here in a zone that is not the project's. The run date is 2026-03-31.
"""
from __future__ import annotations

import datetime as dt
import textwrap

import pandas as pd
import pyarrow.parquet as pq
import pytest
from pyspark.sql import types as T

from labelspark.config import load_project
from labelspark.compute.run import compute_snapshot
from labelspark.compute.plan import make_plan
from labelspark.engine.sessions import set_timezone
from tests.support.frames import assert_rows, expected_frame

pytestmark = pytest.mark.portable

TZ = "Asia/Shanghai"
D = dt.date(2026, 3, 31)

CONFIG = """\
version: 1
name: shop
timezone: Asia/Shanghai
entity: {key: member_id}
outputs: {warehouse: warehouse}
sources:
  events: {format: parquet, path: data/events, key: member_id, time: time}
indicators:
  events_1d: {source: events, agg: count, window: 1d}
  events_2d: {source: events, agg: count, window: 2d}
  last_event: {source: events, agg: max, of: time}
  signed_up_at: {source: events, column: signed_up_at}
labels:
  - {id: events_today, type: number, method: metric, indicator: events_1d}
  - {id: events_2d, type: number, method: metric, indicator: events_2d}
  - {id: last_seen, type: date, method: metric, indicator: last_event}
  - {id: signed_up, type: date, method: metric, indicator: signed_up_at}
"""

# (member, event time, signed-up time), as wall-clock times in Asia/Shanghai
EVENTS = [
    ("m1", "2026-03-31 23:30:00", "2026-01-01 00:30:00"),  # late on D
    ("m2", "2026-03-01 12:00:00", "2026-02-28 23:59:00"),
    ("m2", "2026-04-01 00:30:00", "2026-02-28 23:59:00"),  # after D: not counted
    ("m3", "2026-03-30 23:59:59", "2026-03-30 08:00:00"),  # the last second of D-1
    ("m4", "2026-03-31 00:00:00", "2026-03-31 00:00:00"),  # the first instant of D
    ("m5", "2026-03-31 23:59:59.999999999", "2025-12-31 23:00:00"),  # the last nanosecond of D
]
EXPECTED = [
    ("m1", 1.0, 1.0, dt.date(2026, 3, 31), dt.date(2026, 1, 1)),
    ("m2", 0.0, 0.0, dt.date(2026, 3, 1), dt.date(2026, 2, 28)),
    ("m3", 0.0, 1.0, dt.date(2026, 3, 30), dt.date(2026, 3, 30)),
    ("m4", 1.0, 1.0, dt.date(2026, 3, 31), dt.date(2026, 3, 31)),
    ("m5", 1.0, 1.0, dt.date(2026, 3, 31), dt.date(2025, 12, 31)),
]


def pandas_timestamps(texts: list[str], unit: str, zone: str | None) -> pd.Series:
    """Wall-clock times of the project's timezone as pandas holds them: naive, or moved to `zone`."""
    stamps = pd.Series(pd.to_datetime(texts, format="ISO8601"))
    if zone is None:
        return stamps.astype(f"datetime64[{unit}]")
    return stamps.dt.tz_localize(TZ).dt.tz_convert(zone).astype(f"datetime64[{unit}, {zone}]")


@pytest.mark.parametrize("zone", [None, "UTC", "America/New_York"])
@pytest.mark.parametrize("unit", ["ns", "us", "ms", "s"])
def test_pandas_written_timestamps_give_the_same_labels_in_every_unit(spark, tmp_path, unit, zone):
    folder = tmp_path / "data" / "events"
    folder.mkdir(parents=True)
    members, times, signed_up = zip(*EVENTS)
    events = pd.DataFrame({"member_id": members, "time": pandas_timestamps(list(times), unit, zone),
                           "signed_up_at": pandas_timestamps(list(signed_up), unit, zone)})
    events.to_parquet(folder / "part-0.parquet")  # pandas' defaults
    if unit == "ns":
        assert pq.read_schema(folder / "part-0.parquet").field("time").type.unit == "ns"
    config = tmp_path / "labelspark.yaml"
    config.write_text(textwrap.dedent(CONFIG), encoding="utf-8")
    project = load_project(config)

    try:
        set_timezone(spark, project.timezone)  # as a run sets it
        snapshot = compute_snapshot(spark, project, make_plan(project, D, computed=set()))
        expected = expected_frame(spark, [("member_id", T.StringType()), ("events_today", T.DoubleType()),
                                          ("events_2d", T.DoubleType()), ("last_seen", T.DateType()),
                                          ("signed_up", T.DateType())], EXPECTED)
        assert_rows(snapshot, expected)
    finally:
        spark.conf.set("spark.sql.session.timeZone", "UTC")
