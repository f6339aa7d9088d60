"""The label methods as pydantic models, each with the facts the package asks of a method:
the indicators it reads, the values it can take, the kind it needs of its indicator, and
its settings in words. No Spark here: each method's Column and stats builders are in
`labelspark.compute.methods`, one table that a test checks against the `Label` union below.
"""
from __future__ import annotations

import datetime as dt
import functools
import json
from typing import Annotated, Any, ClassVar, Literal, Union

from pydantic import Field, SerializerFunctionWrapHandler, ValidationInfo, field_validator, model_serializer, model_validator

from labelspark.config.models import ColumnName, Identifier, NonEmptyText, RuleTree, Strict
from labelspark.config.schedule import PATTERN as SCHEDULE_PATTERN, Schedule
from labelspark.kinds import Kind
from labelspark.rules import Node, leaves
from labelspark.rules.operators import BadValue, coerce_scalar


class RuleValue(Strict):
    """One value of a rules label and the rule that gives it."""

    value: Any = Field(description="The value, of the label's type (a string for a list label).")
    when: RuleTree = Field(description="The rule over indicators an entity must match.")


class LabelBase(Strict):
    id: Identifier = Field(description="Unique id: the label's column in the snapshot and field in documents.")
    name: str | None = Field(None, description="Display name in the portal and the catalog.")
    group: str | None = Field(None, description="Category of one or two levels, like `Demographics/Age`.",
                              json_schema_extra={"pattern": r"^[^/]+(/[^/]+)?$"})
    description: str | None = Field(None, description="Free text for the catalog and the portal.")
    type: Kind = Field(description="Kind of the label's values (a `list` holds strings).")
    schedule: str = Field("daily", description="When it is due: `daily`, `weekly:MON`..`SUN`, `monthly:1`..`31`, `once`.",
                          json_schema_extra={"pattern": SCHEDULE_PATTERN.pattern})
    status: Literal["enabled", "disabled"] = Field("enabled", description="A disabled label leaves the snapshot; its history stays.")
    realtime: bool = Field(False, description="Update this label within seconds of a `stream: true` source's new rows "
                           "(`labelspark stream`); the nightly run still computes it, and its values win. Daily labels "
                           "that read such a source, and not `distribution` or `import`.")

    display_name: ClassVar[str]  # the method as the label portal names it
    imported: ClassVar[bool] = False  # values read from a file, not computed from indicators

    @field_validator("group")
    @classmethod
    def _group(cls, value: str | None) -> str | None:
        if value is not None and (len(value.split("/")) > 2 or any(not part.strip() for part in value.split("/"))):
            raise ValueError(f"a group has one or two non-empty levels like 'Demographics/Age', got {value!r}")
        return value

    @field_validator("schedule")
    @classmethod
    def _schedule(cls, value: str) -> str:
        Schedule.parse(value)  # a ValueError names the forms
        return value

    @model_serializer(mode="wrap")
    def _batch_labels_as_before(self, dump: SerializerFunctionWrapHandler) -> dict:
        """`realtime: false` is left out, so that a batch label's definition, and its hash in `label_catalog`, stay as they were."""
        data = dump(self)
        if not self.realtime:
            data.pop("realtime", None)
        return data

    @functools.cached_property
    def due_schedule(self) -> Schedule:
        """`schedule` parsed: asked whether the label is due on a date and to describe itself."""
        return Schedule.parse(self.schedule)

    @property
    def enabled(self) -> bool:
        return self.status == "enabled"

    @property
    def rules(self) -> tuple[RuleValue, ...]:
        """The values the label chooses by rules, each with its rule (`values` of a rules label)."""
        return ()

    def direct_inputs(self, trees: tuple[Node, ...]) -> tuple[str, ...]:
        """The indicators the label reads itself (not through `expr` indicators), in order;
        `trees` are its parsed rules (`Project.label_rules`), which only a rules label has."""
        return ()

    @property
    def wanted_kind(self) -> Kind | None:
        """The kind the label needs of its `indicator`; None: it reads no single indicator."""
        return None

    @property
    def known_values(self) -> list | None:
        """The values the label can take, when the config says (rules and their default, tiers,
        booleans); None where the data decides."""
        return [True, False] if self.type == "boolean" else None

    @property
    def bucketed(self) -> bool:
        """Whether counts group the values into `buckets` (a metric's number ranges)."""
        return False

    @property
    def quantiles(self) -> tuple[float, ...]:
        """The population quantiles of its `indicator` the label needs (distribution tiers)."""
        return ()

    def described(self) -> list[tuple[str, str]]:
        """The method's settings as (what, how) lines in words, for the label portal."""
        return []


class RulesLabel(LabelBase):
    """Values given by rules over indicators: the first value whose rule matches (`multi`: every one)."""

    method: Literal["rules"] = Field(description="The label method; it decides the other keys.")
    values: list[RuleValue] = Field(min_length=1, description="Values in order of precedence, each with its rule.")
    multi: bool = Field(False, description="Keep every matching value, in the order of `values` (with `type: list`).")
    default: Any = Field(None, description="The value when no rule matches (a list with `multi`); without it, null.")

    display_name: ClassVar[str] = "Rules"

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

    @property
    def rules(self) -> tuple[RuleValue, ...]:
        return tuple(self.values)

    def direct_inputs(self, trees: tuple[Node, ...]) -> tuple[str, ...]:
        return tuple(dict.fromkeys(leaf.ref for tree in trees for leaf in leaves(tree)))

    @property
    def known_values(self) -> list | None:
        if self.type == "boolean":
            return super().known_values
        return list(dict.fromkeys([*(v.value for v in self.values), *self.default_values]))

    def described(self) -> list[tuple[str, str]]:
        """The portal's words for `multi` and `default`: what an entity gets when no rule matches."""
        otherwise = "null" if self.default is None else _shown(self.default)
        if self.multi:
            return [("Several values", f"every value whose rule matches, in this order ({otherwise} when none does)")]
        return [("When no rule matches", otherwise)]


def _shown(value: Any) -> str:
    """A value as the portal shows rule values: text and dates as they are, anything else as JSON (true, 0.5, ["a"])."""
    return str(value) if isinstance(value, (str, dt.date)) else json.dumps(value, ensure_ascii=False)


class IndicatorLabel(LabelBase):
    """A label whose value comes from one indicator."""

    indicator: NonEmptyText = Field(description="The indicator whose value the label holds.")

    def direct_inputs(self, trees: tuple[Node, ...]) -> tuple[str, ...]:
        return (self.indicator,)

    @property
    def wanted_kind(self) -> Kind | None:
        return self.type

    def described(self) -> list[tuple[str, str]]:
        return [("Indicator", self.indicator)]


class MetricLabel(IndicatorLabel):
    """An indicator's value as it is, like a sum or a date."""

    method: Literal["metric"] = Field(description="The label method; it decides the other keys.")
    buckets: list[float] | None = Field(default=None, min_length=1, description="Increasing edges of the ranges `label_stats` counts.")

    display_name: ClassVar[str] = "Metric"

    @model_validator(mode="after")
    def _buckets(self) -> "MetricLabel":
        if self.buckets is not None:
            if self.type != "number":
                raise ValueError("`buckets` go with `type: number`")
            if any(upper <= lower for lower, upper in zip(self.buckets, self.buckets[1:])):
                raise ValueError(f"buckets must increase strictly, got {self.buckets}")
        return self

    @property
    def bucketed(self) -> bool:
        return bool(self.buckets)

    def described(self) -> list[tuple[str, str]]:
        shown = [("Shown in buckets", ", ".join(f"{edge:g}" for edge in self.buckets))] if self.buckets else []
        return super().described() + shown


class FirstLastLabel(IndicatorLabel):
    """The value of a `first` or `last` indicator, like the first channel."""

    method: Literal["first_last"] = Field(description="The label method; it decides the other keys.")
    indicator: NonEmptyText = Field(description="The indicator (`agg: first` or `last`) whose value the label holds.")

    display_name: ClassVar[str] = "First / last value"


class PreferenceLabel(IndicatorLabel):
    """The value of a `mode` indicator: the most frequent one, like a favourite category."""

    method: Literal["preference"] = Field(description="The label method; it decides the other keys.")
    indicator: NonEmptyText = Field(description="The indicator (`agg: mode`) whose value the label holds.")

    display_name: ClassVar[str] = "Preference"


class DistributionLabel(IndicatorLabel):
    """Tiers by population quantiles: the first tier whose quantile an entity's value does not exceed."""

    method: Literal["distribution"] = Field(description="The label method; it decides the other keys.")
    indicator: NonEmptyText = Field(description="The number indicator whose quantiles make the tiers (nulls stay null).")
    tiers: dict[NonEmptyText, float] = Field(min_length=1, description="Tier name to quantile, increasing within (0, 1]: `{low: 0.5, high: 1}`.")

    display_name: ClassVar[str] = "Distribution tiers"

    @model_validator(mode="after")
    def _tiers(self) -> "DistributionLabel":
        if self.type != "string":
            raise ValueError("a distribution label has `type: string` (its values are tier names)")
        qs = list(self.tiers.values())
        if any(not 0 < q <= 1 for q in qs) or any(b <= a for a, b in zip(qs, qs[1:])):
            raise ValueError(f"tier quantiles increase strictly within (0, 1], got {self.tiers}")
        return self

    @property
    def wanted_kind(self) -> Kind | None:
        return "number"  # its values are tier names; the quantiles are of a number

    @property
    def known_values(self) -> list | None:
        return list(self.tiers)

    @property
    def quantiles(self) -> tuple[float, ...]:
        return tuple(self.tiers.values())

    def described(self) -> list[tuple[str, str]]:
        return super().described() + [(name, f"up to the {q:.0%} quantile of {self.indicator}") for name, q in self.tiers.items()]


class ImportLabel(LabelBase):
    """Values read from a file of (id, value) rows; ids that are no entity are counted and ignored."""

    method: Literal["import"] = Field(description="The label method; it decides the other keys.")
    path: NonEmptyText = Field(description="The file or directory: relative to the config file, or a URI.")
    format: Literal["csv", "parquet", "json"] | None = Field(None, description="File format; default: the path's extension, else csv.")
    options: dict[str, Any] = Field(default_factory=dict, description="Spark reader options (csv: `header` defaults to true).")
    key: ColumnName = Field(description="The file's column of entity ids.")
    value: ColumnName = Field(description="The file's column of values, of the label's type.")

    display_name: ClassVar[str] = "Imported file"
    imported: ClassVar[bool] = True

    @field_validator("type")
    @classmethod
    def _one_value(cls, value: Kind) -> Kind:
        if value == "list":
            raise ValueError("an import label holds one value per entity, not a list")
        return value

    @property
    def file_format(self) -> str:
        if self.format:
            return self.format
        suffix = self.path.rsplit(".", 1)[-1].lower()
        return suffix if suffix in ("parquet", "json") else "csv"

    def described(self) -> list[tuple[str, str]]:
        return [("File", self.path), ("Entity column", self.key), ("Value column", self.value)]


Label = Annotated[
    Union[RulesLabel, MetricLabel, FirstLastLabel, PreferenceLabel, DistributionLabel, ImportLabel],
    Field(discriminator="method"),
]
