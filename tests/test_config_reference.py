"""The config reference: docs/config.md and the shipped JSON Schema say what the models say.

When the models change, these fail with the command that regenerates the file.
"""
from __future__ import annotations

import json
import subprocess
import sys
from itertools import zip_longest
from pathlib import Path

import pytest

from labelspark.config import load_project
from labelspark.config.examples import whole_config
from labelspark.config.project import SECTIONS
from labelspark.config.reference import KIND_MEANINGS, REGENERATE, render
from labelspark.config.schema import OPERATOR_MEANINGS, SHIPPED_SCHEMA, VALUE_SHAPES, json_schema, schema_text
from labelspark.kinds import KINDS
from labelspark.rules import OPERATORS

pytestmark = pytest.mark.portable

ROOT = Path(__file__).resolve().parents[1]
REGENERATE_SCHEMA = "labelspark schema > labelspark/config/labelspark.schema.json"


def first_difference(written: str, generated: str) -> str:
    for number, (old, new) in enumerate(zip_longest(written.splitlines(), generated.splitlines()), 1):
        if old != new:
            return f"line {number}: the file has {old!r}, the models give {new!r}"
    return "no line differs (line endings?)"


def test_docs_say_what_the_models_say():
    written, generated = (ROOT / "docs" / "config.md").read_text(encoding="utf-8"), render()
    if written != generated:
        pytest.fail(f"docs/config.md is stale ({first_difference(written, generated)}); regenerate it: {REGENERATE}")


def test_the_shipped_schema_is_the_models_schema():
    written, generated = SHIPPED_SCHEMA.read_text(encoding="utf-8"), schema_text()
    if written != generated:
        pytest.fail(f"{SHIPPED_SCHEMA.name} is stale ({first_difference(written, generated)}); regenerate it: {REGENERATE_SCHEMA}")


def test_schema_command_prints_the_schema(tmp_path):
    done = subprocess.run([sys.executable, "-m", "labelspark", "schema"], cwd=tmp_path, capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout) == json.loads(SHIPPED_SCHEMA.read_text(encoding="utf-8"))


def test_the_schema_has_every_section_the_loader_reads():
    schema = json_schema()
    assert tuple(schema["properties"]) == SECTIONS
    assert schema["required"] == ["version", "name", "entity", "sources", "outputs"]


def test_every_operator_shape_and_kind_is_described():
    assert set(OPERATOR_MEANINGS) == set(OPERATORS)
    assert {operator.shape for operator in OPERATORS.values()} <= set(VALUE_SHAPES)
    assert set(KIND_MEANINGS) == set(KINDS)
    operators = json_schema()["$defs"]["Operator"]["anyOf"]
    assert [choice["const"] for choice in operators] == list(OPERATORS)


def test_the_docs_examples_make_one_valid_config(tmp_path):
    config = tmp_path / "examples.yaml"
    config.write_text(whole_config(), encoding="utf-8")
    project = load_project(config)
    assert {label.method for label in project.labels} == {"rules", "metric", "first_last", "preference", "distribution", "import"}
    assert project.entity.id_map is not None and project.outputs.elasticsearch is not None and project.segments
