"""A real OpenSearch-compatible server for the publishing tests, and a small project to publish.

osmem-server (PyPI) is an in-memory OpenSearch-compatible server in one binary: one process
per test session on 127.0.0.1 and a free port, and a fresh empty clone (its own port,
milliseconds to make) for each test. Tests read what was published over plain HTTP, the
way a reader of the alias would.
"""
from __future__ import annotations

import datetime as dt

import pytest
import requests
from osmem_server import OsmemServer

from labelspark.config import load_project

CONFIG = """\
version: 1
name: shop
entity: {{key: member_id}}
sources:
  members: {{format: parquet, path: data/members, key: member_id}}
indicators:
  city: {{source: members, column: city}}
labels:
  - {{id: tier, type: string, method: import, path: tier.csv, key: member_id, value: tier}}
  - {{id: spend, type: number, method: import, path: spend.csv, key: member_id, value: spend}}
  - {{id: vip, type: boolean, method: import, path: vip.csv, key: member_id, value: vip}}
  - {{id: last_order, type: date, method: import, path: orders.csv, key: member_id, value: day}}
  - id: interests
    type: list
    method: rules
    multi: true
    values:
      - {{value: city_life, when: {{field: city, op: eq, value: Shanghai}}}}
  - {{id: old_flag, type: string, method: import, path: flag.csv, key: member_id, value: flag, status: disabled}}
outputs:
  warehouse: warehouse
  elasticsearch: {{nodes: "{url}", alias: shop_labels, writer: {writer}, retention: {retention}{extra}}}
"""

SCHEMA = "member_id string, tier string, spend double, vip boolean, last_order date, interests array<string>, old_flag string"
ROWS = [
    ("m1", "gold", 120.5, True, dt.date(2026, 3, 30), ["shoes", "apparel"], "x"),
    ("m2", None, 0.0, False, None, ["kids"], None),
    ("m3", "silver", None, None, dt.date(2026, 1, 5), [], "y"),
    ("m4", None, None, None, None, None, None),
    ("m5", "bronze", float("nan"), True, dt.date(2025, 12, 31), ["home"], None),
]


def expected_documents(day: str) -> dict[str, dict]:
    """ROWS as documents, written out by hand: nulls, NaN and the disabled label left out."""
    return {
        "m1": {"member_id": "m1", "snapshot_date": day, "tier": "gold", "spend": 120.5, "vip": True,
               "last_order": "2026-03-30", "interests": ["shoes", "apparel"]},
        "m2": {"member_id": "m2", "snapshot_date": day, "spend": 0.0, "vip": False, "interests": ["kids"]},
        "m3": {"member_id": "m3", "snapshot_date": day, "tier": "silver", "last_order": "2026-01-05", "interests": []},
        "m4": {"member_id": "m4", "snapshot_date": day},
        "m5": {"member_id": "m5", "snapshot_date": day, "tier": "bronze", "vip": True,
               "last_order": "2025-12-31", "interests": ["home"]},
    }


@pytest.fixture(scope="session")
def osmem_base():
    server = OsmemServer.start(addr="127.0.0.1:0", freeze=True, japanese=False)
    yield server
    server.close()


@pytest.fixture
def search_url(osmem_base) -> str:
    """An empty cluster of its own for one test."""
    with osmem_base.clone() as clone:
        yield clone.url


@pytest.fixture
def shop(write_config, search_url):
    """Loads the shop project publishing to this test's cluster (options overridable)."""

    def load(url: str = search_url, writer: str = "python", retention: int = 2, **extra):
        more = "".join(f", {key}: {value}" for key, value in extra.items())
        return load_project(write_config(CONFIG.format(url=url, writer=writer, retention=retention, extra=more)))

    return load


def get(url: str, path: str, missing_ok: bool = False) -> dict:
    response = requests.get(url + path, timeout=10)
    if missing_ok and response.status_code == 404:
        return {}
    response.raise_for_status()
    return response.json()


def documents(url: str, index: str) -> dict[str, dict]:
    """Every document of an index or alias, by _id."""
    hits = get(url, f"/{index}/_search?size=10000")["hits"]["hits"]
    return {hit["_id"]: hit["_source"] for hit in hits}


def alias_targets(url: str, alias: str) -> list[str]:
    return sorted(get(url, f"/_alias/{alias}", missing_ok=True))


def indices(url: str, pattern: str = "*") -> list[str]:
    return sorted(get(url, f"/{pattern}/_settings", missing_ok=True))
