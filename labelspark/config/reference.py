"""`docs/config.md`, generated from the config's JSON Schema so that it cannot drift from the models.

Regenerate with `python -m labelspark.config.reference > docs/config.md`; a test fails while the
file differs. Every key's type, default and description come from the models; the operators'
table from `labelspark.rules`; the examples from `examples.py`, which a test loads as one config.
"""
from __future__ import annotations

import json
import re
import sys
from dataclasses import dataclass

from labelspark.config import examples
from labelspark.config.schema import OPERATOR_MEANINGS, SCHEMA_FILE, VALUE_SHAPES, json_schema
from labelspark.kinds import KINDS
from labelspark.rules.ast import QUERY_BUILDER_OPERATORS
from labelspark.rules.operators import OPERATORS

REGENERATE = "python -m labelspark.config.reference > docs/config.md"
IDENTIFIER = "^[a-z][a-z0-9_]*$"
RULE_DEFINITIONS = ("Rule", "SegmentRule", "QueryBuilderRule", "Operator")
KIND_MEANINGS = {
    "string": "text",
    "number": "any numeric column, integer or decimal (a number label holds a double)",
    "boolean": "true or false",
    "date": "a date or a timestamp, compared as dates",
    "list": "a list of strings, as `collect_set` gives (a list label holds strings)",
}

INTRO = f"""\
# Config reference

<!-- Generated from the models in labelspark/config/ by `{REGENERATE}`: edit the models, not this file. -->

A config is one YAML file. `labelspark validate CONFIG` checks it and names every problem with
its line and YAML path; `labelspark demo DIR` writes a commented example that runs as is.
Paths in a config (sources, imports, the warehouse) are relative to the config file; URIs
(`s3a://`, `hdfs://`) are used as given.
A *name* (of the project, an entity key, a source, an indicator, a label, a segment, an alias)
is lower-case letters, digits and `_`, starting with a letter, at most 128 characters.

**In an editor.** `labelspark schema` prints the config's JSON Schema (the package ships it as
`labelspark/config/{SCHEMA_FILE}`). Editors that run yaml-language-server (VS Code's YAML
extension, Neovim, Helix, JetBrains via LSP) complete keys and values, show these descriptions
and mark mistakes as you type, given a first line that names the schema, relative to the
config file or as a URL:

```yaml
# yaml-language-server: $schema={SCHEMA_FILE}
```

`labelspark schema > {SCHEMA_FILE}` writes the file next to the config; the demo config starts
with that line and has the file beside it.
"""

RULES_TEXT = """\
A rule is a tree. A leaf tests one value: `{field: <indicator>, op: <operator>, value: <value>}`
in a rules label's `values` (in an indicator's `where`, `field` names a column of its source);
in a segment the leaf names a label instead: `{label: <label id>, op, value}`. Groups combine
rules: `{all: [...]}` matches where every rule does, `{any: [...]}` where some rule does,
`{not: <rule>}` where the rule does not. A rule may also be query-builder JSON, as a mapping or
as text. `validate` checks every field, operator and value against the field's kind; values
enter Spark as literals, never as SQL.
"""


def render() -> str:
    """The whole of docs/config.md."""
    schema = json_schema()
    sections, titles = _walk(schema["$defs"], schema["properties"])
    top = [key for key, prop in schema["properties"].items() if not _model_refs(prop)]
    links = [f"[`{s.heading}`](#{anchor(s.heading)})" for s in sections if s.level == 2] + ["[rules](#rules)"]
    parts = [INTRO, f"Sections: [top level](#top-level) ({', '.join(f'`{k}`' for k in top)}), {', '.join(links)}.\n",
             "## Top level\n", schema["description"] + "\n", _table(schema, titles), _example(examples.HEADER)]
    for section in sections:
        heading = section.heading if section.heading.startswith("method:") else f"`{section.heading}`"
        parts += [f"{'#' * section.level} {heading}\n", section.description + "\n", _table(section.model, titles)]
        if section.example:
            parts.append(_example(section.example))
    parts.append(_rules())
    return "\n".join(parts)


@dataclass(frozen=True)
class _Section:
    level: int
    heading: str  # where the model sits in a config (`sources.NAME.clean`), or `method: rules`
    model: dict  # its keys: "properties" and "required"
    description: str
    example: str | None


def _walk(definitions: dict, properties: dict, parent: str = "", level: int = 2) -> tuple[list[_Section], dict[str, str]]:
    """A section per model, in the order the config nests them, and each model's heading."""
    sections: list[_Section] = []
    titles: dict[str, str] = {}
    for key, prop in properties.items():
        refs = _model_refs(prop)
        path = _item_path(f"{parent}.{key}" if parent else key, prop)
        if len(refs) == 1:
            model = definitions[refs[0]]
            titles[refs[0]] = path
            sections.append(_Section(level, path, model, model.get("description", ""), examples.BY_MODEL.get(refs[0])))
            found, found_titles = _walk(definitions, model["properties"], path, level + 1)
        elif refs:  # the labels: one model per method, with the keys they share
            found, found_titles = _methods(definitions, refs, path, level)
        else:
            continue
        sections += found
        titles.update(found_titles)
    return sections, titles


def _methods(definitions: dict, names: list[str], path: str, level: int) -> tuple[list[_Section], dict[str, str]]:
    models = [definitions[name] for name in names]
    common = {k: v for k, v in models[0]["properties"].items() if all(m["properties"].get(k) == v for m in models)}
    methods = [model["properties"]["method"]["const"] for model in models]
    text = ("A list of labels. The keys every label takes; `method` decides the others: "
            + ", ".join(f"[{m}](#{anchor('method: ' + m)})" for m in methods) + ".")
    sections = [_Section(level, path, {"properties": common, "required": models[0]["required"]}, text, None)]
    titles = {}
    for name, model, method in zip(names, models, methods):
        titles[name] = heading = f"method: {method}"
        own = {k: v for k, v in model["properties"].items() if k not in common}
        example = examples.BY_MODEL.get(name)
        sections.append(_Section(level + 1, heading, {"properties": own, "required": model["required"]},
                                 model.get("description", ""), example and "labels:\n" + example))
        found, found_titles = _walk(definitions, own, path, level + 2)
        sections += found
        titles.update(found_titles)
    return sections, titles


def _table(model: dict, titles: dict[str, str]) -> str:
    rows = ["| key | type | default | description |", "|---|---|---|---|"]
    for key, prop in model["properties"].items():
        default = "required" if key in model.get("required", []) else _default(prop)
        rows.append(f"| `{key}` | {_type(prop, titles)} | {default} | {_cell(prop.get('description', ''))} |")
    return "\n".join(rows) + "\n"


def _type(prop: dict, titles: dict[str, str]) -> str:
    if "$ref" in prop:
        name = prop["$ref"].rsplit("/", 1)[-1]
        return "[rule](#rules)" if name in RULE_DEFINITIONS else f"[`{titles[name]}`](#{anchor(titles[name])})"
    if "anyOf" in prop:
        return " or ".join(_type(p, titles) for p in prop["anyOf"] if p.get("type") != "null")
    if "oneOf" in prop:
        return f"[label](#{anchor('labels[]')})"
    if "const" in prop:
        return _literal(prop["const"])
    if "enum" in prop:
        return " \\| ".join(_literal(value) for value in prop["enum"])
    kind = prop.get("type")
    if kind == "string":
        return "name" if prop.get("pattern") == IDENTIFIER else "text"
    if kind in ("integer", "number"):
        if "minimum" in prop:
            return f"{kind} ≥ {prop['minimum']}"
        return f"{kind} > {prop['exclusiveMinimum']}" if "exclusiveMinimum" in prop else kind
    if kind == "array":
        return ("non-empty list" if prop.get("minItems") else "list") + " of " + _type(prop["items"], titles)
    if kind == "object":
        if "patternProperties" in prop:
            return "mapping of name to " + _type(next(iter(prop["patternProperties"].values())), titles)
        values = prop.get("additionalProperties")
        return "mapping of text to " + _type(values, titles) if isinstance(values, dict) else "mapping"
    return kind or "any value"


def _model_refs(prop: dict) -> list[str]:
    """The models a key's value is (or holds), rules aside."""
    return [name for name in dict.fromkeys(_refs(prop)) if name not in RULE_DEFINITIONS]


def _refs(node) -> list[str]:
    if isinstance(node, list):
        return [name for item in node for name in _refs(item)]
    if not isinstance(node, dict):
        return []
    own = [node["$ref"].rsplit("/", 1)[-1]] if "$ref" in node else []
    return own + [name for value in node.values() for name in _refs(value)]


def _item_path(path: str, prop: dict) -> str:
    """The YAML path of one item: `sources.NAME` for a mapping of items, `segments[]` for a list."""
    if prop.get("type") == "object" and "patternProperties" in prop:
        return f"{path}.NAME"
    if prop.get("type") == "array":
        return f"{path}[]"
    return path


def _default(prop: dict) -> str:
    if "default" not in prop or prop["default"] is None:
        return "—"
    return _literal(prop["default"])


def _literal(value) -> str:
    """A value as YAML shows it: `daily`, `false`, `{}`."""
    return f"`{value if isinstance(value, str) else json.dumps(value)}`"


def _cell(text: str) -> str:
    return text.replace("|", "\\|").replace("\n", " ")


def _example(yaml_text: str) -> str:
    return f"```yaml\n{yaml_text.rstrip()}\n```\n"


def anchor(heading: str) -> str:
    """GitHub's anchor of a heading: lower case, punctuation dropped, spaces to hyphens."""
    return re.sub(r"[^\w\- ]", "", heading.lower()).replace(" ", "-")


def _rules() -> str:
    operators = ["| `op` | fields | value | matches |", "|---|---|---|---|"]
    for name, operator in OPERATORS.items():
        kinds = ", ".join(kind for kind in KINDS if kind in operator.kinds)
        operators.append(f"| `{name}` | {kinds} | {_cell(VALUE_SHAPES[operator.shape])} | {_cell(OPERATOR_MEANINGS[name])} |")
    query_builder = ["| query-builder `operator` | is |", "|---|---|"]
    for name, (op, negated) in QUERY_BUILDER_OPERATORS.items():
        query_builder.append(f"| `{name}` | {'`not` of ' if negated else ''}`{op}` |")
    kinds = ["| kind | holds |", "|---|---|"] + [f"| `{kind}` | {KIND_MEANINGS[kind]} |" for kind in KINDS]
    return "\n".join([
        "## Rules\n",
        RULES_TEXT,
        _example("labels:\n" + examples.RULES),
        "### Operators\n",
        "\n".join(operators) + "\n",
        "A comparison with a null field is false, and its `not` true; only `is_null` matches a null.\n",
        "### Query-builder JSON\n",
        "The JSON of react-querybuilder and its kin: `{\"combinator\": \"and\" | \"or\", \"not\": false, \"rules\": [...]}`, "
        "each rule `{\"field\", \"operator\", \"value\"}` (or a nested group), as a mapping or as JSON text. Values "
        "are text, read as the field's kind; lists as `\"a,b\"` or a JSON list. `operator` is one of the operators "
        "above or:\n",
        "\n".join(query_builder) + "\n",
        "A negated operator is `not` of the positive one, so it is true for a null field, while `!=` and `notIn` are false for it.\n",
        "### Kinds\n",
        "Labels, indicators and rules compare kinds, not Spark types:\n",
        "\n".join(kinds) + "\n",
    ])


if __name__ == "__main__":
    sys.stdout.write(render())
