"""The config as pydantic models: structure and per-item checks.

The label methods are in `labels.py`; checks that span items (references, rule types,
cycles) live in `checks.py`.
"""
from __future__ import annotations

from typing import Annotated, Any, Literal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import BaseModel, ConfigDict, Field, StringConstraints, field_validator, model_validator

from labelspark.config.freshness import Freshness
from labelspark.kinds import Kind
from labelspark.timeutil import parse_days

Identifier = Annotated[str, StringConstraints(pattern=r"^[a-z][a-z0-9_]*$", max_length=128)]
ColumnName = Annotated[str, StringConstraints(min_length=1)]
NonEmptyText = Annotated[str, StringConstraints(min_length=1)]


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
