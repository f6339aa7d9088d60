"""Screenshots of the label portal's main pages for the README, taken in headless Chromium.

    python scripts/site_screenshots.py SITE_DIR docs/   (SITE_DIR: written by `labelspark site`)
"""
from __future__ import annotations

import sys
from pathlib import Path

from playwright.sync_api import sync_playwright

CHROMIUM = "/usr/bin/chromium"
# page, file, the section shown (None: the first screen), chart type picked first
SHOTS = [
    ("index.html", "site-labels.png", None, None),
    ("labels/spend_tier.html", "site-label.png", "main", "donut"),
    ("labels/interests.html", "site-list-label.png", "#distribution", None),
    ("segments.html", "site-segments.png", None, None),
    ("runs.html", "site-runs.png", None, None),
]


def main(site: Path, out: Path) -> None:
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=["--no-sandbox"])
        page = browser.new_page(viewport={"width": 1280, "height": 860})
        for name, file, section, chart_type in SHOTS:
            page.goto((site / name).resolve().as_uri())
            if chart_type:
                page.select_option("#chart-type", chart_type)
            (page.locator(section) if section else page).screenshot(path=str(out / file))
            print(f"wrote {out / file}")
        browser.close()


if __name__ == "__main__":
    main(Path(sys.argv[1]), Path(sys.argv[2]))
