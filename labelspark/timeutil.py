"""Durations (`30d`) and day boundaries in the project's timezone."""
from __future__ import annotations

import datetime as dt
import re
from zoneinfo import ZoneInfo

_DAYS = re.compile(r"^([1-9][0-9]{0,4})d$")


def parse_days(text: object) -> int | None:
    """`'30d'` -> 30; None for anything else (the caller reports it)."""
    if isinstance(text, str):
        match = _DAYS.match(text.strip())
        if match:
            return int(match.group(1))
    return None


def start_of_day(day: dt.date, timezone: str) -> dt.datetime:
    """The instant a calendar day begins in `timezone`, as an aware UTC datetime."""
    local = dt.datetime.combine(day, dt.time.min, tzinfo=ZoneInfo(timezone))
    return local.astimezone(dt.timezone.utc)


def yesterday(timezone: str) -> dt.date:
    return dt.datetime.now(ZoneInfo(timezone)).date() - dt.timedelta(days=1)
