"""One micro-batch of the real-time stream: the entities its rows touched, their real-time labels
as of now, the changes against what the index last got, written to label_updates and the index.

A real-time label's value is what `labelspark run --date <today>` would give the entity at that
moment: the batch pipeline (sources, the as-of cut, cleaning, one aggregation per source, the
rules) over the touched entities' rows only, so the stream and the nightly run cannot disagree
on a definition. "What the index last got" is the value in the snapshot the index was built
from, overridden by label_updates of the days after it; after the nightly publish moves the
alias, `replay` puts those updates onto the new index, so that stays true.
"""
from __future__ import annotations

import contextlib
import datetime as dt
import logging
from dataclasses import dataclass
from typing import Iterator

from pyspark.sql import DataFrame, SparkSession
from pyspark.sql import functions as F

from labelspark.compute import indicators as indicator_pass
from labelspark.compute.derived.unions import exploded
from labelspark.compute.label_columns import evaluate
from labelspark.compute.plan import indicators_by_source, make_plan
from labelspark.compute.sources import id_mapping, prepared_sources, read_source
from labelspark.config import Project
from labelspark.engine.spark_types import SPARK_TYPE_OF_KIND
from labelspark.publish import bulk
from labelspark.stream.last_values import LastValues
from labelspark.timeutil import today
from labelspark.udfs import as_text, from_text
from labelspark.warehouse import updates
from labelspark.warehouse.names import DATE, UPDATES_TABLE, Tables

log = logging.getLogger(__name__)
TOUCHED = "__touched"  # the touched entities' ids, as text


@dataclass(frozen=True)
class BatchResult:
    entities: int
    changes: int
    documents: int


def touched_entities(spark: SparkSession, project: Project, keys: DataFrame) -> DataFrame:
    """The distinct entity ids (text, column TOUCHED) of a batch's source ids (column TOUCHED),
    mapped through `entity.id_map` when the config has one."""
    keys = keys.where(F.col(TOUCHED).isNotNull()).distinct()
    if project.entity.id_map is None:
        return keys
    mapping = id_mapping(read_source(spark, project, project.entity.id_map.source), project.key)
    return (keys.join(mapping.select(F.col("source_id").cast("string").alias(TOUCHED), F.col(project.key).cast("string").alias("__id")), TOUCHED)
            .select(F.col("__id").alias(TOUCHED)).distinct())


def realtime_values(spark: SparkSession, project: Project, day: dt.date, touched: DataFrame) -> DataFrame:
    """Entity key plus each real-time label, typed, for the touched entities present in the sources."""
    labels = list(project.realtime_labels)
    plan = make_plan(project, day, computed=None, only=[label.id for label in labels])
    frames = {}
    for name in indicators_by_source(project, plan.indicators):
        source = prepared_sources(spark, project, day, only=name)[name]
        frames[name] = _only(source, project.sources[name].key, touched)
    entities = indicator_pass.extract(frames, project, plan.indicators, day)
    values = evaluate(entities, project, plan.due, day, {})
    return values.select(project.key, *(F.col(label.id).cast(SPARK_TYPE_OF_KIND[label.type]).alias(label.id) for label in labels))


def changes_of(project: Project, values: DataFrame, touched: DataFrame, last: LastValues) -> DataFrame:
    """(key, label_id, value, previous_value) where a real-time value differs from what the index
    last got (text forms, null-safe: a value that becomes null is a change)."""
    labels = project.realtime_labels
    new = exploded(values, {label.id: as_text(F.col(label.id), label.type) for label in labels}, [project.key])
    previous = last.of(touched, _only)
    if previous is None:
        return new.withColumn("previous_value", F.lit(None).cast("string"))
    joined = new.join(previous.withColumnRenamed("value", "previous_value"), [project.key, "label_id"], "left")
    return joined.where(~F.col("value").eqNullSafe(F.col("previous_value")))


def process(spark: SparkSession, project: Project, keys: DataFrame, last: LastValues, stream_id: str, batch_id: int,
            appended_before: bool, send) -> BatchResult:
    """Computes one batch's changes, sends them, then records them; `send(documents, rows)` updates
    the index (None: no index). `last`: what the index holds, advanced by the batch's changes.

    A batch that died between its send and its append runs again and finds the same changes
    (label_updates lacks them) or newer ones. One that died after its append (`appended_before`)
    resends what it appended, with the values as of now, and appends nothing: Delta would skip
    the append (its transaction id), and the changes found now would be in no table.
    """
    day = today(project.timezone)
    path = Tables(project.warehouse).updates
    with contextlib.ExitStack() as cached:
        touched = cached.enter_context(persisted(touched_entities(spark, project, keys)))
        values = cached.enter_context(persisted(realtime_values(spark, project, day, touched)))
        entities = values.count()
        if not entities:
            return BatchResult(0, 0, 0)
        if appended_before:
            changes = updates.of_batch(spark, path, stream_id, batch_id)
        else:
            stamp = {updates.UPDATED_AT: F.lit(dt.datetime.now(dt.timezone.utc)), DATE: F.lit(day),
                     updates.BATCH_ID: F.lit(batch_id).cast("long"), updates.STREAM_ID: F.lit(stream_id)}
            # cut from its lineage: appending to label_updates recomputes what caches read it, and
            # the changes computed again after their append would be none
            changes = changes_of(project, values, touched, last).withColumns(stamp).localCheckpoint()
        changed = changes.groupBy(project.key).agg(F.sort_array(F.collect_list("label_id")).alias(bulk.CHANGED))
        documents = cached.enter_context(persisted(values.join(changed, project.key)))
        rows, fields = documents.agg(F.count(F.lit(1)), F.sum(F.size(bulk.CHANGED))).first()
        if rows and send is not None:
            send(documents, rows)  # first: readers need not wait for the append
        if rows and not appended_before:
            updates.append_batch(changes, path, stream_id, batch_id)
            last.advance(changes)
            log.info("batch %d: changes appended to %s", batch_id, UPDATES_TABLE)
        return BatchResult(entities, fields or 0, rows)


@contextlib.contextmanager
def persisted(df: DataFrame) -> Iterator[DataFrame]:
    """`df` cached while the batch reads it more than once."""
    df = df.persist()
    try:
        yield df
    finally:
        df.unpersist()


def replay(spark: SparkSession, project: Project, after: dt.date | None, send) -> int:
    """Sends each entity's real-time labels as label_updates last set them on the days after
    `after` (the date of the snapshot the index was built from): the values the index held
    before it moved. Returns the documents sent."""
    last = updates.latest_since(spark, Tables(project.warehouse).updates, project.key, after)
    if last is None:
        return 0
    labels = project.realtime_labels
    documents = last.groupBy(project.key).agg(
        F.sort_array(F.collect_list("label_id")).alias(bulk.CHANGED),
        *(from_text(F.max(F.when(F.col("label_id") == label.id, F.col("value"))), label.type).alias(label.id) for label in labels),
    )
    with persisted(documents) as documents:
        rows = documents.count()
        if rows:
            send(documents, rows)
        return rows


def _only(df: DataFrame, key: str, touched: DataFrame) -> DataFrame:
    """The rows of `df` whose `key` is a touched entity (a broadcast semi-join: the touched are few)."""
    return df.join(F.broadcast(touched), F.col(key).cast("string") == F.col(TOUCHED), "left_semi")
