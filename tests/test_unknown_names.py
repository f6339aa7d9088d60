"""Unknown labels and segments: one lookup (`Project.label`, `Project.segment`) and one error type,
UnknownReference (exit 2, a bad argument), naming the closest known id, whatever the command."""
from __future__ import annotations

import subprocess
import sys

import pytest

from labelspark.config import load_project
from labelspark.cli.demo import write_demo
from labelspark.errors import UnknownReference

pytestmark = pytest.mark.portable


@pytest.fixture(scope="module")
def demo(tmp_path_factory):
    return write_demo(tmp_path_factory.mktemp("names") / "demo")


def labels_listed(config) -> str:
    return ", ".join(label.id for label in load_project(config).labels)


def test_an_unknown_label_names_the_closest_and_every_label(demo):
    with pytest.raises(UnknownReference) as info:
        load_project(demo).label("spend_teir")
    assert info.value.exit_code == 2
    assert str(info.value) == f"no label 'spend_teir' (did you mean 'spend_tier'?) (labels: {labels_listed(demo)})"


def test_an_unknown_label_with_nothing_close_lists_every_label(demo):
    with pytest.raises(UnknownReference) as info:
        load_project(demo).label("zzz")
    assert str(info.value) == f"no label 'zzz' (labels: {labels_listed(demo)})"


def test_an_unknown_segment_names_the_closest(demo):
    with pytest.raises(UnknownReference) as info:
        load_project(demo).segment("young_big_spender")
    assert str(info.value) == "no segment 'young_big_spender' (did you mean 'young_big_spenders'?) (segments: young_big_spenders)"


def test_known_ids_are_found(demo):
    project = load_project(demo)
    assert project.label("spend_tier").id == "spend_tier"
    assert project.segment("young_big_spenders").id == "young_big_spenders"


@pytest.mark.parametrize("command", [
    ["stats", "--label", "spend_teir"],
    ["history", "--label", "spend_teir"],
    ["preview", "--label", "spend_teir", "--date", "2026-03-31"],
    ["run", "--labels", "age_band,spend_teir", "--date", "2026-03-31"],
])
def test_every_command_reports_an_unknown_label_alike_with_exit_2(demo, tmp_path, command):
    done = subprocess.run([sys.executable, "-m", "labelspark", command[0], str(demo), *command[1:]],
                          cwd=tmp_path, capture_output=True, text=True, timeout=300)
    assert done.returncode == 2, done.stderr
    expected = f"labelspark: no label 'spend_teir' (did you mean 'spend_tier'?) (labels: {labels_listed(demo)})"
    assert expected in done.stderr.splitlines(), done.stderr
    assert not (demo.parent / "warehouse").exists()  # `run` refused it before anything was touched
