"""The README works as written. Its first screen: the first command (after the install) writes the
demo and runs it, the second names the test script CI runs, and the delta-rs example reads the
snapshot the first one wrote. Its terminal examples, by one rule: every `$ ` line of a fenced block
without a language is a command (a trailing `\\` continues it), run in the demo's directory in
README order, each from the state the one before it left; it exits 0 unless the transcript's next
command is `echo $?`, whose output is the code it gives. `bash` blocks are set-ups that need a
cluster, servers, Java or credentials, and are not run (the first screen's is, here)."""
from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
README = (ROOT / "README.md").read_text(encoding="utf-8")
EXAMPLE_TRIES = 8


def first_block(language: str) -> str:
    return re.search(rf"```{language}\n(.*?)```", README, re.S).group(1)


def first_screen_demo() -> str:
    """The first screen's first command, less the install: writes the demo and runs it."""
    commands = [line for line in first_block("bash").splitlines() if line and not line.startswith("#")]
    install, run_demo = commands[0].split(" && ", 1)
    assert install == "pip install -e ."
    assert commands[1] == 'pip install -e ".[dev]" && scripts/test.sh'
    return run_demo


def shell(command: str, cwd: Path) -> subprocess.CompletedProcess:
    """`command` in bash, with this interpreter's `labelspark` first on PATH."""
    path = f"{Path(sys.executable).parent}{os.pathsep}{os.environ['PATH']}"
    return subprocess.run(["bash", "-c", command], cwd=cwd, env={**os.environ, "PATH": path},
                          capture_output=True, text=True, timeout=600)


def terminal_examples() -> list[tuple[str, int]]:
    """Each `$ ` command of the README's transcripts (fenced blocks without a language), in order,
    with the exit code it gives: 0, or the output of an `echo $?` right after it."""
    examples: list[tuple[str, int]] = []
    for language, block in re.findall(r"^```(\w*)\n(.*?)^```$", README, re.S | re.M):
        lines = block.splitlines() if not language else []
        for number, line in enumerate(lines):
            if not line.startswith("$ "):
                continue
            command = line[2:]
            while command.endswith("\\"):
                number += 1
                command = command[:-1] + lines[number].strip()
            if command == "echo $?":
                examples[-1] = (examples[-1][0], int(lines[number + 1]))
            else:
                examples.append((command, 0))
    return examples


@pytest.fixture(scope="module")
def first_screen(tmp_path_factory) -> Path:
    """The folder the first screen's command ran in (it wrote demo/ there and ran it), once for both
    tests: the examples run in a copy, so the first test reads what the command alone left."""
    folder = tmp_path_factory.mktemp("first_screen")
    done = shell(first_screen_demo(), folder)
    assert done.returncode == 0, done.stderr
    return folder


def test_the_first_screen_runs_the_demo_and_the_delta_rs_example_reads_it(first_screen):
    assert "scripts/test.sh" in (ROOT / ".ci" / "run").read_text()
    tmp_path = first_screen
    # a reader that exits right after its read is where delta-rs and Arrow aborted at shutdown
    # (exit 134 after a correct answer, 1 try in 2 with `to_pandas(partitions=...)`): try it often
    for _ in range(EXAMPLE_TRIES):
        read = subprocess.run([sys.executable, "-c", first_block("python")], cwd=tmp_path,
                              capture_output=True, text=True, timeout=300)
        assert read.returncode == 0, read.stderr
        assert read.stdout.strip() == "500"


def test_every_terminal_example_runs_as_written_after_the_first_screen(first_screen, tmp_path):
    examples = terminal_examples()
    assert len(examples) >= 10 and ("labelspark validate broken.yaml", 2) in examples
    shutil.copytree(first_screen / "demo", tmp_path / "demo")  # the state the first screen left (paths in it are relative)
    for command, code in examples:
        done = shell(command, tmp_path / "demo")
        assert done.returncode == code, f"$ {command}\nexit {done.returncode}, the README says {code}\n{done.stderr[-3000:]}"
