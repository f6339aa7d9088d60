"""The `freshness:` setting of a source: durations it may age before a warning or a failure."""
from __future__ import annotations

from typing import Annotated

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, model_validator

from labelspark.timeutil import DURATION, parse_duration, readable_by

Duration = Annotated[str, AfterValidator(readable_by(parse_duration, "a duration is a number of days or hours like '1d' or '36h'"))]


class Freshness(BaseModel):
    """How old a source's latest `time` may be at the end of the run date (dbt's source freshness):
    older than `warn_after` logs a warning, older than `error_after` fails the run. `error_after`
    also bounds how far past the source's data a run date may be (`run --allow-stale-sources` accepts more)."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    warn_after: Duration | None = Field(None, description="Older than this (`Nd` or `Nh`) logs a warning naming the source.",
                                        json_schema_extra={"pattern": DURATION.pattern})
    error_after: Duration | None = Field(None, description="Older than this, or no row up to the run date, fails the run (exit 1); at least "
                                                     "`warn_after`. Also how far past this source's latest row a run date may be: a date "
                                                     "past every source's allowance (7d where none is set) is refused, exit 2.",
                                         json_schema_extra={"pattern": DURATION.pattern})

    @model_validator(mode="after")
    def _thresholds(self) -> "Freshness":
        if self.warn_after is None and self.error_after is None:
            raise ValueError("`freshness` needs `warn_after`, `error_after` or both")
        if self.warn_after and self.error_after and parse_duration(self.error_after) < parse_duration(self.warn_after):
            raise ValueError(f"error_after ({self.error_after}) must be at least warn_after ({self.warn_after})")
        return self
