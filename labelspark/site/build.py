"""`labelspark site`: writes the label portal, a static site of the Delta tables, into a directory.

The site is written beside its target and swapped in whole, so a web server (or someone with
the page open) sees the previous site or the new one, never half of each. A run that refreshes
the site (`outputs.site`) is never failed by it: `refresh_site` returns the error instead.
"""
from __future__ import annotations

import contextlib
import datetime as dt
import json
import logging
import shutil
import tempfile
import uuid
from dataclasses import dataclass
from importlib import resources
from pathlib import Path

from labelspark.config import Project
from labelspark.errors import SiteError
from labelspark.site.pages import render_pages
from labelspark.site.portal_data import read_warehouse

log = logging.getLogger(__name__)
DEFAULT_DAYS = 90
MARKER = ".labelspark-site"  # a directory holding it is a site this command may replace


@dataclass(frozen=True)
class BuiltSite:
    directory: Path
    pages: int
    files: int
    bytes: int
    first_date: dt.date
    last_date: dt.date


def build_site(project: Project, out: Path, day: dt.date | None = None, days: int = DEFAULT_DAYS) -> BuiltSite:
    """Writes the portal of the `days` dates ending with `day` (default: the latest with stats) into `out`."""
    if days < 1:
        raise SiteError(f"--days must be at least 1, got {days}")
    out = Path(out).absolute()
    _check_replaceable(out)
    warehouse = read_warehouse(project, day, days)
    built_at = dt.datetime.now(dt.timezone.utc)
    pages = render_pages(project, warehouse, built_at)
    with _swapped_in(out) as staging:
        for page in pages:
            target = staging / page.path
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_text(page.html, encoding="utf-8")
        _copy_static(staging / "static")
        marker = {"project": project.name, "first_date": warehouse.start.isoformat(), "last_date": warehouse.day.isoformat(),
                  "built_at": built_at.isoformat()}
        (staging / MARKER).write_text(json.dumps(marker), encoding="utf-8")
    files = [path for path in out.rglob("*") if path.is_file()]
    return BuiltSite(out, len(pages), len(files), sum(path.stat().st_size for path in files), warehouse.dates[0], warehouse.day)


def refresh_site(project: Project) -> str | None:
    """Rebuilds the site of `outputs.site` after a run; returns the error as text (None when done or
    not configured) so that the run, which succeeded, records it and still succeeds."""
    if not project.outputs.site:
        return None
    target = Path(project.resolve_path(project.outputs.site))
    try:
        built = build_site(project, target)
    except Exception as exc:  # whatever broke, the run's data stands
        error = f"site not refreshed: {type(exc).__name__}: {exc}"[:2000]
        log.warning("%s", error)
        return error
    log.info("site refreshed: %d pages in %s (%s .. %s)", built.pages, built.directory, built.first_date, built.last_date)
    return None


def refresh_after_run(project: Project) -> dict:
    """`refresh_site` as the `after_success` step the CLI gives a run: the run's details, with the
    error as `site_error` when the portal could not be rebuilt (a warning, never a failed run)."""
    error = refresh_site(project)
    return {"site_error": error} if error else {}


def _check_replaceable(out: Path) -> None:
    if out.exists() and not out.is_dir():
        raise SiteError(f"{out} is a file, not a directory")
    if out.is_dir() and any(out.iterdir()) and not (out / MARKER).exists():
        raise SiteError(f"{out} holds files that are not a labelspark site: choose a new or empty directory")


@contextlib.contextmanager
def _swapped_in(out: Path):
    """A fresh directory beside `out` to write into; on success it replaces `out` (two renames)."""
    out.parent.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix=f".{out.name}.new-", dir=out.parent))
    try:
        staging.chmod(0o755)  # mkdtemp makes it private; a web server must read it
        yield staging
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        raise
    retired = out.with_name(f".{out.name}.old-{uuid.uuid4().hex[:8]}") if out.exists() else None
    if retired:
        out.rename(retired)
    try:
        staging.rename(out)
    except OSError:
        if retired:
            retired.rename(out)
        shutil.rmtree(staging, ignore_errors=True)
        raise
    if retired:
        shutil.rmtree(retired, ignore_errors=True)


def _copy_static(target: Path) -> None:
    """The stylesheet, scripts and the bundled Chart.js (with its license), from the package."""
    with resources.as_file(resources.files("labelspark.site") / "static") as source:
        shutil.copytree(source, target)
