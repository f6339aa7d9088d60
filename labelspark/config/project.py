"""Loading a config file into a validated `Project`, with every problem located."""
from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Mapping

from pydantic import TypeAdapter

from labelspark.config import checks
from labelspark.config.expr_kinds import expression_kind
from labelspark.config.labels import Label
from labelspark.config.models import Entity, Header, Indicator, Outputs, Segment, Source
from labelspark.config.sections import Parsed, SectionParser
from labelspark.config.yaml_source import Locator, load_yaml
from labelspark.errors import ConfigError, Problem, UnknownReference
from labelspark.kinds import Kind
from labelspark.rules import Node, leaves

SECTIONS = ("version", "name", "timezone", "entity", "sources", "indicators", "labels", "segments", "outputs")
_LABEL = TypeAdapter(Label)


@dataclass(frozen=True)
class Project:
    """A validated config: its models, parsed rule trees, and where each part stands in the file."""

    file: Path
    name: str
    timezone: str
    entity: Entity
    sources: Mapping[str, Source]
    indicators: Mapping[str, Indicator]
    labels: tuple  # of Label models, in config order
    segments: tuple[Segment, ...]
    outputs: Outputs
    label_rules: Mapping[str, tuple[Node, ...]]  # rules label id -> one tree per value
    segment_rules: Mapping[str, Node]
    where_rules: Mapping[str, Node]  # indicator name -> its `where`
    expression_order: tuple[str, ...]  # `expr` indicators, dependencies first
    expression_inputs: Mapping[str, frozenset[str]]  # `expr` indicator -> indicators it reads
    locator: Locator = field(default_factory=Locator, repr=False)

    @property
    def key(self) -> str:
        return self.entity.key

    def label(self, label_id: str):
        """The label with this id, enabled or not; an unknown id is an UnknownReference naming the closest."""
        for label in self.labels:
            if label.id == label_id:
                return label
        raise UnknownReference.among("label", label_id, (label.id for label in self.labels))

    def segment(self, segment_id: str) -> Segment:
        """The segment with this id; an unknown id is an UnknownReference naming the closest."""
        for segment in self.segments:
            if segment.id == segment_id:
                return segment
        raise UnknownReference.among("segment", segment_id, (segment.id for segment in self.segments))

    @property
    def enabled_labels(self) -> tuple:
        return tuple(label for label in self.labels if label.enabled)

    @property
    def realtime_labels(self) -> tuple:
        """The enabled labels with `realtime: true`, in config order: those `labelspark stream` keeps up to date."""
        return tuple(label for label in self.enabled_labels if label.realtime)

    @property
    def streamed_sources(self) -> tuple[str, ...]:
        """The sources with `stream: true`, in config order: those whose new rows `labelspark stream` reads."""
        return tuple(name for name, source in self.sources.items() if source.stream)

    def resolve_path(self, path: str) -> str:
        """Relative paths are relative to the config file; URIs (s3://, hdfs://) stay as given."""
        if "://" in path or Path(path).is_absolute():
            return path
        return str((self.file.parent / path).resolve())

    @property
    def warehouse(self) -> str:
        return self.resolve_path(self.outputs.warehouse)

    def error(self, problems: list[Problem]) -> ConfigError:
        return ConfigError(self.file, self.locator.locate(problems))

    def kind_problems(self, indicator_kinds: Mapping[str, Kind | None], labels=None) -> list[Problem]:
        """Checks of `labels` (default: all) that depend on indicator kinds (static, or read from data)."""
        located = [(f"labels[{i}]", label) for i, label in enumerate(self.labels) if labels is None or label in labels]
        return checks.label_kind_problems(located, self.label_rules, indicator_kinds)


def load_project(file: str | Path) -> Project:
    """Reads and validates a config; raises ConfigError listing every problem. Touches no disk but the file."""
    file = Path(file)
    try:
        text = file.read_text(encoding="utf-8")
    except OSError as exc:
        raise ConfigError(file, [Problem("", f"cannot read the config: {exc.strerror or exc}")]) from None
    except UnicodeDecodeError as exc:
        raise ConfigError(file, [Problem("", f"the config is not UTF-8 text (byte {exc.start}: {exc.reason})")]) from None
    data, locator, problems = load_yaml(text)
    if not isinstance(data, dict):
        if not problems:
            found = "nothing" if data is None else type(data).__name__
            problems.append(Problem("", f"the config must be a YAML mapping of sections, found {found}"))
        raise ConfigError(file, locator.locate(problems))
    builder = _Builder(data, problems)
    project = builder.build(file, locator)
    if problems or project is None:
        raise ConfigError(file, locator.locate(problems))
    return project


class _Builder(SectionParser):
    """The sections parsed, then checked across items."""

    def build(self, file: Path, locator: Locator) -> Project | None:
        data = self.data
        for key in data:
            if not isinstance(key, str) or key not in SECTIONS:
                self.problems.append(Problem(str(key), f"unknown section '{key}' (sections: {', '.join(SECTIONS)})"))
        header = self.parse(Header, {k: data[k] for k in ("version", "name", "timezone") if k in data}, "")
        entity = self.parse(Entity, data.get("entity"), "entity")
        outputs = self.parse(Outputs, data.get("outputs"), "outputs")
        sources = self.parse_mapping(Source, "sources", required=True)
        indicators = self.parse_mapping(Indicator, "indicators")
        labels = self.parse_list(_LABEL, "labels")
        segments = self.parse_list(Segment, "segments")

        names = {**sources.parsed, **sources.broken}
        self.check_sources(entity, sources.parsed, names)
        where_rules, expr_refs, order = self.check_indicators(indicators.parsed, names, set(indicators.parsed) | set(indicators.broken))
        label_rules = self.check_labels(labels, entity)
        segment_rules = self.check_segments(segments, labels)
        static_kinds = {name: ind.static_kind for name, ind in indicators.parsed.items()}
        static_kinds.update({name: None for name in indicators.broken})
        self.check_expression_kinds(indicators.parsed, order, static_kinds)
        located = [(labels.paths[label_id], label) for label_id, label in labels.parsed.items()]
        self.problems += checks.label_kind_problems(located, label_rules, static_kinds)
        self.check_realtime(labels, label_rules, indicators.parsed, expr_refs, sources.parsed)
        if self.problems or None in (header, entity, outputs):
            return None
        project = Project(
            file=file,
            name=header.name,
            timezone=header.timezone,
            entity=entity,
            sources=sources.parsed,
            indicators=indicators.parsed,
            labels=tuple(labels.parsed.values()),
            segments=tuple(segments.parsed.values()),
            outputs=outputs,
            label_rules=label_rules,
            segment_rules=segment_rules,
            where_rules=where_rules,
            expression_order=tuple(order),
            expression_inputs={name: frozenset(refs) for name, refs in expr_refs.items()},
            locator=locator,
        )
        return project

    # -- cross-checks ----------------------------------------------------------------------

    def check_sources(self, entity: Entity | None, sources: Mapping[str, Source], names: Mapping) -> None:
        if entity is not None and entity.id_map is not None and entity.id_map.source not in names:
            self.problems.append(Problem("entity.id_map.source", f"unknown source '{entity.id_map.source}'"))
        for name, source in sources.items():
            if source.clean.filter is not None:
                checks.parse_sql_expression(source.clean.filter, f"sources.{name}.clean.filter", self.problems)
            self.problems += checks.stream_problems(name, source)

    def check_indicators(self, indicators: Mapping[str, Indicator], sources: Mapping, known: set[str]):
        where_rules: dict[str, Node] = {}
        expr_refs: dict[str, set[str]] = {}
        for name, indicator in indicators.items():
            path = f"indicators.{name}"
            if indicator.source is not None and indicator.source not in sources:
                self.problems.append(Problem(f"{path}.source", f"unknown source '{indicator.source}' (sources: {', '.join(sources)})"))
            source = sources.get(indicator.source)
            if isinstance(source, Source) and source.time is None:
                if indicator.window is not None or indicator.agg in ("first", "last"):
                    needs = "a window" if indicator.window is not None else f"agg '{indicator.agg}'"
                    self.problems.append(Problem(path, f"{needs} needs a `time` column on source '{indicator.source}'"))
            if indicator.where is not None:
                tree = self.parse_rule(indicator.where, f"{path}.where")
                if tree is not None:
                    # source columns are known only once the data is read: check shapes now
                    columns = {leaf.ref: None for leaf in leaves(tree)}
                    self.problems += checks.rule_problems(tree, columns, "column")
                    where_rules[name] = tree
            if indicator.expr is not None:
                refs = checks.parse_sql_expression(indicator.expr, f"{path}.expr", self.problems)
                if refs is None:
                    continue
                unknown = sorted(refs - known - {"run_date"})
                if unknown:
                    self.problems.append(Problem(f"{path}.expr", f"unknown indicator(s) {unknown}: an expr reads other indicators and run_date"))
                expr_refs[name] = refs & set(indicators)
        paths = {name: f"indicators.{name}.expr" for name in expr_refs}
        return where_rules, expr_refs, checks.expression_order(expr_refs, paths, self.problems)

    def check_expression_kinds(self, indicators: Mapping[str, Indicator], order: list[str], kinds: dict[str, Kind | None]) -> None:
        """Adds to `kinds` those of the `expr` indicators their SQL fixes; a declared `type` must agree."""
        for name in order:
            indicator = indicators[name]
            found = expression_kind(indicator.expr, kinds)
            if indicator.type is not None and found not in (None, indicator.type):
                self.problems.append(Problem(f"indicators.{name}.type", f"declared {indicator.type}, but the expression gives {found}"))
            kinds[name] = indicator.type or found

    def check_labels(self, labels: Parsed, entity: Entity | None) -> dict[str, tuple[Node, ...]]:
        label_rules: dict[str, tuple[Node, ...]] = {}
        for label_id, label in labels.parsed.items():
            path = labels.paths[label_id]
            if entity is not None and label_id == entity.key:
                self.problems.append(Problem(f"{path}.id", f"label id '{label_id}' is the entity key"))
            if label_id in checks.RESERVED_NAMES:
                self.problems.append(Problem(f"{path}.id", f"'{label_id}' is reserved"))
            if label.rules:
                trees = [self.parse_rule(v.when, f"{path}.values[{i}].when") for i, v in enumerate(label.rules)]
                self.problems += checks.value_problems((v.value for v in label.rules), label.type, path)
                if all(tree is not None for tree in trees):
                    label_rules[label_id] = tuple(trees)
        return label_rules

    def check_realtime(self, labels: Parsed, label_rules: Mapping[str, tuple[Node, ...]], indicators: Mapping[str, Indicator],
                       expr_refs: Mapping[str, set[str]], sources: Mapping[str, Source]) -> None:
        """Disabled labels too, like every label check: enabling one must not turn a valid config invalid."""
        streamed = [name for name, source in sources.items() if source.stream]
        for label_id, label in labels.parsed.items():
            if label.realtime:
                read = checks.label_sources(label, label_rules.get(label_id), indicators, expr_refs, sources)
                self.problems += checks.realtime_problems(labels.paths[label_id], label, read, streamed)

    def check_segments(self, segments: Parsed, labels: Parsed) -> dict[str, Node]:
        kinds = {label_id: label.type for label_id, label in labels.parsed.items() if label.enabled}
        kinds.update({label_id: None for label_id in labels.broken})
        segment_rules = {}
        for segment_id, segment in segments.parsed.items():
            tree = self.parse_rule(segment.when, f"{segments.paths[segment_id]}.when", ref_key="label")
            if tree is not None:
                self.problems += checks.rule_problems(tree, kinds, "enabled label")
                segment_rules[segment_id] = tree
        return segment_rules
