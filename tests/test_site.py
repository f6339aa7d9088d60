"""The label portal, built from a demo warehouse and driven in a real browser (headless Chromium
through Playwright), opened from disk: what the pages show is checked against the Delta tables
read with delta-rs."""
import collections
import dataclasses
import csv
import datetime as dt
import io
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest
from playwright.sync_api import sync_playwright

from labelspark.warehouse import readers
from labelspark.config import load_project
from labelspark.cli.demo import write_demo
from labelspark.errors import SourceError
from labelspark.compute.run import run
from labelspark.site import SiteError, build_site, refresh_site
from labelspark.warehouse.deltars import read_rows

DAYS = [dt.date(2026, 3, 29), dt.date(2026, 3, 30), dt.date(2026, 3, 31)]
CHROMIUM = os.environ.get("LABELSPARK_CHROMIUM", "/usr/bin/chromium")


@pytest.fixture(scope="module")
def demo(spark, tmp_path_factory):
    config = write_demo(tmp_path_factory.mktemp("site") / "demo")
    project = load_project(config)
    for day in DAYS:
        run(spark, project, day)
    moved = project.sources["members"].model_copy(update={"path": "data/moved_away"})
    with pytest.raises(SourceError):  # a failed run, for the runs page to show with its error
        run(spark, dataclasses.replace(project, sources={**project.sources, "members": moved}), DAYS[-1])
    return project


@pytest.fixture(scope="module")
def site(demo, tmp_path_factory):
    return build_site(demo, tmp_path_factory.mktemp("portal") / "site").directory


@pytest.fixture(scope="module")
def browser():
    if not Path(CHROMIUM).exists():
        pytest.fail(f"no Chromium at {CHROMIUM}: apt-get install chromium (or set LABELSPARK_CHROMIUM)")
    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=CHROMIUM, args=["--no-sandbox"])
        yield chromium
        chromium.close()


@pytest.fixture
def page(browser):
    """A fresh page; the test fails on any console error, page error or request off the disk."""
    context = browser.new_context(viewport={"width": 1280, "height": 900}, accept_downloads=True)
    tab = context.new_page()
    problems = []
    tab.on("console", lambda message: problems.append(f"console {message.type}: {message.text}") if message.type in ("error", "warning") else None)
    tab.on("pageerror", lambda error: problems.append(f"page error: {error}"))
    tab.on("request", lambda request: problems.append(f"fetched {request.url}") if not request.url.startswith(("file:", "blob:")) else None)
    yield tab
    context.close()
    assert problems == []


def stats(project, label_id, day):
    rows = read_rows(f"{project.warehouse}/label_stats").to_pylist()
    return sorted((r for r in rows if r["label_id"] == label_id and r["snapshot_date"] == day), key=lambda r: r["rank"])


def table_rows(page, selector):
    return page.eval_on_selector_all(f"{selector} tbody tr", "rows => rows.map(r => [...r.cells].map(c => c.textContent))")


def chart(page, canvas_id):
    return page.evaluate("""id => { const c = Chart.getChart(document.getElementById(id));
        return {type: c.config.type, axis: c.options.indexAxis, labels: c.data.labels,
                datasets: c.data.datasets.map(d => ({label: d.label, data: d.data}))}; }""", canvas_id)


def download(page, selector):
    with page.expect_download() as info:
        page.click(selector)
    return list(csv.DictReader(io.StringIO(Path(info.value.path()).read_text(encoding="utf-8"))))


def shown(value):
    return "(null)" if value is None else value


def percent(share):
    return f"{share * 100:.2f}%"


# -- the files ----------------------------------------------------------------------------------

def test_the_site_is_self_contained(demo, site):
    pages = sorted(str(path.relative_to(site)) for path in site.rglob("*.html"))
    assert pages == sorted(["index.html", "segments.html", "runs.html", *(f"labels/{label.id}.html" for label in demo.labels)])
    for path in site.rglob("*.html"):
        text = path.read_text(encoding="utf-8")
        for reference in re.findall(r'(?:src|href)="([^"]+)"', text):
            assert "://" not in reference and not reference.startswith("/"), (path, reference)
            assert (path.parent / reference).resolve().exists(), (path, reference)
    assert (site / "static/vendor/chart.js-LICENSE.md").exists()


def test_rebuilding_replaces_the_site_and_refuses_foreign_directories(demo, tmp_path):
    out = tmp_path / "portal"
    build_site(demo, out, days=1)
    assert "2026-03-30" not in (out / "labels/age_band.html").read_text(encoding="utf-8")
    build_site(demo, out, day=DAYS[1], days=2)
    assert "2026-03-30" in (out / "labels/age_band.html").read_text(encoding="utf-8")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["portal"]  # nothing staged or retired is left behind
    foreign = tmp_path / "documents"
    foreign.mkdir()
    (foreign / "notes.txt").write_text("mine")
    with pytest.raises(SiteError, match="not a labelspark site"):
        build_site(demo, foreign)
    assert [p.name for p in foreign.iterdir()] == ["notes.txt"]


def test_refresh_after_a_run_reports_instead_of_failing(demo, tmp_path, caplog):
    configured = demo.outputs.model_copy(update={"site": str(tmp_path / "portal")})
    project = dataclasses.replace(demo, outputs=configured)
    assert refresh_site(project) is None
    assert (tmp_path / "portal/index.html").exists()
    (tmp_path / "portal/.labelspark-site").unlink()  # now a directory of someone else's files
    error = refresh_site(project)
    assert error.startswith("site not refreshed: SiteError") and "not a labelspark site" in error
    assert "site not refreshed" in caplog.text
    assert refresh_site(demo) is None  # no `outputs.site`: nothing to do


def test_site_command(demo, tmp_path):
    done = subprocess.run([sys.executable, "-m", "labelspark", "site", str(demo.file), "--out", str(tmp_path / "portal"),
                           "--days", "2"], capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr
    assert "label portal of 2026-03-30 .. 2026-03-31" in done.stdout and (tmp_path / "portal/index.html").exists()
    nowhere = subprocess.run([sys.executable, "-m", "labelspark", "site", str(demo.file)], capture_output=True, text=True, timeout=300)
    assert nowhere.returncode == 2 and "give --out DIR" in nowhere.stderr


def test_stats_donut_of_a_list_label_is_drawn_as_bars(demo, tmp_path):
    """The CLI follows the portal's rule: shares of a list label are no slices of one whole."""
    done = subprocess.run([sys.executable, "-m", "labelspark", "stats", str(demo.file), "--label", "interests",
                           "--chart-type", "donut", "--chart", str(tmp_path / "interests.png")], capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr
    assert "drawn as bars, not a donut" in done.stderr
    assert (tmp_path / "interests.png").read_bytes()[:4] == b"\x89PNG"


# -- in the browser -----------------------------------------------------------------------------

def test_search_finds_a_label_and_opens_it(demo, site, page):
    page.goto((site / "index.html").as_uri())
    assert page.locator(".label-item:visible").count() == len(demo.labels)
    page.fill("#search", "Spend")
    expected = sorted(label.id for label in demo.labels if "spend" in label.id or "spend" in (label.name or "").lower())
    assert sorted(page.eval_on_selector_all(".label-item:not([hidden])", "items => items.map(i => i.dataset.id)")) == expected
    page.fill("#search", "interests")
    assert page.eval_on_selector_all(".label-item:not([hidden])", "items => items.map(i => i.dataset.id)") == ["interests"]
    page.click(".label-item:not([hidden]) a")
    assert page.url.endswith("/labels/interests.html")
    assert page.inner_text("#label-title").startswith("Interests")
    facts = page.inner_text("#basic-info")
    assert "list" in facts and "Rules" in facts and "daily" in facts and "enabled" in facts
    assert "categories has any of “apparel”, “shoes”" in page.inner_text("#rules")


def test_distribution_matches_the_table_in_every_chart_type(demo, site, page):
    expected = stats(demo, "age_band", DAYS[-1])
    page.goto((site / "labels/age_band.html").as_uri())
    assert table_rows(page, "#dist-table") == [
        [str(r["rank"]), shown(r["value"]), f"{r['users']:,}", percent(r["proportion"])] for r in expected
    ]
    bars = chart(page, "dist-chart")
    assert (bars["type"], bars["axis"]) == ("bar", "y")
    assert bars["datasets"][0]["data"] == [r["users"] for r in expected]

    page.select_option("#chart-type", "donut")
    page.fill("#top-n", "2")
    donut = chart(page, "dist-chart")
    entities = 500
    top = expected[:2]
    assert donut["type"] == "doughnut"
    assert donut["datasets"][0]["data"] == [r["users"] for r in top] + [entities - sum(r["users"] for r in top)]
    assert donut["labels"] == [f"{shown(r['value'])}: {percent(r['proportion'])}" for r in top] + [
        f"(other values): {percent(1 - sum(r['users'] for r in top) / entities)}"]
    assert len(table_rows(page, "#dist-table")) == 2

    page.select_option("#chart-type", "column")
    page.fill("#top-n", "50")
    page.select_option("#sort-by", "value")
    assert (chart(page, "dist-chart")["axis"]) == "x"
    by_value = sorted(expected, key=lambda r: (r["value"] is None, r["value"] or ""))
    assert [row[1] for row in table_rows(page, "#dist-table")] == [shown(r["value"]) for r in by_value]
    exported = download(page, "button[data-csv=distribution]")
    assert [(r["snapshot_date"], r["value"], int(r["users"]), int(r["rank"])) for r in exported] == [
        ("2026-03-31", r["value"] or "", r["users"], r["rank"]) for r in by_value
    ]


def test_a_list_label_is_drawn_as_shares_of_entities(demo, site, page):
    expected = stats(demo, "interests", DAYS[-1])
    assert sum(r["proportion"] for r in expected) > 1  # several values per entity
    page.goto((site / "labels/interests.html").as_uri())
    assert page.is_disabled("#chart-type option[value=donut]")
    assert "add up to more than 100%" in page.inner_text("#list-note")
    bars = chart(page, "dist-chart")  # each bar the share of all entities, on a 0-100% axis
    assert bars["type"] == "bar" and bars["datasets"][0]["data"] == [100 * r["proportion"] for r in expected]
    assert [row[3] for row in table_rows(page, "#dist-table")] == [percent(r["proportion"]) for r in expected]


def test_history_filtered_by_value_and_dates(demo, site, page):
    page.goto((site / "labels/active_buyer.html").as_uri())
    page.select_option("#hist-value", label="true")
    page.fill("#hist-from", "2026-03-30")
    page.dispatch_event("#hist-from", "change")
    expected = readers.history_rows(demo, "active_buyer", "true", DAYS[1], DAYS[-1])  # what `labelspark history` prints
    expected.sort(key=lambda r: r["snapshot_date"], reverse=True)
    assert table_rows(page, "#hist-table") == [
        [r["snapshot_date"].isoformat(), "true", f"{r['users']:,}", percent(r["proportion"]), f"{r['entered']:,}", f"{r['left']:,}"]
        for r in expected
    ]
    lines = chart(page, "hist-chart")
    assert lines["labels"] == ["2026-03-30", "2026-03-31"]
    assert lines["datasets"] == [{"label": "true", "data": [r["users"] for r in reversed(expected)]}]
    exported = download(page, "button[data-csv=history]")
    assert list(exported[0]) == readers.HISTORY_COLUMNS
    assert [(r["snapshot_date"], int(r["users"]), int(r["entered"]), int(r["left"])) for r in exported] == [
        (r["snapshot_date"].isoformat(), r["users"], r["entered"], r["left"]) for r in expected
    ]


def test_segments_show_their_size_over_time(demo, site, page):
    members = read_rows(f"{demo.warehouse}/segment_members").to_pylist()
    sizes = collections.Counter((r["segment_id"], r["snapshot_date"]) for r in members)
    page.goto((site / "segments.html").as_uri())
    section = "#segment-young_big_spenders"
    assert "age_band = “adult”" in page.inner_text(f"{section} .rule")
    assert [(row[0], row[1]) for row in table_rows(page, section)] == [
        (day.isoformat(), f"{sizes[('young_big_spenders', day)]:,}") for day in reversed(DAYS)
    ]
    exported = download(page, f"{section} button.csv")
    assert [int(r["members"]) for r in exported] == [sizes[("young_big_spenders", day)] for day in reversed(DAYS)]


def test_runs_show_status_rows_and_duration(demo, site, page):
    runs = read_rows(f"{demo.warehouse}/label_runs").to_pylist()
    runs.sort(key=lambda r: r["started_at"], reverse=True)
    page.goto((site / "runs.html").as_uri())
    rows = table_rows(page, "#runs-table")
    assert [(row[0], row[1], row[3], row[9]) for row in rows] == [
        (r["snapshot_date"].isoformat(), r["status"], "-" if r["rows"] is None else f"{r['rows']:,}", r["run_id"]) for r in runs
    ]
    assert all(float(row[5]) > 0 for row in rows)
    assert "unknown_ids" in rows[-1][8]  # the first run's import ids that are no entities
    failed = [r for r in runs if r["status"] == "failed"]
    assert len(failed) == 1 and "moved_away" in failed[0]["error"]
    page.select_option("#run-status", "failed")
    assert [(row[1], row[7]) for row in table_rows(page, "#runs-table")] == [("failed", failed[0]["error"])]
    exported = download(page, "button[data-csv=runs]")
    assert [(r["run_id"], r["error"]) for r in exported] == [(failed[0]["run_id"], failed[0]["error"])]
