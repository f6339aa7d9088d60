"""The config as pydantic models: structure and per-item checks.

Checks that span items (references, rule types, cycles) live in `checks.py`.
"""
from __future__ import annotations

import re
from typing import Annotated, Any, Literal, Union
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import BaseModel, ConfigDict, Field, GetPydanticSchema, StringConstraints, ValidationInfo, field_validator, model_validator
from pydantic.json_schema import SkipJsonSchema
from pydantic_core import core_schema

from labelspark.config.freshness import Freshness
from labelspark.kinds import Kind
from labelspark.rules.operators import BadValue, coerce_scalar
from labelspark.timeutil import parse_days

Identifier = Annotated[str, StringConstraints(pattern=r"^[a-z][a-z0-9_]*$", max_length=128)]
ColumnName = Annotated[str, StringConstraints(min_length=1)]
NonEmptyText = Annotated[str, StringConstraints(min_length=1)]

WEEKDAYS = ("MON", "TUE", "WED", "THU", "FRI", "SAT", "SUN")
_SCHEDULE = re.compile(r"^(once|daily|weekly:(MON|TUE|WED|THU|FRI|SAT|SUN)|monthly:([1-9]|[12][0-9]|3[01]))$")


def _rule_tree(name: str) -> Any:
    """A rule tree: any value to pydantic (RuleParser checks it and locates each problem), and in
    the JSON Schema a reference to `name`, the grammar `config/schema.py` defines."""
    return Annotated[Any, GetPydanticSchema(lambda _type, _handler: core_schema.any_schema(ref=name))]


RuleTree = _rule_tree("Rule")  # leaves name an indicator or a source column: `field:`
SegmentRuleTree = _rule_tree("SegmentRule")  # leaves name a label: `label:`


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class IdMap(Strict):
    """A source with columns (source_id, <entity key>) mapping every source's ids to the target id."""

    source: NonEmptyText = Field(description="The mapping source, by its name under `sources`.")


class Entity(Strict):
    """Whom labels describe: every entity found in a source gets one row per snapshot."""

    key: Identifier = Field(description="Name of the entity id column in every output table and document.")
    kind: Literal["member_id", "one_id", "phone", "openid"] = Field("member_id", description="What kind of id `key` holds (descriptive).")
    id_map: IdMap | None = Field(None, description="Map each source's ids to the entity id through a mapping source (OneID).")


class Dedupe(Strict):
    """One row per value of the `by` columns."""

    by: list[ColumnName] = Field(min_length=1, description="Columns whose equal values make rows duplicates.")
    keep: Literal["latest", "earliest"] = Field("latest", description="The row with the greatest `time` (ties: greatest row), or the least.")


CleanStepName = Literal["drop_null", "trim", "lower", "dedupe", "filter"]


class Clean(Strict):
    """Cleaning steps, applied in the order the config lists them."""

    drop_null: list[ColumnName] | None = Field(None, description="Drop rows where any of these columns is null.")
    trim: list[ColumnName] | None = Field(None, description="Strip leading and trailing whitespace (tabs too) from these columns.")
    lower: list[ColumnName] | None = Field(None, description="Lower-case these columns.")
    dedupe: Dedupe | None = Field(None, description="Keep one row per value of some columns.")
    filter: NonEmptyText | None = Field(None, description="Keep the rows where this SQL predicate holds (trusted SQL, Spark dialect).")
    order: SkipJsonSchema[tuple[CleanStepName, ...]] = ()  # the steps as the config lists them, not a key to write

    @model_validator(mode="before")
    @classmethod
    def _remember_order(cls, data: Any) -> Any:
        if isinstance(data, dict) and "order" not in data:
            data = {**data, "order": tuple(k for k in data if k in cls.model_fields and k != "order")}
        return data


class Source(Strict):
    """A table that indicators read, cut at the end of the run date by its `time`, then cleaned."""

    format: Literal["parquet", "delta", "csv", "json", "table", "jdbc"] = Field(
        description="How to read it: files need `path`, `table` needs `table`, `jdbc` needs `options`.")
    path: NonEmptyText | None = Field(None, description="File or directory of a file source: relative to the config file, or a URI.")
    table: NonEmptyText | None = Field(None, description="Metastore table `db.name` of a `table` source.")
    options: dict[str, Any] = Field(default_factory=dict, description="Spark reader options (csv: `header` is true unless set).")
    key: ColumnName = Field(description="Column holding the entity id (a source id when `entity.id_map` is set).")
    time: ColumnName | None = Field(
        None, description="Event or update time: rows after the run date are left out; windows and latest rows use it.")
    freshness: Freshness | None = Field(None, description="How old the latest `time` may be before a warning or a failed run.")
    clean: Clean = Field(default_factory=Clean, description="Cleaning steps, applied in the order written.")

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

    source: NonEmptyText | None = Field(None, description="The source to read, by its name (with `column` or `agg`).")
    column: ColumnName | None = Field(None, description="Take this column from the entity's latest row by `time` (even a null).")
    agg: Agg | None = Field(None, description="Aggregate the entity's rows (all but `count` need `of`); no rows: 0 or null.")
    of: ColumnName | None = Field(None, description="The column `agg` reads.")
    window: str | None = Field(None, description="Only rows of the N days ending with the run date: `30d` is D-29 to D. Needs `time`.",
                               json_schema_extra={"pattern": r"^[1-9][0-9]{0,4}d$"})
    where: RuleTree | None = Field(None, description="Only rows matching this rule over the source's columns.")
    expr: NonEmptyText | None = Field(None, description="Spark SQL over other indicators and `run_date` (trusted SQL, one expression).")
    type: Kind | None = Field(None, description="The value kind where `agg` or `expr` does not fix it, for `validate` to check rules.")

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
    id: Identifier = Field(description="Unique id: the label's column in the snapshot and field in documents.")
    name: str | None = Field(None, description="Display name in the portal and the catalog.")
    group: str | None = Field(None, description="Category of one or two levels, like `Demographics/Age`.",
                              json_schema_extra={"pattern": r"^[^/]+(/[^/]+)?$"})
    description: str | None = Field(None, description="Free text for the catalog and the portal.")
    type: Kind = Field(description="Kind of the label's values (a `list` holds strings).")
    schedule: str = Field("daily", description="When it is due: `daily`, `weekly:MON`..`SUN`, `monthly:1`..`31`, `once`.",
                          json_schema_extra={"pattern": _SCHEDULE.pattern})
    status: Literal["enabled", "disabled"] = Field("enabled", description="A disabled label leaves the snapshot; its history stays.")

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
    """One value of a rules label and the rule that gives it."""

    value: Any = Field(description="The value, of the label's type (a string for a list label).")
    when: RuleTree = Field(description="The rule over indicators an entity must match.")


class RulesLabel(LabelBase):
    """Values given by rules over indicators: the first value whose rule matches (`multi`: every one)."""

    method: Literal["rules"] = Field(description="The label method; it decides the other keys.")
    values: list[RuleValue] = Field(min_length=1, description="Values in order of precedence, each with its rule.")
    multi: bool = Field(False, description="Keep every matching value, in the order of `values` (with `type: list`).")
    default: Any = Field(None, description="The value when no rule matches (a list with `multi`); without it, null.")

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
    """An indicator's value as it is, like a sum or a date."""

    method: Literal["metric"] = Field(description="The label method; it decides the other keys.")
    indicator: NonEmptyText = Field(description="The indicator whose value the label holds.")
    buckets: list[float] | None = Field(default=None, min_length=1, description="Increasing edges of the ranges `label_stats` counts.")

    @model_validator(mode="after")
    def _buckets(self) -> "MetricLabel":
        if self.buckets is not None:
            if self.type != "number":
                raise ValueError("`buckets` go with `type: number`")
            if any(upper <= lower for lower, upper in zip(self.buckets, self.buckets[1:])):
                raise ValueError(f"buckets must increase strictly, got {self.buckets}")
        return self


class FirstLastLabel(LabelBase):
    """The value of a `first` or `last` indicator, like the first channel."""

    method: Literal["first_last"] = Field(description="The label method; it decides the other keys.")
    indicator: NonEmptyText = Field(description="The indicator (`agg: first` or `last`) whose value the label holds.")


class PreferenceLabel(LabelBase):
    """The value of a `mode` indicator: the most frequent one, like a favourite category."""

    method: Literal["preference"] = Field(description="The label method; it decides the other keys.")
    indicator: NonEmptyText = Field(description="The indicator (`agg: mode`) whose value the label holds.")


class DistributionLabel(LabelBase):
    """Tiers by population quantiles: the first tier whose quantile an entity's value does not exceed."""

    method: Literal["distribution"] = Field(description="The label method; it decides the other keys.")
    indicator: NonEmptyText = Field(description="The number indicator whose quantiles make the tiers (nulls stay null).")
    tiers: dict[NonEmptyText, float] = Field(min_length=1, description="Tier name to quantile, increasing within (0, 1]: `{low: 0.5, high: 1}`.")

    @model_validator(mode="after")
    def _tiers(self) -> "DistributionLabel":
        if self.type != "string":
            raise ValueError("a distribution label has `type: string` (its values are tier names)")
        qs = list(self.tiers.values())
        if any(not 0 < q <= 1 for q in qs) or any(b <= a for a, b in zip(qs, qs[1:])):
            raise ValueError(f"tier quantiles increase strictly within (0, 1], got {self.tiers}")
        return self


class ImportLabel(LabelBase):
    """Values read from a file of (id, value) rows; ids that are no entity are counted and ignored."""

    method: Literal["import"] = Field(description="The label method; it decides the other keys.")
    path: NonEmptyText = Field(description="The file or directory: relative to the config file, or a URI.")
    format: Literal["csv", "parquet", "json"] | None = Field(None, description="File format; default: the path's extension, else csv.")
    options: dict[str, Any] = Field(default_factory=dict, description="Spark reader options (csv: `header` defaults to true).")
    key: ColumnName = Field(description="The file's column of entity ids.")
    value: ColumnName = Field(description="The file's column of values, of the label's type.")

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
    """A named group of entities whose labels match a rule; its members go to `segment_members`."""

    id: Identifier = Field(description="Unique id of the segment.")
    name: str | None = Field(None, description="Display name.")
    description: str | None = Field(None, description="Free text.")
    when: SegmentRuleTree = Field(description="The rule over enabled labels (leaves name `label:`) its members match.")


class ElasticsearchOutput(Strict):
    """Publishing to Elasticsearch or OpenSearch: an index per snapshot, then the alias moves to it."""

    nodes: NonEmptyText | list[NonEmptyText] = Field(description="Node URLs (http:// or https://): one, comma-separated, or a list.")
    alias: Identifier = Field(description="The alias readers query; indices are named `<alias>-<yyyymmdd>-<run id>`.")
    writer: Literal["auto", "es-hadoop", "python"] = Field(
        "auto", description="`python`: bulk requests from the executors; `es-hadoop`: Elastic's connector; `auto`: es-hadoop if it can.")
    retention: int = Field(default=2, ge=1, description="Indices of the alias kept after a publish, the new one included.")
    username_env: str | None = Field(None, description="Environment variable holding the user name (with `password_env`).")
    password_env: str | None = Field(None, description="Environment variable holding the password.")
    api_key_env: str | None = Field(None, description="Environment variable holding an API key (instead of user and password).")
    ca_path: str | None = Field(None, description="CA certificate file that verifies TLS (es-hadoop: a JVM truststore).")
    verify_certs: bool = Field(True, description="`false` turns TLS certificate verification off.")


class CallbackOutput(Strict):
    """A POST of each run's outcome as JSON, retried with backoff; its failure never undoes the data."""

    url: NonEmptyText = Field(description="Where to POST `{name, run_id, snapshot_date, status, labels, rows, index, error}`.")
    secret_env: str | None = Field(None, description="Environment variable holding the secret that signs the body (HMAC-SHA256).")
    timeout_seconds: float = Field(default=10.0, gt=0, description="Timeout of each attempt, in seconds.")


class Outputs(Strict):
    """Where results go: the Delta tables, and optionally a search index, a callback and the label portal."""

    warehouse: NonEmptyText = Field(description="Root of the Delta tables: relative to the config file, or a URI.")
    elasticsearch: ElasticsearchOutput | None = Field(None, description="Publish each snapshot to Elasticsearch or OpenSearch.")
    callback: CallbackOutput | None = Field(None, description="Tell another system when a run ends.")
    site: NonEmptyText | None = Field(None, description="Directory of the label portal, rebuilt after each successful run.")


class Header(Strict):
    """The top-level scalars; the sections are parsed item by item so one bad item hides no other."""

    version: Literal[1] = Field(description="Version of the config format: 1.")
    name: Identifier = Field(description="Project name, shown in logs, the portal and the callback.")
    timezone: NonEmptyText = Field("UTC", description="IANA zone of business dates, like `Asia/Shanghai`: a run date ends at its midnight.")

    @field_validator("timezone")
    @classmethod
    def _timezone(cls, value: str) -> str:
        try:
            ZoneInfo(value)
        except (ZoneInfoNotFoundError, ValueError, OSError):  # OSError: a name like 'Asia' is a directory
            raise ValueError(f"unknown timezone {value!r} (use an IANA name like 'Asia/Shanghai')") from None
        return value
