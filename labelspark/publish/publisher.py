"""Publishing a snapshot: a new index, loaded, checked, then the alias moved in one call.

Readers query the alias only, so they see the previous index, complete, until the new one
holds every row; then one `_aliases` call moves the alias (remove from the old indices, add
to the new) atomically. Any failure before that deletes the new index and leaves the alias
where it was.
"""
from __future__ import annotations

import datetime as dt
from typing import Callable
import functools
import logging
import time

from pyspark.sql import DataFrame, SparkSession
from pyspark.sql import functions as F
from pyspark.sql.types import DateType

from labelspark.config import Project
from labelspark.config.models import ElasticsearchOutput
from labelspark.engine.facts import engine_of
from labelspark.publish import bulk, eshadoop
from labelspark.publish.connection import Cluster, Connection
from labelspark.errors import PublishError, UsageError
from labelspark.publish.mapping import (
    DATE_FIELD, index_body, index_name, index_pattern, loading_alias, published_labels, serving_settings,
)

log = logging.getLogger(__name__)


def publish(spark: SparkSession, project: Project, snapshot_df: DataFrame, run_date: dt.date, run_id: str, *,
            before_alias_moves: Callable[[], None] = lambda: None) -> str:
    """Publishes `snapshot_df` (entity key + label columns) as the index of `run_date`; returns its
    name. `before_alias_moves` runs last before the step readers see (a job's point of no return)."""
    es = project.outputs.elasticsearch
    if es is None:
        raise PublishError(f"project '{project.name}' has no outputs.elasticsearch to publish to")
    if project.key not in snapshot_df.columns:
        raise PublishError(f"the snapshot has no entity key column '{project.key}'")
    name = index_name(es.alias, run_date, run_id)
    fields = tuple(label.id for label in published_labels(project) if label.id in snapshot_df.columns)
    documents = snapshot_df.select(project.key, *fields)
    connection = Connection.from_config(es, resolve=project.resolve_path)
    started = time.monotonic()
    with Cluster(connection) as cluster:
        server = cluster.info().get("version", {})
        writer = choose_writer(spark, es, server)
        rows = documents.count()
        log.info("publishing %d rows to %s on %s with the %s writer", rows, name, connection.shown, writer)
        cluster.create_index(name, index_body(project, name))
        try:
            if writer == "python":
                job = bulk.BulkJob(connection, client_library(server), name, project.key, fields,
                                   run_date.isoformat(), **({"chunk_size": es.bulk_size} if es.bulk_size else {}))
                write_python(documents, job, rows)
            else:
                _write_es_hadoop(documents, project, connection, name, run_date)
            cluster.refresh(name)
            _check_count(cluster, name, rows)
            cluster.put_settings(name, serving_settings())
            cluster.refresh(name)
            before_alias_moves()  # readers see the index once the alias moves
            previous = _swap(cluster, es.alias, name)
        except BaseException as exc:  # whatever stopped the load (even Ctrl-C), no partial index stays
            _discard(cluster, name)
            if isinstance(exc, PublishError) or not isinstance(exc, Exception):
                raise
            raise PublishError(f"publishing {name} failed: {type(exc).__name__}: {str(exc).strip()[:1000]}") from exc
        log.info("alias %s moved from %s to %s (%.1fs)", es.alias, ", ".join(previous) or "nothing", name, time.monotonic() - started)
        _apply_retention(cluster, es.alias, es.retention, name)
    return name


def choose_writer(spark: SparkSession, es: ElasticsearchOutput, server: dict) -> str:
    """`auto`: es-hadoop where it can work (classic session with the jar, an Elasticsearch server), else python."""
    engine = engine_of(spark)
    if es.writer == "es-hadoop" and engine.jvm and engine.line[0] >= 4:
        raise UsageError(f"outputs.elasticsearch.writer: es-hadoop needs Spark 3.x, and this is Spark {engine.version}: "
                         "ES-Hadoop has no Spark 4 release yet; use writer: python (or auto)")
    if es.writer != "auto":
        return es.writer
    if server.get("distribution") == "opensearch":
        return "python"  # Elastic's connector refuses OpenSearch servers
    return "es-hadoop" if eshadoop.has_connector(spark) else "python"


def client_library(server: dict) -> str:
    """opensearch-py for OpenSearch; elasticsearch-py for Elasticsearch when installed.

    elasticsearch-py sends `compatible-with` content types that OpenSearch refuses; without
    it, opensearch-py's plain JSON bulk requests are accepted by Elasticsearch too.
    """
    if server.get("distribution") == "opensearch":
        return "opensearch"
    try:
        import elasticsearch  # noqa: F401
    except ImportError:
        log.info("elasticsearch-py is not installed: bulk requests go through opensearch-py")
        return "opensearch"
    return "elasticsearch"


def write_python(documents: DataFrame, job: bulk.BulkJob, rows: int) -> None:
    """Bulk requests from the executors; only per-partition counts come back."""
    results = documents.mapInArrow(functools.partial(bulk.write_partition, job), bulk.RESULT_SCHEMA).collect()
    seen = sum(result.rows for result in results)
    indexed = sum(result.indexed for result in results)
    reasons = [reason for result in results for reason in result.errors][: bulk.MAX_REASONS]
    log.info("%s: %d of %d rows indexed by %d partitions", job.index, indexed, seen, len(results))
    if indexed != seen or reasons:
        raise PublishError(
            f"{seen - indexed} of {seen} documents were not indexed into {job.index}; first errors:\n  " + "\n  ".join(reasons)
        )
    if seen != rows:
        raise PublishError(f"the python writer read {seen} rows, the snapshot has {rows}")


def _write_es_hadoop(documents: DataFrame, project: Project, connection: Connection, name: str, run_date: dt.date) -> None:
    """Documents as the python writer makes them: ES-Hadoop would send dates as epoch
    milliseconds, which readers would then find in `_source`, so dates go as ISO text."""
    numbers = {label.id for label in published_labels(project) if label.type == "number"}
    dates = {field.name for field in documents.schema.fields if isinstance(field.dataType, DateType)}

    def shaped(column: str):
        if column in numbers:  # JSON has no NaN: such a value is left out, like a null
            return F.nanvl(F.col(column), F.lit(None).cast("double")).alias(column)
        if column in dates:
            return F.date_format(F.col(column), "yyyy-MM-dd").alias(column)
        return F.col(column)

    frame = documents.select(project.key, F.lit(run_date.isoformat()).alias(DATE_FIELD), *map(shaped, documents.columns[1:]))
    options = eshadoop.es_hadoop_options(connection, name, project.key, project.outputs.elasticsearch.bulk_size)
    eshadoop.write_es_hadoop(frame, options)


def _check_count(cluster: Cluster, name: str, rows: int) -> None:
    count = cluster.count(name)
    if count != rows:
        hint = " (duplicate entity ids in the snapshot?)" if count < rows else ""
        raise PublishError(f"index {name} holds {count} documents, the snapshot {rows} rows{hint}")


def _swap(cluster: Cluster, alias: str, name: str) -> list[str]:
    """Moves `alias` to `name` in one `_aliases` call, which also drops the loading alias;
    returns the indices it left."""
    previous = [index for index in cluster.alias_targets(alias) if index != name]
    actions = [{"remove": {"indices": previous, "alias": alias}}] if previous else []
    actions.append({"add": {"index": name, "alias": alias}})
    actions.append({"remove": {"index": name, "alias": loading_alias(name)}})
    try:
        cluster.update_aliases(actions)
    except PublishError:
        if cluster.alias_targets(alias) != [name]:
            raise
        log.info("the _aliases answer was lost, but %s already points to %s", alias, name)
    return previous


def _discard(cluster: Cluster, name: str) -> None:
    """Deletes a partial index; a failure here is logged, the original error is what counts."""
    try:
        cluster.delete_index(name)
        log.info("deleted the partial index %s", name)
    except PublishError as exc:
        log.error("could not delete the partial index %s: %s", name, exc)


def _apply_retention(cluster: Cluster, alias: str, retention: int, current: str) -> None:
    """Deletes this alias's partial indices, then those beyond the newest `retention` (by creation time).

    A partial index (its loading alias still on it) is one whose publish failed while the
    cluster was unreachable, so it could not be deleted then; it never served readers and
    must not take the place of the previous complete index. Runs after the swap: a failure
    here leaves extra indices (the next publish retries) and is logged, since the new index
    is already live.
    """
    try:
        pattern = index_pattern(alias)
        created = {n: t for n, t in cluster.creation_dates(f"{alias}-*").items() if pattern.match(n)}
        for partial in sorted(set(cluster.alias_targets(loading_alias(f"{alias}-*"))) & set(created) - {current}):
            cluster.delete_index(partial)
            del created[partial]
            log.info("deleted %s, left partial by a failed publish", partial)
        newest_first = sorted(created, key=lambda n: (n == current, created[n], n), reverse=True)
        for old in newest_first[retention:]:
            cluster.delete_index(old)
            log.info("retention %d: deleted %s", retention, old)
    except PublishError as exc:
        log.warning("index retention for %s failed (old indices stay until the next publish): %s", alias, exc)
