"""Source freshness, checked before a run writes anything (dbt's source freshness is the model).

A source's age is the time from its latest `time` at or before the end of the run date (in the
config's timezone) to that end: past `warn_after` it is logged, past `error_after` the run fails (exit 1: the data is late).
A run date after every source's latest row by more than the source allows (its `error_after`, else
DATE_ALLOWANCE) is refused as a usage error (exit 2: the date is wrong): a forgotten `--date` on
old data would compute every entity as inactive and advance history with it. `allow_stale_sources`
turns both refusals into warnings. The date is judged before the run takes the lock, the sources'
thresholds inside the job, on the same reading.
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
from labelspark.errors import SourceError, StaleRunDate
from labelspark.compute.sources import in_session_timezone, normalize_time, on_or_after, read_source
from labelspark.timeutil import parse_duration, start_of_day

log = logging.getLogger(__name__)
_EPOCH = dt.datetime(1970, 1, 1, tzinfo=dt.timezone.utc)
# How far a run date may be past a source's latest row (its age at the end of D) when the source
# sets no `error_after`: a daily job whose feeds pause over a long weekend or a week's holiday
# still runs; a date weeks or months past the data (a forgotten --date) does not.
DATE_ALLOWANCE = "7d"


@dataclass(frozen=True)
class Latest:
    """A source's latest `time` as an instant: at or before the end of the run date, and of all rows."""

    as_of: dt.datetime | None
    overall: dt.datetime | None
    day: dt.date | None  # the local day of `overall`


@dataclass(frozen=True)
class SourceAges:
    """The latest `time` of each readable source that has one, read once before the lock: the run
    date is judged on them there, each source's thresholds inside the job by `check` (so a late
    source is a failed run in label_runs, as other bad data is)."""

    project: Project
    run_date: dt.date
    latest: dict[str, Latest]
    allow_stale_sources: bool

    @property
    def end(self) -> dt.datetime:
        return start_of_day(self.run_date + dt.timedelta(days=1), self.project.timezone)

    def check(self) -> None:
        """Logs stale sources and a run date after all the data; raises SourceError for a source
        older than its `error_after` (a warning with `allow_stale_sources`)."""
        failures = []
        for name, times in self.latest.items():
            source = self.project.sources[name]
            problem = None if source.freshness is None else staleness(source, times.as_of, self.end, self.run_date, self.project.timezone)
            if problem is not None:
                message, fatal = problem
                if fatal and not self.allow_stale_sources:
                    failures.append((name, message))
                else:
                    log.warning("source '%s': %s", name, message)
        overall = [times.overall for times in self.latest.values() if times.overall is not None]
        if overall and max(overall) < start_of_day(self.run_date, self.project.timezone):
            log.warning(
                "the run date %s is after the latest row of every source (the latest: %s): its windows hold no rows "
                "and recency labels will read as inactive (a forgotten --date?)",
                self.run_date, _shown(max(overall), self.project.timezone),
            )
        for name, message in failures[1:]:
            log.error("source '%s': %s", name, message)
        if failures:
            raise SourceError(*failures[0])


def check_run_date(spark: SparkSession, project: Project, run_date: dt.date, allow_stale_sources: bool = False) -> SourceAges:
    """Reads each source's latest `time` (one aggregate per source) and raises StaleRunDate when
    every source is older at the end of the run date than it allows: the date, not the data, is
    wrong. Writes nothing, so it runs before the lock. A source that cannot be read is left to the
    run, which records its failure; one without a `time` value says nothing about the date.
    The session is in the project's timezone (`set_timezone`, by the run)."""
    latest = {}
    for name, source in project.sources.items():
        if source.time:
            try:
                latest[name] = latest_times(spark, project, name, source, run_date)
            except SourceError as exc:
                log.debug("source '%s' left to the run: %s", name, exc)
    ages = SourceAges(project, run_date, latest, allow_stale_sources)
    judged = {name: times for name, times in latest.items() if times.overall is not None}
    allowances = {name: date_allowance(project.sources[name]) for name in judged}
    if not judged or any(ages.end - times.overall <= parse_duration(allowances[name]) for name, times in judged.items()):
        return ages
    listed = ", ".join(f"{name} {times.day} (allows {allowances[name]})" for name, times in judged.items())
    if allow_stale_sources:
        log.warning("the run date %s is past the data of every source (latest rows: %s): run as --allow-stale-sources asks", run_date, listed)
        return ages
    raise StaleRunDate(
        f"the run date {run_date} is past the data of every source by more than it allows (latest rows: {listed}): "
        f"a forgotten --date, or feeds that stopped? Give the date of the data, or --allow-stale-sources to run this date anyway"
    )


def date_allowance(source: Source) -> str:
    """How old the source's latest row may be at the end of the run date before the date is suspect."""
    return source.freshness.error_after if source.freshness and source.freshness.error_after else DATE_ALLOWANCE


def latest_times(spark: SparkSession, project: Project, name: str, source: Source, run_date: dt.date) -> Latest:
    """The source's latest `time`, read the way a run reads it (zones, text as local times)."""
    df = normalize_time(in_session_timezone(read_source(spark, project, name)), name, source.time)
    time, data_type = F.col(source.time), df.schema[source.time].dataType
    before_end = ~on_or_after(time, data_type, run_date + dt.timedelta(days=1), project.timezone)
    as_of, overall = df.agg(_latest(F.when(before_end, time), data_type), _latest(time, data_type)).first()
    overall_instant = _instant(overall, project.timezone)
    day = overall if isinstance(overall, dt.date) or overall is None else overall_instant.astimezone(ZoneInfo(project.timezone)).date()
    return Latest(_instant(as_of, project.timezone), overall_instant, day)


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
