"""Source freshness, checked before a run writes anything (dbt's source freshness is the model).

A source's age is the time from its latest `time` at or before the end of the run date (in the
config's timezone) to that end: past `warn_after` it is logged, past `error_after` the run fails.
A run date after every source's latest row (a forgotten `--date` on old data) is logged too: it
would compute every entity as inactive without an error.
"""
from __future__ import annotations

import datetime as dt
import logging
from dataclasses import dataclass
from zoneinfo import ZoneInfo

from pyspark.sql import Column, SparkSession
from pyspark.sql import functions as F
from pyspark.sql import types as T

from labelspark.config import Project
from labelspark.config.models import Source
from labelspark.errors import SourceError
from labelspark.sources import in_session_timezone, normalize_time, on_or_after, read_source
from labelspark.timeutil import parse_duration, start_of_day

log = logging.getLogger(__name__)
_EPOCH = dt.datetime(1970, 1, 1, tzinfo=dt.timezone.utc)


@dataclass(frozen=True)
class Latest:
    """A source's latest `time` as an instant: at or before the end of the run date, and of all rows."""

    as_of: dt.datetime | None
    overall: dt.datetime | None


def check_freshness(spark: SparkSession, project: Project, run_date: dt.date) -> None:
    """Logs stale sources and a run date after all the data; raises SourceError for a source
    older than its `error_after`. One aggregate per source with a `time` column."""
    spark.conf.set("spark.sql.session.timeZone", project.timezone)  # days of timestamps are the project's
    timed = {name: source for name, source in project.sources.items() if source.time}
    latest = {name: latest_times(spark, project, name, source, run_date) for name, source in timed.items()}
    end = start_of_day(run_date + dt.timedelta(days=1), project.timezone)
    failures = []
    for name, source in timed.items():
        if source.freshness is None:
            continue
        problem = staleness(source, latest[name].as_of, end, run_date, project.timezone)
        if problem is not None:
            message, fatal = problem
            if fatal:
                failures.append((name, message))
            else:
                log.warning("source '%s': %s", name, message)
    overall = [times.overall for times in latest.values() if times.overall is not None]
    if overall and max(overall) < start_of_day(run_date, project.timezone):
        log.warning(
            "the run date %s is after the latest row of every source (the latest: %s): its windows hold no rows "
            "and recency labels will read as inactive (a forgotten --date?)",
            run_date, _shown(max(overall), project.timezone),
        )
    for name, message in failures[1:]:
        log.error("source '%s': %s", name, message)
    if failures:
        raise SourceError(*failures[0])


def latest_times(spark: SparkSession, project: Project, name: str, source: Source, run_date: dt.date) -> Latest:
    """The source's latest `time`, read the way a run reads it (zones, text as local times)."""
    df = normalize_time(in_session_timezone(read_source(spark, project, name)), name, source.time)
    time, data_type = F.col(source.time), df.schema[source.time].dataType
    before_end = ~on_or_after(time, data_type, run_date + dt.timedelta(days=1), project.timezone)
    as_of, overall = df.agg(_latest(F.when(before_end, time), data_type), _latest(time, data_type)).first()
    return Latest(_instant(as_of, project.timezone), _instant(overall, project.timezone))


def _latest(time: Column, data_type: T.DataType) -> Column:
    """The greatest date, or timestamp as microseconds since the epoch (no zone conversion on collect)."""
    return F.max(time) if isinstance(data_type, T.DateType) else F.unix_micros(F.max(time))


def _instant(value: dt.date | int | None, timezone: str) -> dt.datetime | None:
    """A latest date counts as the end of that day."""
    if value is None:
        return None
    if isinstance(value, dt.date):
        return start_of_day(value + dt.timedelta(days=1), timezone)
    return _EPOCH + dt.timedelta(microseconds=value)


def staleness(source: Source, latest: dt.datetime | None, end: dt.datetime, run_date: dt.date, timezone: str) -> tuple[str, bool] | None:
    """(message, fatal) when the source's latest time is older than a threshold at `end`, else None."""
    warn, error = parse_duration(source.freshness.warn_after), parse_duration(source.freshness.error_after)
    if latest is None:
        return f"no rows at or before the end of {run_date}", error is not None
    age = end - latest
    for threshold, key, fatal in ((error, "error_after", True), (warn, "warn_after", False)):
        if threshold is not None and age > threshold:
            return (f"its latest `{source.time}` at or before the end of {run_date} is {_shown(latest, timezone)}, "
                    f"{_age(age)} old: more than {key} {getattr(source.freshness, key)}"), fatal
    return None


def _shown(instant: dt.datetime, timezone: str) -> str:
    return instant.astimezone(ZoneInfo(timezone)).isoformat(sep=" ", timespec="seconds")


def _age(age: dt.timedelta) -> str:
    hours = int(age.total_seconds() // 3600)
    return f"{hours // 24}d {hours % 24}h" if hours >= 24 else f"{hours}h"
