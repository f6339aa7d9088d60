"""Durations (`30d`) and day boundaries in the project's timezone."""
from __future__ import annotations

import datetime as dt
import re
from typing import Callable
from zoneinfo import ZoneInfo

_DAYS = re.compile(r"^([1-9][0-9]{0,4})d$")
DURATION = re.compile(r"^([1-9][0-9]{0,5})([dh])$")


def parse_days(text: object) -> int | None:
    """`'30d'` -> 30; None for anything else (the caller reports it)."""
    if isinstance(text, str):
        match = _DAYS.match(text.strip())
        if match:
            return int(match.group(1))
    return None


def parse_duration(text: object) -> dt.timedelta | None:
    """`'1d'` -> 1 day, `'36h'` -> 36 hours; None for anything else (the caller reports it)."""
    match = DURATION.match(text.strip()) if isinstance(text, str) else None
    if match is None:
        return None
    count, unit = int(match.group(1)), match.group(2)
    return dt.timedelta(days=count) if unit == "d" else dt.timedelta(hours=count)


def readable_by(parse: Callable[[str], object], expected: str) -> Callable[[str], str]:
    """A check of config text that `parse` must read (a window, a duration): the text as it is,
    or a ValueError saying what was expected (a pydantic `AfterValidator`)."""

    def check(text: str) -> str:
        if parse(text) is None:
            raise ValueError(f"{expected}, got {text!r}")
        return text

    return check


def start_of_day(day: dt.date, timezone: str) -> dt.datetime:
    """The instant a calendar day begins in `timezone`, as an aware UTC datetime."""
    local = dt.datetime.combine(day, dt.time.min, tzinfo=ZoneInfo(timezone))
    return local.astimezone(dt.timezone.utc)


def today(timezone: str) -> dt.date:
    return dt.datetime.now(ZoneInfo(timezone)).date()


def yesterday(timezone: str) -> dt.date:
    return today(timezone) - dt.timedelta(days=1)
