"""How long the label portal takes to build, and how big it is, for 200 labels over 90 dates.

Writes a config of 200 labels (every method; string, boolean, list, bucketed and open values)
and 20 segments, and the Delta tables a warehouse would hold after 90 daily runs, with the
schemas the pipeline writes, straight from numpy with delta-rs (one commit per date for the
dated tables, as runs make them). Then times `build_site` and prints the site's size.

    python benchmarks/site_scale.py --work-dir /tmp/site-scale [--entities 10000]
"""
from __future__ import annotations

import argparse
import datetime as dt
import shutil
import time
from pathlib import Path

import numpy as np
import pyarrow as pa
from deltalake import write_deltalake

from labelspark.config import load_project
from labelspark.site import build_site
from labelspark.warehouse.catalog import catalog_rows

LABELS, SEGMENTS, DATES = 200, 20, 90
LAST_DATE = dt.date(2026, 3, 31)
BUCKETS = ["(-inf,0)", "[0,100)", "[100,1000)", "[1000,+inf)"]


def label_yaml(i: int) -> tuple[str, list]:
    """The config text of label i and the values its stats hold (None: entities without a value)."""
    head = f"  - {{id: l{i:03d}, name: Label {i} of kind {i % 10}, group: Group {i % 10}/Sub {i // 10 % 4}, "
    kind = i % 10
    if kind < 5:
        values = [f"v{j}" for j in range(3 + i % 6)]
        rules = ", ".join(f"{{value: {v}, when: {{field: score, op: between, value: [{j * 10}, {j * 10 + 9}]}}}}" for j, v in enumerate(values))
        return head + f"type: string, method: rules, values: [{rules}]}}", values + [None]
    if kind == 5:
        return head + ("type: boolean, method: rules, schedule: weekly:MON, values: [{value: true, when: {field: score, op: gte, value: 50}}, "
                       "{value: false, when: {field: score, op: lt, value: 50}}]}"), ["true", "false", None]
    if kind == 6:
        tags = [f"t{j}" for j in range(4)]
        rules = ", ".join(f"{{value: {t}, when: {{field: tags, op: contains, value: {t}}}}}" for t in tags)
        return head + f"type: list, method: rules, multi: true, values: [{rules}]}}", tags + [None]
    if kind == 7:
        return head + "type: number, method: metric, indicator: score, buckets: [0, 100, 1000]}", BUCKETS + [None]
    if kind == 8:
        days = [(LAST_DATE - dt.timedelta(days=d)).isoformat() for d in range(60)]
        return head + "type: date, method: metric, indicator: last_seen, schedule: monthly:1}", days + [None]
    return head + "type: string, method: distribution, indicator: score, tiers: {low: 0.5, mid: 0.9, high: 1.0}}", ["low", "mid", "high", None]


def write_config(directory: Path) -> tuple[Path, dict[str, list]]:
    labels = {f"l{i:03d}": label_yaml(i) for i in range(LABELS)}
    segments = "\n".join(
        f"  - {{id: s{j:02d}, when: {{all: [{{label: l{j * 10:03d}, op: eq, value: v0}}, {{label: l{j * 10 + 5:03d}, op: eq, value: true}}]}}}}"
        for j in range(SEGMENTS)
    )
    config = directory / "labelspark.yaml"
    config.write_text(
        "version: 1\nname: site_scale\nentity: {key: member_id}\n"
        "sources:\n  members: {format: parquet, path: data/members, key: member_id, time: updated_at}\n"
        "indicators:\n  score: {source: members, column: score, type: number}\n"
        "  tags: {source: members, column: tags, type: list}\n  last_seen: {source: members, column: last_seen, type: date}\n"
        "labels:\n" + "\n".join(text for text, _ in labels.values()) + f"\nsegments:\n{segments}\noutputs: {{warehouse: warehouse}}\n",
        encoding="utf-8",
    )
    return config, {label_id: values for label_id, (_, values) in labels.items()}


def stats_of(day_index: int, values: dict[str, list], entities: int, rng: np.random.Generator) -> pa.Table:
    """label_stats of one date: every label's values with users drifting a little from day to day."""
    rows = []
    for number, (label_id, names) in enumerate(values.items()):
        weights = np.random.default_rng(number).dirichlet(np.ones(len(names)))
        weights = weights * (1 + 0.05 * np.sin(day_index / 7 + np.arange(len(names))))
        if number % 10 == 6:  # a list label: each element held by its own share of entities
            users = np.round(np.clip(weights * len(names) * 0.6, 0.05, 0.95) * entities).astype(int)
        else:
            users = rng.multinomial(entities, weights / weights.sum())
        ranked = sorted(((int(u), v) for u, v in zip(users, names) if u > 0), key=lambda r: (-r[0], r[1] is None, r[1] or ""))
        rows += [(label_id, v, u, u / entities, rank) for rank, (u, v) in enumerate(ranked, 1)]
    label_id, value, users, proportion, rank = zip(*rows)
    return pa.table({"label_id": pa.array(label_id, pa.string()), "value": pa.array(value, pa.string()),
                     "users": pa.array(users, pa.int64()), "proportion": pa.array(proportion, pa.float64()),
                     "rank": pa.array(rank, pa.int32()), "snapshot_date": pa.array([dates()[day_index]] * len(rows), pa.date32())})


def history(values: dict[str, list], entities: int, rng: np.random.Generator) -> pa.Table:
    """label_history: a version per entity and label from the first date; a third change once, on a random date."""
    labels = list(values)
    pairs = entities * len(labels)
    label_of = np.tile(np.arange(len(labels)), entities)
    entity_of = np.repeat(np.arange(entities), len(labels))
    changed = rng.random(pairs) < 0.3
    change_day = rng.integers(1, DATES, pairs)
    first, second = rng.random(pairs), rng.random(pairs)
    day_zero, days = dates()[0], dates()

    def text(choice: np.ndarray, label_index: np.ndarray) -> list:
        return [values[labels[li]][int(c * (len(values[labels[li]]) - 1))] for c, li in zip(choice, label_index)]

    opened = np.concatenate([np.arange(pairs), np.flatnonzero(changed)])
    is_second = np.arange(len(opened)) >= pairs
    valid_from = [days[change_day[p]] if s else day_zero for p, s in zip(opened, is_second)]
    valid_to = [None if s or not changed[p] else days[change_day[p]] for p, s in zip(opened, is_second)]
    return pa.table({
        "member_id": pa.array([f"m{e:07d}" for e in entity_of[opened]], pa.string()),
        "label_id": pa.array([labels[li] for li in label_of[opened]], pa.string()),
        "value": pa.array(text(np.where(is_second, second[opened], first[opened]), label_of[opened]), pa.string()),
        "valid_from": pa.array(valid_from, pa.date32()),
        "valid_to": pa.array(valid_to, pa.date32()),
        "is_current": pa.array([to is None for to in valid_to], pa.bool_()),
    })


def segment_members(day_index: int, entities: int, rng: np.random.Generator) -> pa.Table:
    sizes = [int(entities * (0.05 + 0.25 * j / SEGMENTS)) for j in range(SEGMENTS)]
    ids = [f"s{j:02d}" for j, size in enumerate(sizes) for _ in range(size)]
    members = np.concatenate([rng.choice(entities, size, replace=False) for size in sizes])
    return pa.table({"segment_id": pa.array(ids, pa.string()), "member_id": pa.array([f"m{e:07d}" for e in members], pa.string()),
                     "snapshot_date": pa.array([dates()[day_index]] * len(ids), pa.date32())})


def runs(entities: int) -> pa.Table:
    started = [dt.datetime.combine(day + dt.timedelta(days=1), dt.time(2, 0), tzinfo=dt.timezone.utc) for day in dates()]
    return pa.table({
        "run_id": pa.array([f"run{i:04d}" for i in range(DATES)], pa.string()),
        "snapshot_date": pa.array(dates(), pa.date32()),
        "status": pa.array(["failed" if i == 40 else "succeeded" for i in range(DATES)], pa.string()),
        "labels": pa.array([[f"l{i:03d}" for i in range(LABELS)]] * DATES, pa.list_(pa.string())),
        "rows": pa.array([None if i == 40 else entities for i in range(DATES)], pa.int64()),
        "started_at": pa.array(started, pa.timestamp("us", tz="UTC")),
        "finished_at": pa.array([s + dt.timedelta(minutes=12) for s in started], pa.timestamp("us", tz="UTC")),
        "index": pa.array([None] * DATES, pa.string()),
        "error": pa.array(["SourceError: source 'members': no data at data/members" if i == 40 else None for i in range(DATES)], pa.string()),
        "details": pa.array([None] * DATES, pa.string()),
    })


def dates() -> list[dt.date]:
    return [LAST_DATE - dt.timedelta(days=DATES - 1 - i) for i in range(DATES)]


def write_warehouse(directory: Path, entities: int) -> Path:
    config, values = write_config(directory)
    warehouse, rng = directory / "warehouse", np.random.default_rng(7)
    for i in range(DATES):  # one commit per date, as daily runs make them
        write_deltalake(warehouse / "label_stats", stats_of(i, values, entities, rng), mode="append", partition_by=["snapshot_date"])
        write_deltalake(warehouse / "segment_members", segment_members(i, entities, rng), mode="append", partition_by=["snapshot_date"])
    write_deltalake(warehouse / "label_history", history(values, entities, rng))
    write_deltalake(warehouse / "label_runs", runs(entities))
    catalog = pa.table(list(zip(*catalog_rows(load_project(config)))),
                       names=["label_id", "name", "group", "type", "method", "definition", "definition_hash", "status"])
    catalog = catalog.append_column("valid_from", pa.array([dates()[0]] * catalog.num_rows, pa.date32()))
    write_deltalake(warehouse / "label_catalog", catalog.append_column("valid_to", pa.nulls(catalog.num_rows, pa.date32())))
    return config


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--work-dir", type=Path, required=True)
    parser.add_argument("--entities", type=int, default=10_000)
    args = parser.parse_args()
    shutil.rmtree(args.work_dir, ignore_errors=True)
    args.work_dir.mkdir(parents=True)
    started = time.perf_counter()
    config = write_warehouse(args.work_dir, args.entities)
    print(f"tables written in {time.perf_counter() - started:.1f} s ({LABELS} labels x {DATES} dates, {args.entities:,} entities)")
    project = load_project(config)
    started = time.perf_counter()
    built = build_site(project, args.work_dir / "site", days=DATES)
    seconds = time.perf_counter() - started
    largest = max((p for p in built.directory.rglob("*.html")), key=lambda p: p.stat().st_size)
    print(f"site built in {seconds:.1f} s: {built.pages} pages, {built.files} files, {built.bytes / 1e6:.2f} MB "
          f"(largest page {largest.name}: {largest.stat().st_size / 1e3:.0f} kB)")


if __name__ == "__main__":
    main()
