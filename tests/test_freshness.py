"""Source freshness: a stale source is warned about or fails the run (exit 1) before anything is
written, judged on its latest `time` at or before the end of the run date in the config's timezone;
a run date past every source's latest row by more than the source allows (its `error_after`, else
7d) is refused (exit 2) before the lock, unless --allow-stale-sources. Run date 2026-03-31, Asia/Shanghai."""
from __future__ import annotations

import datetime as dt
import logging
import subprocess
import sys
import textwrap
from zoneinfo import ZoneInfo

import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.dataset as ds
import pyarrow.parquet as pq
import pytest

from labelspark.config import load_project
from labelspark.cli.demo import write_demo
from labelspark.errors import ConfigError, SourceError, StaleRunDate
from labelspark.compute.staleness import check_run_date
from labelspark.engine.sessions import set_timezone
from labelspark.warehouse.deltars import read_rows

D = dt.date(2026, 3, 31)
TZ = ZoneInfo("Asia/Shanghai")

HEADER = """\
version: 1
name: shop
timezone: Asia/Shanghai
entity: {key: member_id}
outputs: {warehouse: warehouse}
indicators:
  events_7d: {source: events, agg: count, window: 7d}
labels:
  - {id: active, type: boolean, method: rules, default: false, values: [{value: true, when: {field: events_7d, op: gte, value: 1}}]}
"""


def write_events(root, times: list, name: str = "events") -> None:
    """One row per time; datetimes are wall-clock times in Asia/Shanghai, dates are a date column."""
    values = [t.replace(tzinfo=TZ) if isinstance(t, dt.datetime) else t for t in times]
    kind = pa.date32() if all(type(t) is dt.date for t in times) else pa.timestamp("us", tz="UTC")
    folder = root / "data" / name
    folder.mkdir(parents=True)
    pq.write_table(pa.table({"member_id": [f"m{i}" for i in range(len(times))], "at": pa.array(values, kind)}), folder / "part-0.parquet")


@pytest.fixture
def project_of(write_config):
    def load(sources: str):
        return load_project(write_config(HEADER + textwrap.dedent(sources)))

    return load


def check_freshness(spark, project, run_date: dt.date, allow_stale_sources: bool = False) -> None:
    """Both checks, as a run makes them (in the project's timezone): the date before the lock, the
    sources' thresholds in the job."""
    set_timezone(spark, project.timezone)
    check_run_date(spark, project, run_date, allow_stale_sources).check()


def warnings_of(caplog) -> list[str]:
    return [r.getMessage() for r in caplog.records if r.name == "labelspark.compute.staleness" and r.levelno >= logging.WARNING]


# -- the config ---------------------------------------------------------------------------


@pytest.mark.parametrize("freshness, path, says", [
    ("{warn_after: 1 day}", "sources.events.freshness.warn_after", "a duration is a number of days or hours like '1d' or '36h', got '1 day'"),
    ("{error_after: 36}", "sources.events.freshness.error_after", "got 36"),
    ("{warn_after: 3d, error_after: 36h}", "sources.events.freshness", "error_after (36h) must be at least warn_after (3d)"),
    ("{}", "sources.events.freshness", "`freshness` needs `warn_after`, `error_after` or both"),
    ("{warn_after: 1d, fail_after: 2d}", "sources.events.freshness.fail_after", "unknown key"),
])
def test_freshness_thresholds_are_checked_at_validate_time(project_of, freshness, path, says):
    with pytest.raises(ConfigError) as info:
        project_of(f"sources:\n  events: {{format: parquet, path: data/events, key: member_id, time: at, freshness: {freshness}}}\n")
    [problem] = info.value.problems
    assert (problem.path, problem.line) == (path, 11) and says in problem.message


def test_freshness_needs_a_time_column(project_of):
    with pytest.raises(ConfigError) as info:
        project_of("sources:\n  events: {format: parquet, path: data/events, key: member_id, freshness: {warn_after: 1d}}\n")
    [problem] = info.value.problems
    assert problem.path == "sources.events" and "needs a `time` column" in problem.message


# -- the check ----------------------------------------------------------------------------


EVENTS = "sources:\n  events: {{format: parquet, path: data/events, key: member_id, time: at, freshness: {freshness}}}\n"
VISITS = "  visits: {format: parquet, path: data/visits, key: member_id, time: at}\n"  # a source with a row on D


@pytest.mark.portable
def test_a_source_older_than_warn_after_is_logged_with_its_latest_time_and_threshold(spark, tmp_path, project_of, caplog):
    # the latest row at or before the end of D is 2026-03-29 10:00, 2d 14h before the end of D;
    # the row of 2026-04-02 arrived later and does not count
    write_events(tmp_path, [dt.datetime(2026, 3, 28, 9), dt.datetime(2026, 3, 29, 10), dt.datetime(2026, 4, 2, 8)])
    caplog.set_level(logging.WARNING)
    check_freshness(spark, project_of(EVENTS.format(freshness="{warn_after: 2d, error_after: 3d}")), D)
    assert warnings_of(caplog) == [
        "source 'events': its latest `at` at or before the end of 2026-03-31 is 2026-03-29 10:00:00+08:00, "
        "2d 14h old: more than warn_after 2d"
    ]


@pytest.mark.portable
def test_a_source_older_than_error_after_fails_naming_it(spark, tmp_path, project_of):
    # another source has a row on D: the date has data, this source is late (exit 1, not a wrong date)
    write_events(tmp_path, [dt.datetime(2026, 3, 29, 10)])
    write_events(tmp_path, [dt.date(2026, 3, 31)], name="visits")
    with pytest.raises(SourceError) as info:
        check_freshness(spark, project_of(EVENTS.format(freshness="{warn_after: 1d, error_after: 60h}") + VISITS), D)
    assert info.value.source == "events" and info.value.exit_code == 1
    assert str(info.value) == ("source 'events': its latest `at` at or before the end of 2026-03-31 is "
                               "2026-03-29 10:00:00+08:00, 2d 14h old: more than error_after 60h")


@pytest.mark.portable
def test_fresh_sources_and_dates_ending_on_the_run_date_pass_quietly(spark, tmp_path, project_of, caplog):
    # 23:59 on D is a minute old at the end of D; a date column's latest day counts as its end
    write_events(tmp_path, [dt.datetime(2026, 3, 31, 23, 59)])
    write_events(tmp_path, [dt.date(2026, 3, 30), dt.date(2026, 3, 31)], name="visits")
    caplog.set_level(logging.WARNING)
    check_freshness(spark, project_of(EVENTS.format(freshness="{warn_after: 1h, error_after: 1d}") + (
        "  visits: {format: parquet, path: data/visits, key: member_id, time: at, freshness: {error_after: 1h}}\n")), D)
    assert warnings_of(caplog) == []


@pytest.mark.portable
def test_a_source_without_rows_up_to_the_run_date_is_stale(spark, tmp_path, project_of):
    write_events(tmp_path, [dt.datetime(2026, 4, 1, 0, 0)])  # the first instant after D
    with pytest.raises(SourceError, match="source 'events': no rows at or before the end of 2026-03-31"):
        check_freshness(spark, project_of(EVENTS.format(freshness="{error_after: 30d}")), D)


@pytest.mark.portable
def test_a_run_date_after_every_sources_latest_row_within_the_allowance_is_warned_about(spark, tmp_path, project_of, caplog):
    write_events(tmp_path, [dt.datetime(2026, 3, 31, 23, 51)])
    write_events(tmp_path, [dt.date(2026, 3, 30)], name="visits")
    project = project_of("sources:\n  events: {format: parquet, path: data/events, key: member_id, time: at}\n" + VISITS)
    caplog.set_level(logging.WARNING)
    check_freshness(spark, project, D)
    assert warnings_of(caplog) == []  # a row on D: the date has data
    check_freshness(spark, project, dt.date(2026, 4, 3))  # 3 days past the data: within 7d
    [warning] = warnings_of(caplog)
    assert warning.startswith("the run date 2026-04-03 is after the latest row of every source (the latest: 2026-03-31 23:51:00+08:00)")


@pytest.mark.portable
@pytest.mark.parametrize("run_date, refused", [(dt.date(2026, 4, 7), False), (dt.date(2026, 4, 8), True)])
def test_without_freshness_a_run_date_may_be_7_days_past_the_data(spark, tmp_path, project_of, run_date, refused):
    # a date column's latest day counts as its end: at the end of 2026-04-07 it is exactly 7d old
    write_events(tmp_path, [dt.date(2026, 3, 30), dt.date(2026, 3, 31)])
    project = project_of("sources:\n  events: {format: parquet, path: data/events, key: member_id, time: at}\n")
    if refused:
        with pytest.raises(StaleRunDate, match=r"latest rows: events 2026-03-31 \(allows 7d\)"):
            check_freshness(spark, project, run_date)
    else:
        check_freshness(spark, project, run_date)


@pytest.mark.portable
def test_a_run_date_past_every_sources_allowance_is_refused_naming_each_latest_date(spark, tmp_path, project_of):
    # events (no error_after: 7d) ends 2026-03-31 23:51, visits (error_after 3d) 2026-03-30,
    # clicks has no row with a time and says nothing about the date
    write_events(tmp_path, [dt.datetime(2026, 3, 31, 23, 51)])
    write_events(tmp_path, [dt.date(2026, 3, 29), dt.date(2026, 3, 30)], name="visits")
    write_events(tmp_path, [None], name="clicks")
    project = project_of("sources:\n  events: {format: parquet, path: data/events, key: member_id, time: at, freshness: {warn_after: 2d}}\n"
                         "  visits: {format: parquet, path: data/visits, key: member_id, time: at, freshness: {error_after: 3d}}\n"
                         "  clicks: {format: parquet, path: data/clicks, key: member_id, time: at}\n")
    with pytest.raises(StaleRunDate) as info:
        check_freshness(spark, project, dt.date(2026, 4, 8))  # events 8d 0h 9m old, visits 9d
    assert info.value.exit_code == 2
    assert str(info.value).startswith(
        "the run date 2026-04-08 is past the data of every source by more than it allows "
        "(latest rows: events 2026-03-31 (allows 7d), visits 2026-03-30 (allows 3d)): a forgotten --date")
    # six days past the data: events is within 7d, so the date stands and visits is a late source (exit 1)
    with pytest.raises(SourceError, match="source 'visits': its latest `at` at or before the end of 2026-04-06"):
        check_freshness(spark, project, dt.date(2026, 4, 6))


@pytest.mark.portable
def test_allow_stale_sources_turns_the_refusals_into_warnings(spark, tmp_path, project_of, caplog):
    write_events(tmp_path, [dt.datetime(2026, 3, 20, 10)])
    project = project_of(EVENTS.format(freshness="{warn_after: 1d, error_after: 3d}"))
    with pytest.raises(StaleRunDate):
        check_freshness(spark, project, D)
    caplog.set_level(logging.WARNING)
    check_freshness(spark, project, D, allow_stale_sources=True)
    assert warnings_of(caplog)[:2] == [
        "the run date 2026-03-31 is past the data of every source (latest rows: events 2026-03-20 (allows 3d)): "
        "run as --allow-stale-sources asks",
        "source 'events': its latest `at` at or before the end of 2026-03-31 is 2026-03-20 10:00:00+08:00, "
        "11d 14h old: more than error_after 3d",
    ]


def test_a_run_on_a_source_past_error_after_exits_1_before_writing_any_label_table_and_is_recorded_failed(tmp_path, project_of):
    write_events(tmp_path, [dt.datetime(2026, 3, 20, 10)])
    write_events(tmp_path, [dt.date(2026, 3, 31)], name="visits")
    project = project_of(EVENTS.format(freshness="{warn_after: 1d, error_after: 3d}") + VISITS)
    done = subprocess.run([sys.executable, "-m", "labelspark", "run", str(project.file), "--date", D.isoformat()],
                          cwd=tmp_path, capture_output=True, text=True, timeout=300)
    assert done.returncode == 1, done.stderr
    assert "labelspark: source 'events': its latest `at` at or before the end of 2026-03-31 is 2026-03-20 10:00:00+08:00" in done.stderr
    assert not (tmp_path / "warehouse" / "label_snapshot").exists()
    assert not (tmp_path / "warehouse" / "label_stats").exists()
    [failed] = read_rows(str(tmp_path / "warehouse" / "label_runs")).to_pylist()
    assert failed["status"] == "failed" and "source 'events': its latest `at`" in failed["error"]


def test_a_forgotten_date_on_the_demo_exits_2_before_the_lock_naming_each_sources_latest_date(tmp_path):
    # the demo's data ends 2026-03-31; without --date a run takes yesterday, months later
    config = write_demo(tmp_path / "demo")
    latest = {}
    for name, column in (("members", "updated_at"), ("orders", "order_time"), ("events", "event_time")):
        times = ds.dataset(config.parent / "data" / name).to_table(columns=[column]).column(column)
        latest[name] = pc.max(times).as_py().astimezone(TZ).date()
    done = subprocess.run([sys.executable, "-m", "labelspark", "run", str(config)],
                          cwd=tmp_path, capture_output=True, text=True, timeout=300)
    assert done.returncode == 2, done.stderr
    listed = ", ".join(f"{name} {day} (allows 7d)" for name, day in latest.items())
    assert f"is past the data of every source by more than it allows (latest rows: {listed})" in done.stderr
    assert "--allow-stale-sources" in done.stderr
    assert not (config.parent / "warehouse").exists()  # no table, no lock


