"""The main job for one business date: sources -> indicators -> labels -> label_snapshot, then the
tables derived from it (stats, segments, history, catalog) and Elasticsearch. The lock, the run
record, undoing a failure, signals and the callback are job.py's, shared with `publish`."""
from __future__ import annotations

import datetime as dt
import logging
from dataclasses import dataclass
from typing import Callable

from pyspark.sql import DataFrame, SparkSession
from pyspark.sql import functions as F

from labelspark.compute import indicators as indicator_pass
from labelspark.config import Project
from labelspark.errors import ConfigError, Problem, SnapshotMissing
from labelspark.compute.incremental import Tiling, retile as retile_sources
from labelspark.compute.imports import import_values, imported_rows, unknown_import_ids
from labelspark.compute.staleness import check_run_date
from labelspark.engine.spark_types import SPARK_TYPE_OF_KIND
from labelspark.compute.label_columns import evaluate
from labelspark.compute.plan import Plan, make_plan
from labelspark.compute.job import job, locked
from labelspark.compute.preflight import check_label_kinds
from labelspark.publish.outputs import publish_outputs
from labelspark.engine.connections import check_environment
from labelspark.engine.sessions import set_timezone
from labelspark.compute.sources import prepared_sources
from labelspark.warehouse import runs
from labelspark.warehouse.catalog import advance_catalog, record_backfill
from labelspark.warehouse.delta import read_partition, read_table, replace_partition
from labelspark.compute.derived.history_values import advance_history
from labelspark.warehouse.names import DATE, Tables, CATALOG_TABLE, HISTORY_TABLE, SEGMENTS_TABLE, SNAPSHOT_TABLE, STATS_TABLE
from labelspark.compute.rewind import rewind_tables
from labelspark.compute.stop_signals import point_of_no_return
from labelspark.warehouse.runs import RunRecord
from labelspark.compute.derived.segments import segment_members
from labelspark.warehouse.snapshot import latest_snapshot, next_snapshot_date, snapshot_columns, write_snapshot
from labelspark.warehouse.staging import Staging, staging_area
from labelspark.compute.derived.stats import label_stats

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class RunResult:
    run_id: str
    run_date: dt.date
    labels: list[str]  # computed on this date
    carried: list[str]  # kept from the previous snapshot
    rows: int
    warehouse: str
    index: str | None = None  # what readers now query: the Elasticsearch index, then `<database>.<table>` of ClickHouse, space-separated


def run(spark: SparkSession, project: Project, run_date: dt.date, only: list[str] | None = None, publish: bool = True,
        allow_stale_sources: bool = False, *, after_success: Callable[[], dict] | None = None, full: bool = False) -> RunResult:
    """Computes the labels due on `run_date`; writes snapshot, stats, segments, history, catalog, run log;
    publishes the snapshot (Elasticsearch, ClickHouse) and calls the business back (unless `publish` is off).
    `after_success` is the job's (`compute.job.job`): the CLI passes the label portal's refresh.

    History and catalog advance only with runs in date order: a back-fill of an earlier date
    rewrites that date's snapshot, stats and segments, leaves history as it is and records its
    definitions in the catalog for that date alone. Labels never computed on an earlier date
    are due, whatever later dates computed.

    Sources with a `time` merge their indicators from tiles (`compute.incremental`); `full`
    reads every row instead (the reference) and leaves the tiles as they are.
    """
    _check_requested(project, only)
    check_environment(project)
    set_timezone(spark, project.timezone)  # once: the checks and the stages read sources in the project's days
    check_label_kinds(spark, project, only)
    source_ages = check_run_date(spark, project, run_date, allow_stale_sources)  # before the lock: a stale date is exit 2, nothing touched
    with job(spark, project, run_date, call_back=publish, after_success=after_success) as record:
        source_ages.check()  # in the job: a late source is a failed run in label_runs
        return _run(spark, project, run_date, only, publish, record, full)


def _run(spark: SparkSession, project: Project, run_date: dt.date, only: list[str] | None, publish: bool, record: RunRecord,
         full: bool) -> RunResult:
    tables = Tables(project.warehouse)
    latest = runs.latest_succeeded_date(tables.runs)
    computed = snapshot_columns(spark, tables.snapshot)
    computed_before = runs.labels_computed_before(tables.runs, run_date)
    if computed_before is not None:  # with no run recorded, the snapshot's columns stand in
        computed &= computed_before
    plan = make_plan(project, run_date, computed=computed, only=only)
    log.info("run %s %s for %s: %d labels due, %d kept from the last snapshot", project.name, record.run_id, run_date, len(plan.due), len(plan.carried))
    previous = latest_snapshot(spark, tables.snapshot, run_date) if plan.carried else None
    with staging_area(project.warehouse, record.run_id) as staging:
        imported = {label_id: imported_rows(spark, project, project.label(label_id), staging) for label_id in plan.imports}
        tiling = Tiling(spark, project, run_date, record.run_id, full=full)
        snapshot = compute_snapshot(spark, project, plan, previous, staging, imported, tiling)
        log.info("writing %s partition %s", SNAPSHOT_TABLE, run_date)
        write_snapshot(spark, snapshot, tables.snapshot, run_date, project.key)
        written = read_partition(spark, tables.snapshot, run_date)
        record.rows = written.count()
        log.info("%s %s: %d entities", SNAPSHOT_TABLE, run_date, record.rows)
        record.details = {**unknown_import_ids(project, imported, written), **tiling.details}
    if latest is not None and run_date < latest:
        record.details[runs.BACKFILL] = {"history_at": latest.isoformat()}
    _write_derived_tables(spark, project, tables, written, run_date, latest)
    record.labels = [label.id for label in plan.due]
    if publish and project.outputs.publishes:
        record.index = publish_snapshot(spark, project, written, run_date, record.run_id)
    return RunResult(record.run_id, run_date, record.labels, [label.id for label in plan.carried], record.rows,
                     project.warehouse, record.index)


def _write_derived_tables(spark: SparkSession, project: Project, tables: "Tables", written: DataFrame, run_date: dt.date, latest: dt.date | None) -> None:
    """Stats and segments of the date; history and catalog when the date is not a back-fill, and
    a back-fill's definitions in the catalog for its date alone."""
    labels = [label for label in project.enabled_labels if label.id in written.columns]
    replace_partition(spark, label_stats(written, project, labels, run_date), tables.stats, DATE, run_date)
    log.info("%s %s: %d labels", STATS_TABLE, run_date, len(labels))
    if project.segments:
        replace_partition(spark, segment_members(written, project, run_date), tables.segments, DATE, run_date)
        log.info("%s %s: %d segments", SEGMENTS_TABLE, run_date, len(project.segments))
    if latest is None or run_date >= latest:
        advance_history(spark, written, project, labels, tables.history, run_date)
        advance_catalog(spark, project, tables.catalog, run_date)
        log.info("%s and %s advanced to %s", HISTORY_TABLE, CATALOG_TABLE, run_date)
    else:
        log.info("back-fill of %s (history is at %s): %s left as it is", run_date, latest, HISTORY_TABLE)
        record_backfill(spark, project, tables.catalog, run_date, next_snapshot_date(spark, tables.snapshot, run_date))


def compute_to_parquet(spark: SparkSession, project: Project, run_date: dt.date, directory: str, only: list[str] | None = None) -> int:
    """Computes every enabled label (or `only` those) for `run_date` and writes the snapshot as
    parquet under `directory/snapshot_date=D`: no Delta, no other table. For trials on engines
    without Delta Lake and for benchmarks. Returns the rows written."""
    _check_requested(project, only)
    set_timezone(spark, project.timezone)
    plan = make_plan(project, run_date, computed=set(), only=only)
    target = f"{directory.rstrip('/')}/{DATE}={run_date.isoformat()}"
    with staging_area(directory, runs.new_run_id()) as staging:
        compute_snapshot(spark, project, plan, staging=staging).write.mode("overwrite").parquet(target)
    rows = spark.read.parquet(target).count()
    log.info("%d entities -> %s", rows, target)
    return rows


def publish_date(spark: SparkSession, project: Project, run_date: dt.date) -> RunResult:
    """(Re)publishes the snapshot of `run_date` to its outputs (Elasticsearch, ClickHouse); recorded in label_runs like a run."""
    if not project.outputs.publishes:
        raise project.error([Problem("outputs", "no `elasticsearch` or `clickhouse` output to publish to")])
    with job(spark, project, run_date) as record:
        written = read_partition(spark, Tables(project.warehouse).snapshot, run_date)
        record.rows = 0 if written is None else written.count()
        if not record.rows:
            raise SnapshotMissing(f"no {SNAPSHOT_TABLE} partition for {run_date} under {project.warehouse}: run that date first")
        record.labels = [c for c in written.columns if c != project.key]
        record.index = publish_snapshot(spark, project, written, run_date, record.run_id)
        return RunResult(record.run_id, run_date, [], [], record.rows, project.warehouse, record.index)


def rewind(spark: SparkSession, project: Project, to: dt.date) -> list[dt.date]:
    """Undoes every date after `to` in every table, in one locked operation that puts the
    tables back if it fails half-way; returns the dates removed."""
    tables = Tables(project.warehouse)
    if read_table(spark, tables.snapshot) is None:
        return []
    with locked(project, [*tables.written_by_runs(project.sources), tables.runs]):
        return rewind_tables(spark, project, to)


def retile(spark: SparkSession, project: Project, since: dt.date) -> dict[str, dt.date]:
    """Makes every incremental source's tiles again from `since` to its last tiled day, under the
    lock, so that later runs count the rows that arrived after their lookback."""
    set_timezone(spark, project.timezone)
    with locked(project, [*Tables(project.warehouse).written_by_runs(project.sources)]):
        return retile_sources(spark, project, since, lambda name, day: prepared_sources(spark, project, day, only=name)[name])


def publish_snapshot(spark: SparkSession, project: Project, written: DataFrame, run_date: dt.date, run_id: str) -> str:
    """Publishes to every output; what readers now query, space-separated (label_runs' `index`)."""
    # a stop signal is honoured until the names readers query move (stop_signals.py)
    published = publish_outputs(spark, project, written, run_date, run_id, before_names_move=point_of_no_return)
    log.info("published %s: %s", run_date, ", ".join(published))
    return " ".join(published)


def compute_snapshot(spark: SparkSession, project: Project, plan: Plan, previous: DataFrame | None = None,
                     staging: Staging | None = None, imported: dict[str, DataFrame] | None = None,
                     tiling: Tiling | None = None) -> DataFrame:
    """Entity key plus one typed column per enabled label (in config order).

    Labels not due come from `previous` (the latest snapshot up to the date), null without it.
    With distribution labels due, the indicators are written to `staging` once, so their
    quantiles and the labels read the copy instead of computing the sources twice. `imported`:
    the rows of the due import files (`imported_rows`) when the caller reads them again.
    The session is in the project's timezone (`set_timezone`, by the run). `tiling`: the run's
    tiles, which its incremental sources merge from (without it: the full pass everywhere).
    """
    frames = prepared_sources(spark, project, plan.run_date)
    for i, source_pass in enumerate(plan.passes, 1):
        log.info(
            "pass %d/%d: source %s -> %d indicators for %d labels",
            i, len(plan.passes), source_pass.source, len(source_pass.indicators), len(source_pass.labels),
        )
    entities = indicator_pass.extract(frames, project, plan.indicators, plan.run_date, tiling.merged if tiling else None)
    if staging is not None and any(label.quantiles for label in plan.due):
        log.info("computing indicators once for the quantiles of distribution labels")
        entities = staging.keep(entities, "indicators")
    if imported is None:
        imported = {label_id: imported_rows(spark, project, project.label(label_id), staging) for label_id in plan.imports}
    imports = {label_id: import_values(rows, project, project.label(label_id), entities) for label_id, rows in imported.items()}
    labels = evaluate(entities, project, plan.due, plan.run_date, imports)
    carried = [label.id for label in plan.carried if previous is not None and label.id in previous.columns]
    if carried:
        labels = labels.join(previous.select(project.key, *carried), on=project.key, how="left")
    return labels.select(
        project.key,
        *(
            (F.col(label.id) if label.id in labels.columns else F.lit(None)).cast(SPARK_TYPE_OF_KIND[label.type]).alias(label.id)
            for label in project.enabled_labels
            if label in plan.due or label in plan.carried
        ),
    )


def _check_requested(project: Project, only: list[str] | None) -> None:
    if not only:
        return
    known = {label.id for label in project.enabled_labels}
    problems = [Problem("labels", f"--labels names '{label_id}', which is no enabled label") for label_id in only if label_id not in known]
    if problems:
        raise ConfigError(project.file, problems)
