"""The config as pydantic models: structure and per-item checks.

The label methods are in `labels.py`; checks that span items (references, rule types,
cycles) live in `checks.py`.
"""
from __future__ import annotations

from typing import Annotated, Any, Literal
from urllib.parse import urlsplit
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, GetPydanticSchema, StringConstraints, field_validator, model_validator
from pydantic.json_schema import SkipJsonSchema
from pydantic_core import core_schema

from labelspark.config.freshness import Freshness
from labelspark.kinds import Kind
from labelspark.timeutil import parse_days, readable_by

Identifier = Annotated[str, StringConstraints(pattern=r"^[a-z][a-z0-9_]*$", max_length=128)]
ColumnName = Annotated[str, StringConstraints(min_length=1)]
NonEmptyText = Annotated[str, StringConstraints(min_length=1)]
Window = Annotated[str, AfterValidator(readable_by(parse_days, "a window is a number of days like '30d'"))]


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
    options_env: dict[NonEmptyText, NonEmptyText] = Field(
        default_factory=dict, description="Reader options read from environment variables at run time, option -> variable "
        "(`password: PG_PASSWORD`): secrets stay out of the YAML.")
    key: ColumnName = Field(description="Column holding the entity id (a source id when `entity.id_map` is set).")
    time: ColumnName | None = Field(
        None, description="Event or update time: rows after the run date are left out; windows and latest rows use it.")
    freshness: Freshness | None = Field(None, description="How old the latest `time` may be before a warning or a failed run. Without it, "
                                        "a run date more than 7d past the latest row of every source is still refused.")
    clean: Clean = Field(default_factory=Clean, description="Cleaning steps, applied in the order written.")
    incremental: bool = Field(False, description="Keep per-day partial aggregates (tiles) and merge them, instead of reading every "
                              "row each day: for sources with many rows per entity and day (event logs); `labelspark plan` says "
                              "where a source cannot (no `time`, `dedupe`, `entity.id_map`).")
    tiles_from_rows: int = Field(1_000_000, ge=0, description="A source with fewer rows up to the run date takes the full pass "
                                 "until it has tiles: reading it costs less than keeping them (0: tiles from the first row).")
    lookback: Window = Field("3d", description="Each run tiles again the N days ending with the run date, taking rows that arrived "
                             "late for them; later rows are reported and wait for `retile` or `run --full`.",
                             json_schema_extra={"pattern": r"^[1-9][0-9]{0,4}d$"})
    stream: bool = Field(False, description="Read this source's new rows as they arrive for `realtime` labels (`labelspark stream`, "
                         "classic Spark): a Delta table or a folder of parquet, csv or json files.")

    @property
    def lookback_days(self) -> int:
        return parse_days(self.lookback)

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
        elif "url" not in self.options.keys() | self.options_env.keys() or not ({"dbtable", "query"} & set(self.options)):
            raise ValueError("a jdbc source needs `options` with `url` (or `options_env` naming it) and `dbtable` or `query`")
        if both := sorted(self.options.keys() & self.options_env.keys()):
            raise ValueError(f"option {', '.join(both)} is set in `options` and in `options_env`: keep one")
        return self


Agg = Literal["count", "count_distinct", "sum", "avg", "min", "max", "first", "last", "mode", "collect_set"]
_AGG_KIND: dict[str, Kind] = {"count": "number", "count_distinct": "number", "sum": "number", "avg": "number", "collect_set": "list"}


class Indicator(Strict):
    """One value per entity: a column's latest value, an aggregate, or an expression."""

    source: NonEmptyText | None = Field(None, description="The source to read, by its name (with `column` or `agg`).")
    column: ColumnName | None = Field(None, description="Take this column from the entity's latest row by `time` (even a null).")
    agg: Agg | None = Field(None, description="Aggregate the entity's rows (all but `count` need `of`); no rows: 0 or null.")
    of: ColumnName | None = Field(None, description="The column `agg` reads.")
    window: Window | None = Field(None, description="Only rows of the N days ending with the run date: `30d` is D-29 to D. Needs `time`.",
                                  json_schema_extra={"pattern": r"^[1-9][0-9]{0,4}d$"})
    where: RuleTree | None = Field(None, description="Only rows matching this rule over the source's columns.")
    expr: NonEmptyText | None = Field(None, description="Spark SQL over other indicators and `run_date` (trusted SQL, one expression).")
    type: Kind | None = Field(None, description="The value kind where `agg` or `expr` does not fix it, for `validate` to check rules.")

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
    bulk_size: int | None = Field(
        None, ge=1, description="Documents per bulk request (default: 500 with `python`, 1000 with `es-hadoop`).")
    username_env: str | None = Field(None, description="Environment variable holding the user name (with `password_env`).")
    password_env: str | None = Field(None, description="Environment variable holding the password.")
    api_key_env: str | None = Field(None, description="Environment variable holding an API key (instead of user and password).")
    ca_path: str | None = Field(None, description="CA certificate file that verifies TLS (es-hadoop: a JVM truststore).")
    verify_certs: bool = Field(True, description="`false` turns TLS certificate verification off.")

    @field_validator("nodes")
    @classmethod
    def _node_urls(cls, value: str | list[str]) -> str | list[str]:
        """Checked here so `validate` says it, not a publish an hour into the run (no URL is
        echoed: it may carry user:password@)."""
        nodes = node_urls(value)
        if not nodes:
            raise ValueError("no node URL given")
        for i, node in enumerate(nodes):
            if urlsplit(node).scheme not in ("http", "https"):
                raise ValueError(f"node {i + 1} of {len(nodes)} needs http:// or https://")
        return value

    @property
    def node_urls(self) -> list[str]:
        """The node URLs `nodes` lists, without a trailing slash."""
        return node_urls(self.nodes)

    @model_validator(mode="after")
    def _one_way_to_sign_in(self) -> "ElasticsearchOutput":
        if (self.username_env is None) != (self.password_env is None):
            raise ValueError("set both username_env and password_env, or neither")
        if self.api_key_env is not None and self.username_env is not None:
            raise ValueError("set api_key_env or username_env/password_env, not both")
        return self


def node_urls(value: str | list[str]) -> list[str]:
    """The node URLs of `nodes` (one, comma-separated, or a list), stripped, without a trailing slash."""
    items = value if isinstance(value, list) else value.split(",")
    return [item.strip().rstrip("/") for item in items if item.strip()]


class ClickHouseOutput(Strict):
    """Publishing to ClickHouse: a table per snapshot, then the name readers query (a view) moves to it."""

    url: NonEmptyText = Field(description="The server's HTTP interface, like `http://clickhouse:8123`.")
    database: Identifier = Field("default", description="Database of the tables and the view; created if missing.")
    table: Identifier = Field(description="The view readers query; tables are named `<table>_<yyyymmdd>_<run id>`.")
    retention: int = Field(default=2, ge=1, description="Tables of the view kept after a publish, the new one included.")
    insert_rows: int = Field(default=100_000, ge=1, description="Rows per INSERT request from each partition.")
    username_env: str | None = Field(None, description="Environment variable holding the user name (with `password_env`).")
    password_env: str | None = Field(None, description="Environment variable holding the password.")
    ca_path: str | None = Field(None, description="CA certificate file that verifies TLS.")
    verify_certs: bool = Field(True, description="`false` turns TLS certificate verification off.")

    @field_validator("url")
    @classmethod
    def _http_url(cls, value: str) -> str:
        """Checked here so `validate` says it (the URL is not echoed: it may carry user:password@)."""
        if urlsplit(value).scheme not in ("http", "https"):
            raise ValueError("the URL needs http:// or https:// (ClickHouse's HTTP interface, port 8123 by default)")
        return value.rstrip("/")

    @model_validator(mode="after")
    def _both_or_neither(self) -> "ClickHouseOutput":
        if (self.username_env is None) != (self.password_env is None):
            raise ValueError("set both username_env and password_env, or neither")
        return self


class CallbackOutput(Strict):
    """A POST of each run's outcome as JSON, retried with backoff; its failure never undoes the data."""

    url: NonEmptyText = Field(description="Where to POST `{name, run_id, snapshot_date, status, labels, rows, index, error}`.")
    secret_env: str | None = Field(None, description="Environment variable holding the secret that signs the body (HMAC-SHA256).")
    timeout_seconds: float = Field(default=10.0, gt=0, description="Timeout of each attempt, in seconds.")


class Outputs(Strict):
    """Where results go: the Delta tables, and optionally a search index, ClickHouse, a callback and the label portal."""

    warehouse: NonEmptyText = Field(description="Root of the Delta tables: relative to the config file, or a URI.")
    elasticsearch: ElasticsearchOutput | None = Field(None, description="Publish each snapshot to Elasticsearch or OpenSearch.")
    clickhouse: ClickHouseOutput | None = Field(None, description="Publish each snapshot to ClickHouse, for selection in SQL.")
    callback: CallbackOutput | None = Field(None, description="Tell another system when a run ends.")
    site: NonEmptyText | None = Field(None, description="Directory of the label portal, rebuilt after each successful run.")

    @property
    def publishes(self) -> bool:
        """Whether a run publishes the snapshot anywhere beyond the warehouse."""
        return self.elasticsearch is not None or self.clickhouse is not None


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
