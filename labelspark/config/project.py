"""Loading a config file into a validated `Project`, with every problem located."""
from __future__ import annotations

import re
import reprlib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Mapping

from pydantic import BaseModel, TypeAdapter, ValidationError

from labelspark.config import checks
from labelspark.config.expr_kinds import expression_kind
from labelspark.config.models import (
    Entity,
    Header,
    ImportLabel,
    Indicator,
    Label,
    Outputs,
    RulesLabel,
    Segment,
    Source,
)
from labelspark.config.yaml_source import Locator, join, load_yaml
from labelspark.errors import ConfigError, Problem
from labelspark.kinds import Kind
from labelspark.rules import Node, RuleParser, leaves

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
        return next(label for label in self.labels if label.id == label_id)

    @property
    def enabled_labels(self) -> tuple:
        return tuple(label for label in self.labels if label.enabled)

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


class _Builder:
    """Parses each section and item on its own so that one broken item hides no other problem."""

    def __init__(self, data: dict, problems: list[Problem]):
        self.data = data
        self.problems = problems

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

    # -- parsing ---------------------------------------------------------------------------

    def parse(self, model: Any, raw: Any, path: str):
        adapter = model if isinstance(model, TypeAdapter) else TypeAdapter(model)
        if raw is None and path:
            self.problems.append(Problem(path, "is required"))
            return None
        try:
            return adapter.validate_python(raw)
        except ValidationError as exc:
            for error in exc.errors(include_url=False):
                where = _path_of(path, error["loc"], raw, missing=error["type"] == "missing")
                self.problems.append(Problem(where, _message(error)))
            return None

    def parse_mapping(self, model: type[BaseModel], section: str, required: bool = False) -> "_Parsed":
        raw = self.data.get(section)
        result = _Parsed()
        if raw is None:
            if required:
                self.problems.append(Problem(section, "is required"))
            return result
        if not isinstance(raw, dict):
            self.problems.append(Problem(section, f"must be a mapping of name -> definition, got {type(raw).__name__}"))
            return result
        for name, item in raw.items():
            path = join(section, name)
            if not isinstance(name, str) or not _is_identifier(name):
                self.problems.append(Problem(path, f"name {reprlib.repr(name)} must match [a-z][a-z0-9_]*"))
                continue
            if name in checks.RESERVED_NAMES:
                self.problems.append(Problem(path, f"'{name}' is reserved"))
            parsed = self.parse(model, item, path)
            (result.parsed if parsed is not None else result.broken)[name] = parsed
        return result

    def parse_list(self, model: Any, section: str) -> "_Parsed":
        raw = self.data.get(section)
        result = _Parsed()
        if raw is None:
            return result
        if not isinstance(raw, list):
            self.problems.append(Problem(section, f"must be a list, got {type(raw).__name__}"))
            return result
        for i, item in enumerate(raw):
            parsed = self.parse(model, item, f"{section}[{i}]")
            item_id = item.get("id") if isinstance(item, dict) else None
            if isinstance(item_id, str) and (item_id in result.parsed or item_id in result.broken):
                self.problems.append(Problem(f"{section}[{i}].id", f"duplicate id '{item_id}'"))
                continue
            if parsed is not None:
                result.parsed[parsed.id] = parsed
                result.paths[parsed.id] = f"{section}[{i}]"
            elif isinstance(item_id, str):
                result.broken[item_id] = None
        return result

    def parse_rule(self, raw: Any, path: str, ref_key: str = "field") -> Node | None:
        parser = RuleParser(ref_key=ref_key)
        tree = parser.parse(raw, path)
        self.problems += parser.problems
        return tree

    # -- cross-checks ----------------------------------------------------------------------

    def check_sources(self, entity: Entity | None, sources: Mapping[str, Source], names: Mapping) -> None:
        if entity is not None and entity.id_map is not None and entity.id_map.source not in names:
            self.problems.append(Problem("entity.id_map.source", f"unknown source '{entity.id_map.source}'"))
        for name, source in sources.items():
            if source.clean.filter is not None:
                checks.parse_sql_expression(source.clean.filter, f"sources.{name}.clean.filter", self.problems)

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

    def check_labels(self, labels: "_Parsed", entity: Entity | None) -> dict[str, tuple[Node, ...]]:
        label_rules: dict[str, tuple[Node, ...]] = {}
        for label_id, label in labels.parsed.items():
            path = labels.paths[label_id]
            if entity is not None and label_id == entity.key:
                self.problems.append(Problem(f"{path}.id", f"label id '{label_id}' is the entity key"))
            if label_id in checks.RESERVED_NAMES:
                self.problems.append(Problem(f"{path}.id", f"'{label_id}' is reserved"))
            if isinstance(label, RulesLabel):
                trees = [self.parse_rule(v.when, f"{path}.values[{i}].when") for i, v in enumerate(label.values)]
                self.problems += checks.value_problems((v.value for v in label.values), label.type, path)
                if all(tree is not None for tree in trees):
                    label_rules[label_id] = tuple(trees)
            if isinstance(label, ImportLabel) and label.type == "list":
                self.problems.append(Problem(f"{path}.type", "an import label holds one value per entity, not a list"))
        return label_rules

    def check_segments(self, segments: "_Parsed", labels: "_Parsed") -> dict[str, Node]:
        kinds = {label_id: label.type for label_id, label in labels.parsed.items() if label.enabled}
        kinds.update({label_id: None for label_id in labels.broken})
        segment_rules = {}
        for segment_id, segment in segments.parsed.items():
            tree = self.parse_rule(segment.when, f"{segments.paths[segment_id]}.when", ref_key="label")
            if tree is not None:
                self.problems += checks.rule_problems(tree, kinds, "enabled label")
                segment_rules[segment_id] = tree
        return segment_rules


@dataclass
class _Parsed:
    parsed: dict = field(default_factory=dict)
    broken: dict = field(default_factory=dict)  # names whose definition has problems of its own
    paths: dict = field(default_factory=dict)


def _is_identifier(name: str) -> bool:
    return re.fullmatch(r"[a-z][a-z0-9_]*", name) is not None


def _path_of(base: str, loc: tuple, raw: Any, missing: bool) -> str:
    """A pydantic error location as a YAML path; union tags (not in the data) are skipped,
    a missing key is named."""
    path, current = base, raw
    for i, part in enumerate(loc):
        if isinstance(current, dict) and part in current:
            path, current = join(path, part), current[part]
        elif isinstance(current, list) and isinstance(part, int) and part < len(current):
            path, current = join(path, part), current[part]
        elif missing and i == len(loc) - 1:
            path = join(path, part)
    return path


def _message(error: dict) -> str:
    kind, message = error["type"], error["msg"]
    if kind == "missing":
        return "is required"
    if kind == "extra_forbidden":
        return "unknown key"
    if kind == "union_tag_invalid":
        return f"unknown method {error['input'].get('method')!r} (methods: {error['ctx']['expected_tags']})"
    if kind == "union_tag_not_found":
        return "needs `method`"
    if message.startswith("Value error, "):
        return message[len("Value error, "):]
    return f"{message}, got {reprlib.repr(error['input'])}"
