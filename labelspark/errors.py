"""One exception class per kind of failure; each message names what to fix.

The CLI maps `exit_code` to the process exit status, so an orchestrator can tell "retry
later" from "broken" (README, "Exit codes"); an interrupt exits 128 + the signal's number.
"""
from __future__ import annotations

import difflib
import signal
from dataclasses import dataclass
from typing import Iterable
from pathlib import Path

EXIT_FAILURE = 1  # a failure at run time: worth a few retries
EXIT_USAGE = 2  # bad config or arguments: retrying changes nothing
EXIT_BUSY = 75  # EX_TEMPFAIL: another run holds the warehouse, retry later


class LabelsparkError(Exception):
    exit_code = EXIT_FAILURE


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

    exit_code = EXIT_USAGE

    def __init__(self, file: Path | str | None, problems: list[Problem]):
        self.file = file
        self.problems = problems
        count = f"{len(problems)} problem{'s' if len(problems) != 1 else ''}"
        lines = "\n".join("  " + p.render(file) for p in problems)
        super().__init__(f"invalid config ({count}):\n{lines}")


class UsageError(LabelsparkError):
    """Arguments that cannot run (the config itself is fine)."""

    exit_code = EXIT_USAGE


class StaleRunDate(UsageError):
    """A run date past every source's latest row by more than its freshness allows: a forgotten or
    mistyped `--date` (computed, everyone would read as inactive), refused before the lock."""


class SourceError(LabelsparkError):
    """Bad data at run time: a missing path or table, a missing or mistyped column."""

    def __init__(self, source: str, message: str, column: str | None = None):
        self.source = source
        self.column = column
        culprit = f"source '{source}'" + (f", column '{column}'" if column else "")
        super().__init__(f"{culprit}: {message}")


class EngineError(LabelsparkError):
    """The chosen engine could not start or lacks a capability (e.g. Delta jars)."""


class UnsupportedSpark(EngineError):
    """A Spark version the pinned Delta Lake (or connector) jars do not support: refused before
    anything is written, since such a pair can work for days and then break (labelspark/engine/jars.txt)."""

    exit_code = EXIT_USAGE


class Interrupted(KeyboardInterrupt):
    """SIGINT or SIGTERM stopped the job: its writes are undone and the process exits 128 + the
    signal's number (130, 143). A KeyboardInterrupt, so code that lets Ctrl-C through lets it through."""

    def __init__(self, signum: int):
        self.signum = signum
        super().__init__(f"interrupted by {signal.Signals(signum).name}")

    @property
    def exit_code(self) -> int:
        return 128 + self.signum


class WarehouseLocked(LabelsparkError):
    """Another run holds the warehouse: retry later."""

    exit_code = EXIT_BUSY


class RestoreIncomplete(LabelsparkError):
    """Some table could not be put back; the warehouse lock stays until it is."""


class PublishError(LabelsparkError):
    """Publishing to Elasticsearch/OpenSearch failed; the alias still points where it did."""


class SnapshotMissing(LabelsparkError):
    """Nothing to publish: the date was never computed."""


class NoResults(LabelsparkError):
    """Nothing to show: the tables are missing or hold no row for the request."""


class SiteError(LabelsparkError):
    """The label portal cannot be written where asked."""

    exit_code = EXIT_USAGE


class UnknownReference(LabelsparkError):
    """An argument names a label, entity, segment or date that does not exist; the message
    lists the known ones, so the user can correct the command."""

    exit_code = EXIT_USAGE

    @classmethod
    def among(cls, kind: str, name: str, known: Iterable[str]) -> "UnknownReference":
        """'no label 'spend_teir' (did you mean 'spend_tier'?) (labels: ...)': the closest known
        name and all of them, the way every command reports a name it does not know."""
        known = list(known)
        close = difflib.get_close_matches(name, known, n=1)
        suggestion = f" (did you mean '{close[0]}'?)" if close else ""
        return cls(f"no {kind} '{name}'{suggestion} ({kind}s: {', '.join(known) or 'none in the config'})")


class DirectoryNotEmpty(LabelsparkError):
    """A command would write over files in a directory the user did not offer (`demo DIR` without --force)."""

    exit_code = EXIT_USAGE
