"""The real-time stream's writes to the published index: partial updates through the alias.

Only the stream writes this way, one batch at a time, so its updates cannot overtake each other.
The nightly publish builds its new index from the snapshot alone; the stream watches the alias
and, once it moved, replays onto the new index the entities it changed after that snapshot's
date (`stream/`), so no update is lost across the swap and the nightly values stand for the rest.
"""
from __future__ import annotations

import datetime as dt
import logging
import re
from dataclasses import dataclass

from pyspark.sql import DataFrame

from labelspark.config import Project
from labelspark.errors import PublishError
from labelspark.publish import bulk
from labelspark.publish.connection import Cluster, Connection
from labelspark.publish.publisher import client_library, write_python

log = logging.getLogger(__name__)
_DAY = re.compile(r"-(\d{8})-[a-z0-9_-]+$")


@dataclass(frozen=True)
class ServedIndex:
    name: str | None  # what the alias points to; None before the first publish
    day: dt.date | None  # the snapshot date it was published from


class PartialUpdates:
    """Partial updates of one project's documents, through its Elasticsearch (or OpenSearch) alias."""

    def __init__(self, project: Project):
        es = project.outputs.elasticsearch
        self.project = project
        self.alias = es.alias
        self.connection = Connection.from_config(es, resolve=project.resolve_path)
        self.chunk_size = es.bulk_size or 500
        with Cluster(self.connection) as cluster:
            self.library = client_library(cluster.info().get("version", {}))

    def served(self) -> ServedIndex:
        """The index the alias points to and the snapshot date in its name."""
        with Cluster(self.connection) as cluster:
            targets = cluster.alias_targets(self.alias)
        if len(targets) > 1:
            raise PublishError(f"alias {self.alias} points to {len(targets)} indices ({', '.join(targets)}): updates need one")
        if not targets:
            return ServedIndex(None, None)
        found = _DAY.search(targets[0])
        return ServedIndex(targets[0], dt.datetime.strptime(found.group(1), "%Y%m%d").date() if found else None)

    def send(self, documents: DataFrame, rows: int) -> None:
        """Sets, in each entity's document, the fields its row lists in `bulk.CHANGED` (key, label
        columns and that list); a document the index lacks is made. Raises PublishError when any fails."""
        if not rows:
            return
        fields = tuple(c for c in documents.columns if c not in (self.project.key, bulk.CHANGED))
        job = bulk.BulkJob(self.connection, self.library, self.alias, self.project.key, fields, "", partial=True,
                           chunk_size=self.chunk_size)
        write_python(documents, job, rows)
