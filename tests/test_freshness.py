"""Source freshness: a stale source is warned about or fails the run before anything is written,
judged on its latest `time` at or before the end of the run date in the config's timezone; a run
date after every source's latest row is warned about. Run date 2026-03-31, Asia/Shanghai."""
from __future__ import annotations

import datetime as dt
import logging
import subprocess
import sys
import textwrap
from zoneinfo import ZoneInfo

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from labelspark.config import load_project
from labelspark.errors import ConfigError, SourceError
from labelspark.freshness import check_freshness

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


def warnings_of(caplog) -> list[str]:
    return [r.getMessage() for r in caplog.records if r.name == "labelspark.freshness" and r.levelno >= logging.WARNING]


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
    write_events(tmp_path, [dt.datetime(2026, 3, 29, 10)])
    with pytest.raises(SourceError) as info:
        check_freshness(spark, project_of(EVENTS.format(freshness="{warn_after: 1d, error_after: 60h}")), D)
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
def test_a_run_date_after_every_sources_latest_row_is_warned_about(spark, tmp_path, project_of, caplog):
    write_events(tmp_path, [dt.datetime(2026, 3, 31, 23, 51)])
    write_events(tmp_path, [dt.date(2026, 3, 30)], name="visits")
    project = project_of("sources:\n  events: {format: parquet, path: data/events, key: member_id, time: at}\n"
                         "  visits: {format: parquet, path: data/visits, key: member_id, time: at}\n")
    caplog.set_level(logging.WARNING)
    check_freshness(spark, project, D)
    assert warnings_of(caplog) == []  # a row on D: the date has data
    check_freshness(spark, project, dt.date(2026, 11, 29))
    [warning] = warnings_of(caplog)
    assert warning.startswith("the run date 2026-11-29 is after the latest row of every source (the latest: 2026-03-31 23:51:00+08:00)")


def test_a_run_on_a_source_past_error_after_exits_1_before_writing_any_label_table(tmp_path, project_of):
    write_events(tmp_path, [dt.datetime(2026, 3, 20, 10)])
    project = project_of(EVENTS.format(freshness="{warn_after: 1d, error_after: 3d}"))
    done = subprocess.run([sys.executable, "-m", "labelspark", "run", str(project.file), "--date", D.isoformat()],
                          cwd=tmp_path, capture_output=True, text=True, timeout=300)
    assert done.returncode == 1, done.stderr
    assert "labelspark: source 'events': its latest `at` at or before the end of 2026-03-31 is 2026-03-20 10:00:00+08:00" in done.stderr
    assert not (tmp_path / "warehouse" / "label_snapshot").exists()
    assert not (tmp_path / "warehouse" / "label_stats").exists()
