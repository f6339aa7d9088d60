"""The `freshness:` setting of a source: durations it may age before a warning or a failure."""
from __future__ import annotations

import datetime as dt
import re

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

_DURATION = re.compile(r"^([1-9][0-9]{0,5})([dh])$")


def parse_duration(text: object) -> dt.timedelta | None:
    """`'1d'` -> 1 day, `'36h'` -> 36 hours; None for anything else (the caller reports it)."""
    match = _DURATION.match(text.strip()) if isinstance(text, str) else None
    if match is None:
        return None
    count, unit = int(match.group(1)), match.group(2)
    return dt.timedelta(days=count) if unit == "d" else dt.timedelta(hours=count)


class Freshness(BaseModel):
    """How old a source's latest `time` may be at the end of the run date (dbt's source freshness):
    older than `warn_after` logs a warning, older than `error_after` fails the run."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    warn_after: str | None = Field(None, description="Older than this (`Nd` or `Nh`) logs a warning naming the source.",
                                   json_schema_extra={"pattern": _DURATION.pattern})
    error_after: str | None = Field(None, description="Older than this, or no row up to the run date, fails the run; at least `warn_after`.",
                                    json_schema_extra={"pattern": _DURATION.pattern})

    @field_validator("warn_after", "error_after")
    @classmethod
    def _duration(cls, value: str | None) -> str | None:
        if value is not None and parse_duration(value) is None:
            raise ValueError(f"a duration is a number of days or hours like '1d' or '36h', got {value!r}")
        return value

    @model_validator(mode="after")
    def _thresholds(self) -> "Freshness":
        if self.warn_after is None and self.error_after is None:
            raise ValueError("`freshness` needs `warn_after`, `error_after` or both")
        if self.warn_after and self.error_after and parse_duration(self.error_after) < parse_duration(self.warn_after):
            raise ValueError(f"error_after ({self.error_after}) must be at least warn_after ({self.warn_after})")
        return self
