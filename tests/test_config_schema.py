"""The JSON Schema as an editor uses it: the configs users start from pass it, it marks a
newcomer's mistakes at the key (each refused by `validate` too), and the demo's first line
points at the schema written beside it.
"""
from __future__ import annotations

import copy
import json
from pathlib import Path

import jsonschema
import pytest
import yaml

from labelspark.config import load_project
from labelspark.config.examples import whole_config
from labelspark.config.schema import json_schema
from labelspark.cli.demo import CONFIG as DEMO_CONFIG
from labelspark.cli.demo import write_demo
from labelspark.errors import ConfigError

pytestmark = pytest.mark.portable

ROOT = Path(__file__).resolve().parents[1]
VALIDATOR = jsonschema.Draft202012Validator(json_schema())


@pytest.mark.parametrize("text", [DEMO_CONFIG, (ROOT / "conf" / "retail_members.yaml").read_text(), whole_config()],
                         ids=["demo", "conf-retail_members", "docs-examples"])
def test_configs_users_start_from_pass_the_schema(text):
    assert [f"{list(error.absolute_path)}: {error.message[:200]}" for error in VALIDATOR.iter_errors(yaml.safe_load(text))] == []


def test_the_schema_is_valid_json_schema():
    jsonschema.Draft202012Validator.check_schema(json_schema())


DEMO = yaml.safe_load(DEMO_CONFIG)


def broken(path: tuple, value=None, drop: bool = False) -> dict:
    document = copy.deepcopy(DEMO)
    parent = document
    for part in path[:-1]:
        parent = parent[part]
    if drop:
        del parent[path[-1]]
    else:
        parent[path[-1]] = value
    return document


@pytest.mark.parametrize(
    "document, where",
    [
        (broken(("version",), drop=True), ()),
        (broken(("indicators", "spend_90d", "field"), "amount"), ("indicators", "spend_90d")),  # `field:` for `of:`
        (broken(("indicators", "spend_90d", "agg"), "total"), ("indicators", "spend_90d", "agg")),
        (broken(("indicators", "Spend",), {"source": "orders", "agg": "count"}), ("indicators",)),
        (broken(("sources", "orders", "format"), "xlsx"), ("sources", "orders", "format")),
        (broken(("labels", 0, "values", 0, "when", "op"), "greater"), ("labels", 0)),
        (broken(("labels", 0, "method"), "magic"), ("labels", 0)),
        (broken(("labels", 0, "schedule"), "hourly"), ("labels", 0)),
        (broken(("segments", 0, "when"), {"all": [{"field": "age_band", "op": "eq", "value": "adult"}]}), ("segments", 0, "when")),
        (broken(("outputs", "warehouse"), drop=True), ("outputs",)),
    ],
    ids=["version-missing", "field-for-of", "unknown-agg", "bad-name", "unknown-format", "unknown-operator",
         "unknown-method", "bad-schedule", "segment-leaf-field", "warehouse-missing"],
)
def test_the_schema_flags_what_validate_refuses(tmp_path, document, where):
    """A newcomer's mistakes are marked in the editor at the key, and `validate` refuses them too."""
    paths = [tuple(error.absolute_path) for error in VALIDATOR.iter_errors(document)]
    assert any(path[: len(where)] == where for path in paths), paths
    config = tmp_path / "broken.yaml"
    config.write_text(yaml.safe_dump(document, sort_keys=False), encoding="utf-8")
    with pytest.raises(ConfigError):
        load_project(config)


def test_the_demo_config_names_the_schema_written_beside_it(tmp_path):
    config = write_demo(tmp_path / "demo", members=20)
    first_line = config.read_text(encoding="utf-8").splitlines()[0]
    assert first_line.startswith("# yaml-language-server: $schema=")
    schema_file = config.parent / first_line.split("=", 1)[1]
    schema = json.loads(schema_file.read_text(encoding="utf-8"))
    assert schema == json_schema()
    assert list(jsonschema.Draft202012Validator(schema).iter_errors(yaml.safe_load(config.read_text(encoding="utf-8")))) == []
