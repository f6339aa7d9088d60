"""One exception class per kind of failure; each message names what to fix.

The CLI maps `exit_code` to the process exit status: 2 for bad config or arguments,
1 for a failure at run time.
"""
from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path


class LabelsparkError(Exception):
    exit_code = 1


@dataclass(frozen=True)
class Problem:
    """One thing wrong with a config, located by its YAML path (and line, when known)."""

    path: str
    message: str
    line: int | None = None

    def render(self, file: Path | str | None) -> str:
        where = str(file) if file else "<config>"
        if self.line is not None:
            where += f":{self.line}"
        location = f" {self.path}:" if self.path else ""
        return f"{where}:{location} {self.message}"


class ConfigError(LabelsparkError):
    """A config that cannot run; carries every problem found, not just the first."""

    exit_code = 2

    def __init__(self, file: Path | str | None, problems: list[Problem]):
        self.file = file
        self.problems = problems
        count = f"{len(problems)} problem{'s' if len(problems) != 1 else ''}"
        lines = "\n".join("  " + p.render(file) for p in problems)
        super().__init__(f"invalid config ({count}):\n{lines}")


class SourceError(LabelsparkError):
    """Bad data at run time: a missing path or table, a missing or mistyped column."""

    def __init__(self, source: str, message: str, column: str | None = None):
        self.source = source
        self.column = column
        culprit = f"source '{source}'" + (f", column '{column}'" if column else "")
        super().__init__(f"{culprit}: {message}")


class EngineError(LabelsparkError):
    """The chosen engine could not start or lacks a capability (e.g. Delta jars)."""


class UnknownReference(LabelsparkError):
    """An argument names a label, entity, segment or date that does not exist; the message
    lists the known ones, so the user can correct the command."""

    exit_code = 2


class DirectoryNotEmpty(LabelsparkError):
    """A command would write over files in a directory the user did not offer (`demo DIR` without --force)."""

    exit_code = 2
