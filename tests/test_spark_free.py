"""The config, the rules, the plan and the delta-rs readers import no pyspark.

Each check runs in a fresh interpreter (the test process holds pyspark already) and lists
the pyspark modules loaded at the end. To find what pulled one in:
`python -X importtime -c 'import labelspark.compute.plan' 2>&1 | grep -B5 pyspark`.
"""
import datetime as dt
import json
import subprocess
import sys

import pytest

from labelspark.config import load_project
from labelspark.cli.demo import write_demo
from labelspark.compute.run import run
from labelspark.compute.plan import make_plan

DAY = dt.date(2026, 3, 31)

SPARK_FREE_MODULES = [
    "labelspark.kinds",
    "labelspark.config",
    "labelspark.config.expr_kinds",
    "labelspark.config.schedule",
    "labelspark.rules",
    "labelspark.compute",
    "labelspark.compute.plan",
    "labelspark.warehouse.readers",
    "labelspark.site",
    "labelspark.warehouse.names",
    "labelspark.warehouse.deltars",
    "labelspark.analytics.scans",
    "labelspark.analytics.profile",
    "labelspark.analytics.compare",
    "labelspark.analytics.audit",
    "labelspark.analytics.diff",
]


def fresh_interpreter(code: str) -> dict:
    """Runs `code` in a new interpreter; its `result` variable and the pyspark modules it loaded."""
    probe = (
        f"import json, sys\nresult = None\n{code}\n"
        "loaded = sorted(m for m in sys.modules if m.split('.')[0] == 'pyspark')\n"
        "print(json.dumps({'result': result, 'pyspark': loaded}))\n"
    )
    done = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout.splitlines()[-1])


@pytest.fixture(scope="module")
def demo_config(tmp_path_factory):
    return write_demo(tmp_path_factory.mktemp("spark_free") / "demo")


@pytest.mark.parametrize("module", SPARK_FREE_MODULES)
def test_module_imports_no_pyspark(module):
    assert fresh_interpreter(f"import {module}")["pyspark"] == []


def test_loading_and_planning_the_demo_import_no_pyspark(demo_config):
    found = fresh_interpreter(
        "from labelspark.config import load_project\nfrom labelspark.compute.plan import make_plan\nimport datetime as dt\n"
        f"project = load_project({str(demo_config)!r})\n"
        f"result = [label.id for label in make_plan(project, dt.date.fromisoformat({DAY.isoformat()!r})).due]"
    )
    assert found == {"result": [label.id for label in make_plan(load_project(demo_config), DAY).due], "pyspark": []}


@pytest.fixture(scope="module")
def warehouse(spark, demo_config):
    run(spark, load_project(demo_config), DAY)
    return demo_config


@pytest.mark.parametrize("command", [
    ["validate"],
    ["plan", "--date", DAY.isoformat()],
    ["stats", "--label", "spend_tier", "--date", DAY.isoformat()],
    ["history", "--label", "spend_tier"],
    ["profile", "--entity", "m00001"],
    ["compare", "--segment", "young_big_spenders", "--rest"],
    ["audit"],
    ["site", "--out", "{site}"],
])
def test_command_imports_no_pyspark(warehouse, tmp_path, command):
    name, *options = (part.format(site=tmp_path / "site") for part in command)
    found = fresh_interpreter(f"from labelspark.cli import main\nresult = main({[name, str(warehouse), *options]!r})")
    assert found == {"result": 0, "pyspark": []}
