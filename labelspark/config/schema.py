"""The config's JSON Schema, generated from the pydantic models, for editors to complete and check YAML.

`labelspark schema` prints it; the package ships it as `labelspark.schema.json` (a test keeps the
file equal to the models), and `labelspark demo` writes it next to the demo config, whose first
line points yaml-language-server at it. Rule trees stay `Any` to pydantic (the rule parser checks
them with locations); their grammar is written here from the operators' table.
"""
from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ConfigDict, Field
from pydantic.json_schema import GenerateJsonSchema

from labelspark.config.models import Entity, Header, Identifier, Indicator, Label, Outputs, Segment, Source
from labelspark.kinds import KINDS
from labelspark.rules.ast import QUERY_BUILDER_OPERATORS
from labelspark.rules.operators import OPERATORS

SCHEMA_FILE = "labelspark.schema.json"
SHIPPED_SCHEMA = Path(__file__).with_name(SCHEMA_FILE)
DIALECT = "https://json-schema.org/draft/2020-12/schema"

# What each operator tests, and the value each shape of operator takes.
OPERATOR_MEANINGS = {
    "eq": "equals the value",
    "ne": "differs from the value",
    "lt": "less than the value",
    "lte": "at most the value",
    "gt": "greater than the value",
    "gte": "at least the value",
    "between": "within [low, high], both included",
    "in": "equals one of the values (`[]` matches nothing)",
    "not_in": "equals none of the values",
    "is_null": "the field is null",
    "not_null": "the field is not null",
    "contains": "a string that contains the text, or a list that holds it",
    "starts_with": "a string that starts with the text",
    "ends_with": "a string that ends with the text",
    "matches": "a string in which the regular expression finds a match",
    "has_any": "a list that holds at least one of the values",
    "has_all": "a list that holds every value (`[]`: every non-null list)",
    "within_last": "a date within the N days ending with the run date (`30d`: D-29 to D)",
    "before": "a date before the given date, or before N days before the run date",
    "after": "a date after the given date, or after N days before the run date",
}
VALUE_SHAPES = {
    "none": "none",
    "scalar": "one value of the field's kind",
    "pair": "`[low, high]`",
    "list": "a list of values of the field's kind (strings for a list field)",
    "text": "text, matched literally",
    "regex": "a regular expression that Java and Rust both run (no lookaround, no backreference)",
    "days": "a number of days: `30d`",
    "day_or_days": "a date `YYYY-MM-DD`, or `Nd`: N days before the run date",
}


class ConfigFile(Header):
    """A labelspark config: one YAML file of these sections."""

    model_config = ConfigDict(title="labelspark config")

    entity: Entity = Field(description="Whom labels describe, and how sources' ids map to them.")
    sources: dict[Identifier, Source] = Field(description="The tables indicators read, by name.",
                                              json_schema_extra={"additionalProperties": False})
    indicators: dict[Identifier, Indicator] = Field(default_factory=dict, description="Values per entity that labels read, by name.",
                                                    json_schema_extra={"additionalProperties": False})
    labels: list[Label] = Field(default_factory=list, description="The labels, each computed by one method.")
    segments: list[Segment] = Field(default_factory=list, description="Named groups of entities, by rules over labels.")
    outputs: Outputs = Field(description="Where results are written and published.")


class _Generator(GenerateJsonSchema):
    """Shows the defaults of `default_factory` fields and leaves out per-key titles (the keys say it)."""

    def get_default_value(self, schema: Any) -> Any:
        if "default_factory" in schema:
            value = schema["default_factory"]()
            return value.model_dump(exclude_defaults=True) if isinstance(value, BaseModel) else value
        return super().get_default_value(schema)

    def field_title_should_be_set(self, schema: Any) -> bool:
        return False


def json_schema() -> dict:
    """The JSON Schema of a config file (draft 2020-12)."""
    schema = ConfigFile.model_json_schema(schema_generator=_Generator)
    definitions = schema.pop("$defs")
    definitions.update(
        Rule=_rule_grammar("field", "Rule", "an indicator (in an indicator's `where`: a column of its source)"),
        SegmentRule=_rule_grammar("label", "SegmentRule", "an enabled label"),
        QueryBuilderRule=_query_builder_rule(),
        Operator={"anyOf": [{"const": op, "description": operator_summary(op)} for op in OPERATORS]},
    )
    return {"$schema": DIALECT, **schema, "$defs": dict(sorted(definitions.items()))}


def schema_text() -> str:
    return json.dumps(json_schema(), indent=2, ensure_ascii=False) + "\n"


def operator_summary(name: str) -> str:
    """One line on an operator: what it tests, for which kinds of field, with which value."""
    operator = OPERATORS[name]
    kinds = ", ".join(kind for kind in KINDS if kind in operator.kinds)
    return f"{OPERATOR_MEANINGS[name]}; {kinds} fields; value: {VALUE_SHAPES[operator.shape]}"


def _rule_grammar(ref_key: str, name: str, names: str) -> dict:
    itself = {"$ref": f"#/$defs/{name}"}

    def group(key: str, text: str) -> dict:
        rules = {"type": "array", "minItems": 1, "items": itself, "description": text}
        return {"type": "object", "properties": {key: rules}, "required": [key], "additionalProperties": False}

    leaf = {
        "type": "object",
        "properties": {
            ref_key: {"type": "string", "minLength": 1, "description": f"The name of {names}."},
            "op": {"$ref": "#/$defs/Operator"},
            "value": {"description": "What the field is compared with; its form depends on `op`."},
        },
        "required": [ref_key, "op"],
        "additionalProperties": False,
    }
    negation = {"type": "object", "properties": {"not": {**itself, "description": "Matches where the rule does not."}},
                "required": ["not"], "additionalProperties": False}
    query_builder = {
        "type": "object",
        "description": "A query-builder group: {combinator, not, rules}.",
        "properties": {
            "combinator": {"enum": ["and", "or"], "default": "and"},
            "not": {"type": "boolean", "default": False},
            "rules": {"type": "array", "minItems": 1, "items": {"anyOf": [{"$ref": "#/$defs/QueryBuilderRule"}, itself]}},
            "id": {},
        },
        "required": ["rules"],
        "additionalProperties": False,
    }
    as_text = {"type": "string", "description": "A query-builder group as JSON text."}
    return {
        "description": f"A rule: a leaf {{{ref_key}, op, value}}, a group (all, any, not), or query-builder JSON.",
        "anyOf": [leaf, group("all", "Matches where every rule matches."), group("any", "Matches where some rule matches."),
                  negation, query_builder, as_text],
    }


def _query_builder_rule() -> dict:
    theirs = [{"const": operator, "description": ("not " if negated else "") + op}
              for operator, (op, negated) in QUERY_BUILDER_OPERATORS.items() if operator not in OPERATORS]
    return {
        "type": "object",
        "description": "A query-builder rule; values given as text are read as the field's kind.",
        "properties": {
            "field": {"type": "string", "minLength": 1},
            "operator": {"anyOf": [*theirs, {"$ref": "#/$defs/Operator"}]},
            "value": {},
            "id": {},
            "valueSource": {"const": "value"},
        },
        "required": ["field", "operator"],
        "additionalProperties": False,
    }
