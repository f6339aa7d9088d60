"""The config as pydantic models: structure and per-item checks.

Checks that span items (references, rule types, cycles) live in `checks.py`.
"""
from __future__ import annotations

import re
from typing import Annotated, Any, Literal, Union
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import BaseModel, ConfigDict, Field, StringConstraints, ValidationInfo, field_validator, model_validator

from labelspark.config.freshness import Freshness
from labelspark.kinds import Kind
from labelspark.rules.operators import BadValue, coerce_scalar
from labelspark.timeutil import parse_days

Identifier = Annotated[str, StringConstraints(pattern=r"^[a-z][a-z0-9_]*$", max_length=128)]
ColumnName = Annotated[str, StringConstraints(min_length=1)]
NonEmptyText = Annotated[str, StringConstraints(min_length=1)]

WEEKDAYS = ("MON", "TUE", "WED", "THU", "FRI", "SAT", "SUN")
_SCHEDULE = re.compile(r"^(once|daily|weekly:(MON|TUE|WED|THU|FRI|SAT|SUN)|monthly:([1-9]|[12][0-9]|3[01]))$")


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class IdMap(Strict):
    """A source with columns (source_id, <entity key>) mapping every source's ids to the target id."""

    source: NonEmptyText


class Entity(Strict):
    key: Identifier
    kind: Literal["member_id", "one_id", "phone", "openid"] = "member_id"
    id_map: IdMap | None = None


class Dedupe(Strict):
    by: list[ColumnName] = Field(min_length=1)
    keep: Literal["latest", "earliest"] = "latest"


CleanStepName = Literal["drop_null", "trim", "lower", "dedupe", "filter"]


class Clean(Strict):
    """Cleaning steps, applied in the order the config lists them."""

    drop_null: list[ColumnName] | None = None
    trim: list[ColumnName] | None = None
    lower: list[ColumnName] | None = None
    dedupe: Dedupe | None = None
    filter: NonEmptyText | None = None
    order: tuple[CleanStepName, ...] = ()

    @model_validator(mode="before")
    @classmethod
    def _remember_order(cls, data: Any) -> Any:
        if isinstance(data, dict) and "order" not in data:
            data = {**data, "order": tuple(k for k in data if k in cls.model_fields and k != "order")}
        return data


class Source(Strict):
    format: Literal["parquet", "delta", "csv", "json", "table", "jdbc"]
    path: NonEmptyText | None = None
    table: NonEmptyText | None = None
    options: dict[str, Any] = Field(default_factory=dict)
    key: ColumnName
    time: ColumnName | None = None
    freshness: Freshness | None = None
    clean: Clean = Field(default_factory=Clean)

    @model_validator(mode="after")
    def _freshness_of_time(self) -> "Source":
        if self.freshness is not None and self.time is None:
            raise ValueError("`freshness` is judged on the latest `time`: the source needs a `time` column")
        return self

    @model_validator(mode="after")
    def _location(self) -> "Source":
        if self.format in ("parquet", "delta", "csv", "json"):
            if not self.path or self.table:
                raise ValueError(f"a {self.format} source needs `path` (and no `table`)")
        elif self.format == "table":
            if not self.table or self.path:
                raise ValueError("a table source needs `table: db.name` (and no `path`)")
        elif "url" not in self.options or not ({"dbtable", "query"} & set(self.options)):
            raise ValueError("a jdbc source needs `options` with `url` and `dbtable` or `query`")
        return self


Agg = Literal["count", "count_distinct", "sum", "avg", "min", "max", "first", "last", "mode", "collect_set"]
_AGG_KIND: dict[str, Kind] = {"count": "number", "count_distinct": "number", "sum": "number", "avg": "number", "collect_set": "list"}


class Indicator(Strict):
    """One value per entity: a column's latest value, an aggregate, or an expression."""

    source: NonEmptyText | None = None
    column: ColumnName | None = None
    agg: Agg | None = None
    of: ColumnName | None = None
    window: str | None = None
    where: Any = None
    expr: NonEmptyText | None = None
    type: Kind | None = None

    @field_validator("window")
    @classmethod
    def _window(cls, value: str | None) -> str | None:
        if value is not None and parse_days(value) is None:
            raise ValueError(f"a window is a number of days like '30d', got {value!r}")
        return value

    @model_validator(mode="after")
    def _form(self) -> "Indicator":
        if self.expr is not None:
            extra = [k for k in ("source", "column", "agg", "of", "window", "where") if getattr(self, k) is not None]
            if extra:
                raise ValueError(f"an `expr` indicator takes no {', '.join(extra)}")
            return self
        if self.source is None:
            raise ValueError("an indicator needs `source` (with `column` or `agg`) or `expr`")
        if (self.column is None) == (self.agg is None):
            raise ValueError("an indicator over a source takes exactly one of `column` or `agg`")
        if self.column is not None and self.of is not None:
            raise ValueError("`of` goes with `agg`; a `column` indicator takes the latest row's value")
        if self.agg not in (None, "count") and self.of is None:
            raise ValueError(f"agg '{self.agg}' needs `of: <column>`")
        return self

    @property
    def window_days(self) -> int | None:
        return parse_days(self.window) if self.window else None

    @property
    def static_kind(self) -> Kind | None:
        """The kind known before reading data: declared, or implied by the aggregate."""
        return self.type or _AGG_KIND.get(self.agg or "")


class LabelBase(Strict):
    id: Identifier
    name: str | None = None
    group: str | None = None
    description: str | None = None
    type: Kind
    schedule: str = "daily"
    status: Literal["enabled", "disabled"] = "enabled"

    @field_validator("group")
    @classmethod
    def _group(cls, value: str | None) -> str | None:
        if value is not None and (len(value.split("/")) > 2 or any(not part.strip() for part in value.split("/"))):
            raise ValueError(f"a group has one or two non-empty levels like 'Demographics/Age', got {value!r}")
        return value

    @field_validator("schedule")
    @classmethod
    def _schedule(cls, value: str) -> str:
        if not _SCHEDULE.match(value):
            raise ValueError(f"schedule is once, daily, weekly:MON..SUN or monthly:1..31, got {value!r}")
        return value

    @property
    def enabled(self) -> bool:
        return self.status == "enabled"

    @property
    def indicators_used(self) -> tuple[str, ...]:
        indicator = getattr(self, "indicator", None)
        return (indicator,) if indicator else ()


class RuleValue(Strict):
    value: Any
    when: Any


class RulesLabel(LabelBase):
    method: Literal["rules"]
    values: list[RuleValue] = Field(min_length=1)
    multi: bool = False
    default: Any = None  # the value when no rule matches (a list of values with `multi`); null without it

    @model_validator(mode="after")
    def _multi(self) -> "RulesLabel":
        if self.multi != (self.type == "list"):
            raise ValueError("`multi: true` goes with `type: list`, and a list label needs `multi: true`")
        return self

    @field_validator("default")
    @classmethod
    def _default(cls, value: Any, info: ValidationInfo) -> Any:
        """Typed like the rules' values: a value of the label's type, or for a list a list of strings."""
        label_type = info.data.get("type")
        if value is None or label_type is None:
            return value
        if label_type == "list" and not isinstance(value, list):
            raise ValueError(f"the default of a list label is a list of values, got {value!r}")
        try:
            for item in value if label_type == "list" else [value]:
                coerce_scalar(item, "string" if label_type == "list" else label_type, text=False)
        except BadValue as exc:
            raise ValueError(f"label of type {label_type}: {exc}") from None
        return value

    @property
    def default_values(self) -> list:
        """The values an entity gets when no rule matches (none: it gets null)."""
        if self.default is None:
            return []
        return list(self.default) if self.type == "list" else [self.default]


class MetricLabel(LabelBase):
    method: Literal["metric"]
    indicator: NonEmptyText
    buckets: list[float] | None = Field(default=None, min_length=1)

    @model_validator(mode="after")
    def _buckets(self) -> "MetricLabel":
        if self.buckets is not None:
            if self.type != "number":
                raise ValueError("`buckets` go with `type: number`")
            if any(upper <= lower for lower, upper in zip(self.buckets, self.buckets[1:])):
                raise ValueError(f"buckets must increase strictly, got {self.buckets}")
        return self


class FirstLastLabel(LabelBase):
    method: Literal["first_last"]
    indicator: NonEmptyText


class PreferenceLabel(LabelBase):
    method: Literal["preference"]
    indicator: NonEmptyText


class DistributionLabel(LabelBase):
    method: Literal["distribution"]
    indicator: NonEmptyText
    tiers: dict[NonEmptyText, float] = Field(min_length=1)

    @model_validator(mode="after")
    def _tiers(self) -> "DistributionLabel":
        if self.type != "string":
            raise ValueError("a distribution label has `type: string` (its values are tier names)")
        qs = list(self.tiers.values())
        if any(not 0 < q <= 1 for q in qs) or any(b <= a for a, b in zip(qs, qs[1:])):
            raise ValueError(f"tier quantiles increase strictly within (0, 1], got {self.tiers}")
        return self


class ImportLabel(LabelBase):
    method: Literal["import"]
    path: NonEmptyText
    format: Literal["csv", "parquet", "json"] | None = None
    options: dict[str, Any] = Field(default_factory=dict)
    key: ColumnName
    value: ColumnName

    @property
    def file_format(self) -> str:
        if self.format:
            return self.format
        suffix = self.path.rsplit(".", 1)[-1].lower()
        return suffix if suffix in ("parquet", "json") else "csv"


Label = Annotated[
    Union[RulesLabel, MetricLabel, FirstLastLabel, PreferenceLabel, DistributionLabel, ImportLabel],
    Field(discriminator="method"),
]


class Segment(Strict):
    id: Identifier
    name: str | None = None
    description: str | None = None
    when: Any


class ElasticsearchOutput(Strict):
    nodes: NonEmptyText | list[NonEmptyText]
    alias: Identifier
    writer: Literal["auto", "es-hadoop", "python"] = "auto"
    retention: int = Field(default=2, ge=1)
    username_env: str | None = None
    password_env: str | None = None
    api_key_env: str | None = None
    ca_path: str | None = None
    verify_certs: bool = True


class CallbackOutput(Strict):
    url: NonEmptyText
    secret_env: str | None = None
    timeout_seconds: float = Field(default=10.0, gt=0)


class Outputs(Strict):
    warehouse: NonEmptyText
    elasticsearch: ElasticsearchOutput | None = None
    callback: CallbackOutput | None = None
    site: NonEmptyText | None = None  # directory of the label portal, rebuilt after each successful run


class Header(Strict):
    """The top-level scalars; the sections are parsed item by item so one bad item hides no other."""

    version: Literal[1]
    name: Identifier
    timezone: NonEmptyText = "UTC"

    @field_validator("timezone")
    @classmethod
    def _timezone(cls, value: str) -> str:
        try:
            ZoneInfo(value)
        except (ZoneInfoNotFoundError, ValueError, OSError):  # OSError: a name like 'Asia' is a directory
            raise ValueError(f"unknown timezone {value!r} (use an IANA name like 'Asia/Shanghai')") from None
        return value
