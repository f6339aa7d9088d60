"""Undoing a failed run: every table users read goes back to the version it had before.

The versions are noted when the run starts; on failure each table that moved is restored
with delta-rs `restore` (a commit that re-adds the old files: no data is rewritten, and
readers of the latest version see the table exactly as before the run), and a table the
run created is deleted. label_runs is not rolled back: it records the failure.
"""
from __future__ import annotations

import logging
from dataclasses import dataclass

from labelspark.warehouse.deltars import existing_table, filesystem_of, open_table


log = logging.getLogger(__name__)


@dataclass
class Checkpoint:
    versions: dict[str, int | None]  # table path -> version before the run (None: no table)

    @classmethod
    def take(cls, paths: list[str]) -> "Checkpoint":
        versions = {}
        for path in paths:
            try:
                versions[path] = _version(path)
            except Exception as exc:  # a store delta-rs cannot reach (hdfs://): no rollback, said up front
                log.warning("%s cannot be rolled back on failure (%s: %s)", path, type(exc).__name__, exc)
        return cls(versions)

    def restore(self) -> bool:
        """Puts every table back; False when some could not be (each logged, for an operator or the next run)."""
        restored = True
        for path, before in self.versions.items():
            try:
                now = _version(path)
                if now == before:
                    continue
                if before is None:
                    _delete(path)
                    log.warning("rolled back: removed %s, created by the failed run", path)
                else:
                    open_table(path).restore(before)
                    log.warning("rolled back: %s restored to version %d (the failed run had left %s)", path, before, now)
            except Exception as exc:  # keep restoring the others; the run's own error is what is raised
                log.error("could not roll back %s to version %s: %s: %s", path, before, type(exc).__name__, exc)
                restored = False
        return restored


def _version(path: str) -> int | None:
    table = existing_table(path)
    return None if table is None else table.version()


def _delete(path: str) -> None:
    filesystem, location = filesystem_of(path)
    filesystem.delete_dir(location)
