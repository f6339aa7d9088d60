"""The workload as a labelspark config (YAML)."""
from __future__ import annotations

from pathlib import Path

import yaml

from synthetic import TIMEZONE, DataSet
from workload_labels import Workload
from workload_terms import KEY


def config_yaml(work: Workload, data: DataSet, warehouse: Path) -> str:
    """The labelspark config of the workload."""
    config = {
        "version": 1,
        "name": "bench_retail",
        "timezone": TIMEZONE,
        "entity": {"key": KEY, "kind": "member_id"},
        "sources": {
            "members": {
                "format": "parquet", "path": str(data.members), "key": KEY, "time": "updated_at",
                "clean": {"drop_null": [KEY], "trim": ["city"], "lower": ["email"],
                          "dedupe": {"by": [KEY], "keep": "latest"}, "filter": "status != 'deleted'"},
            },
            "orders": {
                "format": "parquet", "path": str(data.orders), "key": KEY, "time": "order_time",
                "clean": {"drop_null": [KEY, "amount"], "filter": "amount > 0"},
            },
        },
        "indicators": {name: ind.config for name, ind in work.indicators.items()},
        "labels": [label.config for label in work.labels],
        "segments": _segments(work),
        "outputs": {"warehouse": str(warehouse)},
    }
    return yaml.safe_dump(config, sort_keys=False, allow_unicode=True, width=200)


def _segments(work: Workload) -> list[dict]:
    booleans = [label.config["id"] for label in work.labels if label.kind == "boolean" and label.config["method"] == "rules"]
    return [{"id": "bench_segment", "when": {"any": [{"label": b, "op": "eq", "value": True} for b in booleans[:3]]}}] if booleans else []


def write_config(work: Workload, data: DataSet, directory: Path, warehouse: Path) -> Path:
    directory.mkdir(parents=True, exist_ok=True)
    path = directory / "labelspark.yaml"
    path.write_text(config_yaml(work, data, warehouse))
    return path
