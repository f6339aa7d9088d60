"""The layout's promises: the run's orchestration never reaches up into the read side or the CLI,
and the README's picture of the stages is the one `scripts/stage_diagram.py` draws from the code."""
import ast
import json
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
ORCHESTRATION = ["labelspark.compute.run", "labelspark.compute.job"]
ABOVE_THE_RUN = ("labelspark.analytics", "labelspark.site", "labelspark.cli")


def _is_above(module: str) -> bool:
    return any(module == package or module.startswith(package + ".") for package in ABOVE_THE_RUN)


@pytest.mark.parametrize("module", ORCHESTRATION)
def test_the_orchestration_imports_nothing_from_analytics_site_or_cli(module):
    """Every import statement of the module (those inside functions too), and all it loads in a
    fresh interpreter (the test process holds the CLI and the site already)."""
    tree = ast.parse((ROOT / (module.replace(".", "/") + ".py")).read_text(encoding="utf-8"))
    named = {node.module for node in ast.walk(tree) if isinstance(node, ast.ImportFrom) and node.module}
    named |= {alias.name for node in ast.walk(tree) if isinstance(node, ast.Import) for alias in node.names}
    assert sorted(filter(_is_above, named)) == []

    probe = f"import json, sys\nimport {module}\nprint(json.dumps(sorted(sys.modules)))"
    done = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, timeout=300, cwd=ROOT)
    assert done.returncode == 0, done.stderr
    assert [name for name in json.loads(done.stdout.splitlines()[-1]) if _is_above(name)] == []


def test_the_readme_draws_the_stages_the_code_has():
    done = subprocess.run([sys.executable, str(ROOT / "scripts/stage_diagram.py")], capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr
    assert done.stdout.startswith("```mermaid\nflowchart TD\n")
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    assert done.stdout in readme, "the README's diagram is stale: put `python scripts/stage_diagram.py`'s output in its Layout section"


def test_the_read_side_and_the_outputs_never_import_the_runs_orchestration():
    """analytics/, site/, publish/ and warehouse/ take what they need from the stages, not from
    the module that strings them together (nor from the job around it)."""
    importers = [path for package in ("analytics", "site", "publish", "warehouse") for path in (ROOT / "labelspark" / package).rglob("*.py")]
    for path in importers:
        tree = ast.parse(path.read_text(encoding="utf-8"))
        named = {node.module for node in ast.walk(tree) if isinstance(node, ast.ImportFrom) and node.module}
        assert not named & set(ORCHESTRATION), path
