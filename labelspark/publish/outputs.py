"""Publishing to every output the config names, with one point at which readers see the day.

ClickHouse's table is loaded and checked first, unseen; then Elasticsearch's index is loaded,
and in its last step before the alias moves the job passes its point of no return and the
ClickHouse view moves. A failure before the alias has moved (a load, a check, the alias call)
puts the view back and drops both new copies: every name stays where it was. Retention runs
once every name has moved.
"""
from __future__ import annotations

import datetime as dt
from typing import Callable

from pyspark.sql import DataFrame, SparkSession

from labelspark.config import Project
from labelspark.publish import clickhouse, publisher


def publish_outputs(spark: SparkSession, project: Project, snapshot_df: DataFrame, run_date: dt.date, run_id: str, *,
                    before_names_move: Callable[[], None] = lambda: None) -> list[str]:
    """Publishes `snapshot_df` to Elasticsearch and ClickHouse (those configured); returns what
    readers now query, e.g. `labels-20260302-<run id>` and `default.labels_20260302_<run id>`."""
    loaded = clickhouse.load(project, snapshot_df, run_date, run_id) if project.outputs.clickhouse is not None else None

    def names_move() -> None:
        before_names_move()
        if loaded is not None:
            loaded.go_live()

    try:
        if project.outputs.elasticsearch is None:
            names_move()
            published = []
        else:
            published = [publisher.publish(spark, project, snapshot_df, run_date, run_id, before_alias_moves=names_move)]
    except BaseException:
        if loaded is not None:
            loaded.undo()
        raise
    if loaded is None:
        return published
    loaded.apply_retention()
    return [*published, loaded.shown]
