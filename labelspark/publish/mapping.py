"""Index names, settings and mappings: pure functions of the config, no I/O.

Every publish creates a new physical index, so its mapping is derived afresh from the label
types; `dynamic: strict` makes a document with a field the config does not declare fail
loudly instead of growing the mapping.
"""
from __future__ import annotations

import datetime as dt
import re

from labelspark.config import Project
from labelspark.errors import PublishError
from labelspark.warehouse.names import DATE

DATE_FIELD = DATE
FIELD_TYPE_OF_KIND = {
    "string": "keyword",
    "number": "double",
    "boolean": "boolean",
    "date": "date",
    "list": "keyword",  # a keyword field holds an array of keywords as is
}
_RUN_ID = re.compile(r"^[a-z0-9][a-z0-9_-]*$")
_MAX_INDEX_BYTES = 255


def index_name(alias: str, run_date: dt.date, run_id: str) -> str:
    """`<alias>-<yyyymmdd>-<run id>`, lower case; refuses what Elasticsearch would refuse."""
    run = run_id.lower()
    if not _RUN_ID.match(run):
        raise PublishError(f"run id {run_id!r} cannot be part of an index name: use letters, digits, '_' and '-'")
    name = f"{alias.lower()}-{run_date:%Y%m%d}-{run}"
    if len(name.encode()) > _MAX_INDEX_BYTES:
        raise PublishError(f"index name {name!r} is longer than {_MAX_INDEX_BYTES} bytes")
    return name


def loading_alias(index: str) -> str:
    """The alias an index carries while it loads: created with it, dropped at the swap.

    The python writer's bulk requests target it with `require_alias`, so one that arrives
    after a failed publish deleted the index is refused instead of auto-creating a stray
    index of the same name. An index that still carries it was never served (retention).
    Not under `<alias>-*`.
    """
    return f"loading-{index}"


def index_pattern(alias: str) -> re.Pattern[str]:
    """Matches the physical indices published under `alias` (and no other alias's)."""
    return re.compile(rf"^{re.escape(alias.lower())}-\d{{8}}-[a-z0-9_-]+$")


def published_labels(project: Project) -> tuple:
    """The labels a publish carries: the enabled ones, in config order."""
    return project.enabled_labels


def index_body(project: Project, index: str) -> dict:
    """Settings for loading, a strict mapping (entity key, snapshot_date, one field per enabled
    label) and the loading alias."""
    properties = {project.key: {"type": "keyword"}, DATE_FIELD: {"type": "date"}}
    for label in published_labels(project):
        properties[label.id] = {"type": FIELD_TYPE_OF_KIND[label.type]}
    return {
        "settings": load_settings(),
        "mappings": {"dynamic": "strict", "properties": properties},
        "aliases": {loading_alias(index): {}},
    }


def load_settings() -> dict:
    """While loading: no periodic refresh and no replicas to copy every document to."""
    return {"index": {"refresh_interval": "-1", "number_of_replicas": 0}}


def serving_settings() -> dict:
    """Before the swap: both settings reset to the cluster's defaults (null resets a setting)."""
    return {"index": {"refresh_interval": None, "number_of_replicas": None}}
