"""Publishing to every output the config names, with one point at which readers see the day.

Each output loads its copy first; the names readers query (the Elasticsearch alias, the
ClickHouse view) move only once every copy is complete. Outputs nest: the second loads in the
first's last step before its name moves, so a failed load anywhere leaves every name where it
was and drops every new copy.
"""
from __future__ import annotations

import datetime as dt
from typing import Callable

from pyspark.sql import DataFrame, SparkSession

from labelspark.config import Project
from labelspark.publish import clickhouse, publisher

Publish = Callable[[Callable[[], None]], str]  # takes the hook run just before its name moves


def publish_outputs(spark: SparkSession, project: Project, snapshot_df: DataFrame, run_date: dt.date, run_id: str, *,
                    before_names_move: Callable[[], None] = lambda: None) -> list[str]:
    """Publishes `snapshot_df` to Elasticsearch and ClickHouse (those configured); returns what
    readers now query, e.g. `labels-20260302-<run id>` and `default.labels_20260302_<run id>`."""
    outputs: list[Publish] = []
    if project.outputs.elasticsearch is not None:
        outputs.append(lambda hook: publisher.publish(spark, project, snapshot_df, run_date, run_id, before_alias_moves=hook))
    if project.outputs.clickhouse is not None:
        outputs.append(lambda hook: clickhouse.publish(spark, project, snapshot_df, run_date, run_id, before_name_moves=hook))
    published: list[str] = []

    def publish_from(i: int) -> None:
        if i == len(outputs):
            before_names_move()
            return
        published.insert(0, outputs[i](lambda: publish_from(i + 1)))  # the inner ones finish first

    publish_from(0)
    return published
