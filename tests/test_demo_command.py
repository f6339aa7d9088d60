"""`labelspark demo DIR` writes only into a new or empty directory, unless told `--force`."""
from __future__ import annotations

import subprocess
import sys

import pytest

from labelspark.cli.demo import CONFIG

pytestmark = pytest.mark.portable


def demo(*args: str, cwd) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "labelspark", "demo", *args], cwd=cwd, capture_output=True, text=True, timeout=120)


def test_demo_writes_into_a_new_or_empty_directory(tmp_path):
    (tmp_path / "empty").mkdir()
    for directory in ("new", "empty"):
        done = demo(directory, cwd=tmp_path)
        assert done.returncode == 0, done.stderr
        assert (tmp_path / directory / "labelspark.yaml").read_text(encoding="utf-8") == CONFIG


def test_demo_keeps_an_edited_config_unless_forced(tmp_path):
    assert demo("demo", cwd=tmp_path).returncode == 0
    config = tmp_path / "demo" / "labelspark.yaml"
    config.write_text(CONFIG.replace("name: demo_retail", "name: my_shop"), encoding="utf-8")

    refused = demo("demo", cwd=tmp_path)
    assert refused.returncode == 2
    assert refused.stderr.strip() == ("labelspark: demo is not an empty directory: the demo would write over its files "
                                      "(choose a new directory, or pass --force)")
    assert "name: my_shop" in config.read_text(encoding="utf-8")

    forced = demo("demo", "--force", cwd=tmp_path)
    assert forced.returncode == 0, forced.stderr
    assert config.read_text(encoding="utf-8") == CONFIG


def test_demo_refuses_a_file(tmp_path):
    (tmp_path / "notes.txt").write_text("mine", encoding="utf-8")
    refused = demo("notes.txt", cwd=tmp_path)
    assert refused.returncode == 2
    assert "notes.txt is not an empty directory" in refused.stderr
    assert (tmp_path / "notes.txt").read_text(encoding="utf-8") == "mine"
