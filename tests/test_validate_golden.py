"""Golden `labelspark validate` outputs: each tests/fixtures/validate/NAME.yaml is a broken
config, NAME.out what `validate` prints for it (every problem with file, line and YAML path).

After a deliberate change of the messages, regenerate with
    for f in tests/fixtures/validate/*.yaml; do labelspark validate $f 2> ${f%.yaml}.out; done
and read the diff.
"""
from __future__ import annotations

from pathlib import Path

import pytest

from labelspark.cli import main

ROOT = Path(__file__).resolve().parent.parent
CASES = sorted((ROOT / "tests" / "fixtures" / "validate").glob("*.yaml"))


@pytest.mark.parametrize("config", CASES, ids=[case.stem for case in CASES])
def test_validate_prints_the_golden_problems(config, capsys, monkeypatch):
    monkeypatch.chdir(ROOT)  # the messages name the file as given
    assert main(["validate", str(config.relative_to(ROOT))]) == 2
    assert capsys.readouterr().err == config.with_suffix(".out").read_text(encoding="utf-8")
