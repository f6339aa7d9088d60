"""When a label is due, parsed once from its config text: `daily`, `weekly:MON`..`SUN`,
`monthly:1`..`31` or `once`. The plan asks a `Schedule` whether it is due on a date, the portal
asks it to describe itself, `audit` asks its period. No Spark here."""
from __future__ import annotations

import calendar
import datetime as dt
import re
from dataclasses import dataclass
from typing import Literal

WEEKDAYS = ("MON", "TUE", "WED", "THU", "FRI", "SAT", "SUN")  # in `date.weekday()` order
WEEKDAY_NAMES = dict(zip(WEEKDAYS, ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday")))
PATTERN = re.compile(r"^(once|daily|weekly:(MON|TUE|WED|THU|FRI|SAT|SUN)|monthly:([1-9]|[12][0-9]|3[01]))$")
# how many days a label may go uncomputed before `audit` calls it stale (none for `once`)
_PERIOD_DAYS = {"daily": 1, "weekly": 7, "monthly": 31}


@dataclass(frozen=True)
class Schedule:
    kind: Literal["once", "daily", "weekly", "monthly"]
    weekday: str | None = None  # weekly: MON..SUN
    day_of_month: int | None = None  # monthly: 1..31

    @classmethod
    def parse(cls, text: str) -> "Schedule":
        """The schedule a config writes; anything else is a ValueError naming the forms."""
        if not PATTERN.match(text):
            raise ValueError(f"schedule is once, daily, weekly:MON..SUN or monthly:1..31, got {text!r}")
        kind, _, argument = text.partition(":")
        if kind == "weekly":
            return cls("weekly", weekday=argument)
        if kind == "monthly":
            return cls("monthly", day_of_month=int(argument))
        return cls(kind)  # type: ignore[arg-type]

    def __str__(self) -> str:
        """As a config writes it."""
        argument = self.weekday or self.day_of_month
        return f"{self.kind}:{argument}" if argument else self.kind

    def due(self, day: dt.date, *, computed_before: bool) -> bool:
        """daily; weekly:XXX on that weekday; monthly:N on day N (or the month's last day);
        once if never computed. A label never computed is due whatever its schedule."""
        if not computed_before or self.kind == "daily":
            return True
        if self.kind == "once":
            return False
        if self.kind == "weekly":
            return WEEKDAYS[day.weekday()] == self.weekday
        last_day = calendar.monthrange(day.year, day.month)[1]
        return day.day == min(self.day_of_month or 1, last_day)

    def describe(self) -> str:
        """In words, for the label portal: 'weekly on Monday', 'monthly on day 1', 'daily', 'once'."""
        if self.kind == "weekly":
            return f"weekly on {WEEKDAY_NAMES[self.weekday or 'MON']}"
        if self.kind == "monthly":
            return f"monthly on day {self.day_of_month}"
        return self.kind

    @property
    def dynamic(self) -> bool:
        """Recomputed on its schedule; a `once` label is static."""
        return self.kind != "once"

    @property
    def period_days(self) -> int | None:
        """The longest a label may go uncomputed on this schedule (None: `once`, computed once)."""
        return _PERIOD_DAYS.get(self.kind)
