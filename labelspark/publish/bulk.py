"""The python writer: bulk requests sent from the executors, one client per partition.

`write_partition` runs inside `mapInArrow`: it turns the partition's Arrow batches into index
actions, streams them through the client library's `streaming_bulk` (429s retried with capped
backoff; connection errors and 502/503/504 retried by the client's transport) and yields one
row of counts. Requests target the index's loading alias with `require_alias` (ES 7.10+,
OpenSearch 1+), so one still in flight when a failed publish deletes the index cannot
re-create it. Only those small rows reach the driver; the snapshot never does. A partition
that cannot reach the cluster reports its error as data instead of raising, so the driver sees
why (a Python exception would arrive wrapped in engine-specific text) and the task is not
retried against a cluster that is down.
"""
from __future__ import annotations

import datetime as dt
import math
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any, Iterable, Iterator

import pyarrow as pa

from labelspark.publish.connection import Connection
from labelspark.publish.mapping import DATE_FIELD, loading_alias

RESULT_SCHEMA = "rows bigint, indexed bigint, errors array<string>"
_RESULT_ARROW = pa.schema([("rows", pa.int64()), ("indexed", pa.int64()), ("errors", pa.list_(pa.string()))])
MAX_REASONS = 5
CHANGED = "__changed"  # a partial job's column: the fields of the row to set


@dataclass(frozen=True)
class BulkJob:
    """What one partition needs to index its rows; small and picklable."""

    connection: Connection
    library: str  # "opensearch" (opensearch-py) or "elasticsearch" (elasticsearch-py)
    index: str
    key: str
    fields: tuple[str, ...]
    snapshot_date: str  # ISO date, the same for every document
    partial: bool = False  # update the fields each row lists in CHANGED (the real-time stream), through `index`, an alias
    chunk_size: int = 500
    max_chunk_bytes: int = 10 * 1024 * 1024
    max_retries: int = 5  # of a chunk's documents answered with 429
    initial_backoff: float = 1.0
    max_backoff: float = 60.0
    request_timeout: float = 60.0

    @property
    def target(self) -> str:
        """What the actions name: the index's loading alias (see mapping.loading_alias); a
        partial update names the serving alias itself."""
        return self.index if self.partial else loading_alias(self.index)


@dataclass
class _Tally:
    rows: int = 0
    indexed: int = 0
    errors: list[str] = field(default_factory=list)

    def error(self, text: str) -> None:
        if len(self.errors) < MAX_REASONS:
            self.errors.append(text[:500])


def json_value(value: Any) -> Any:
    """A JSON-ready value, or None for what a document leaves out (null, NaN, infinity)."""
    if isinstance(value, float):
        return value if math.isfinite(value) else None
    if isinstance(value, (dt.date, dt.datetime)):
        return value.isoformat()
    if isinstance(value, Decimal):
        return float(value)
    if isinstance(value, list):
        return [json_value(item) for item in value]
    return value


def to_action(row: dict, job: BulkJob) -> dict:
    """An index action: `_id` = entity id; source = key, snapshot_date and the non-null labels.
    A partial job's update action sets the row's changed fields (a null too: the value is gone),
    and makes the document of an entity the index does not have yet."""
    if job.partial:
        doc = {job.key: json_value(row[job.key]), **{name: json_value(row.get(name)) for name in row[CHANGED] or ()}}
        return {"_op_type": "update", "_index": job.target, "_id": str(row[job.key]), "doc": doc, "doc_as_upsert": True}
    source = {job.key: json_value(row[job.key]), DATE_FIELD: job.snapshot_date}
    for name in job.fields:
        value = json_value(row.get(name))
        if value is not None:
            source[name] = value
    return {"_op_type": "index", "_index": job.target, "_id": str(row[job.key]), "_source": source}


def _actions(batches: Iterable[pa.RecordBatch], job: BulkJob, tally: _Tally) -> Iterator[dict]:
    for batch in batches:
        tally.rows += batch.num_rows
        for row in batch.to_pylist():
            if row[job.key] is None:
                tally.error(f"a row without {job.key} (not sent)")
                continue
            yield to_action(row, job)


def _reason(item: dict) -> str:
    """`<id>: <type>: <reason>` of a failed bulk item."""
    info = next(iter(item.values()), {})
    error = info.get("error")
    if isinstance(error, dict):
        error = f"{error.get('type')}: {error.get('reason')}"
    return f"{info.get('_id')}: {error} (status {info.get('status')})"


def write_partition(job: BulkJob, batches: Iterator[pa.RecordBatch]) -> Iterator[pa.RecordBatch]:
    """mapInArrow function: indexes one partition and yields its (rows, indexed, errors)."""
    tally = _Tally()
    batches = iter(batches)
    client, streaming_bulk, client_errors = _client(job)
    try:
        results = streaming_bulk(
            client, _actions(batches, job, tally), chunk_size=job.chunk_size, max_chunk_bytes=job.max_chunk_bytes,
            raise_on_error=False, max_retries=job.max_retries, initial_backoff=job.initial_backoff,
            max_backoff=job.max_backoff, require_alias=True,
        )
        for ok, item in results:
            if ok:
                tally.indexed += 1
            else:
                tally.error(_reason(item))
    except client_errors as exc:  # the cluster is unreachable or refused a whole request
        tally.error(f"partition stopped: {type(exc).__name__}: {exc}")
        tally.rows += sum(batch.num_rows for batch in batches)  # the rows never read
    finally:
        client.close()
    yield pa.RecordBatch.from_pylist([{"rows": tally.rows, "indexed": tally.indexed, "errors": tally.errors}], schema=_RESULT_ARROW)


def _client(job: BulkJob):
    """The client, its `streaming_bulk` and its exception classes, for the server's library."""
    c = job.connection
    if job.library == "elasticsearch":
        import elasticsearch
        from elasticsearch import helpers

        client = elasticsearch.Elasticsearch(
            list(c.nodes), basic_auth=(c.username, c.password) if c.username else None, api_key=c.api_key,
            verify_certs=c.verify_certs, ca_certs=c.ca_path, request_timeout=job.request_timeout,
            max_retries=3, retry_on_timeout=True, http_compress=True,
        )
        return client, helpers.streaming_bulk, (elasticsearch.ApiError, elasticsearch.TransportError)
    import opensearchpy
    from opensearchpy import helpers

    client = opensearchpy.OpenSearch(
        list(c.nodes), http_auth=(c.username, c.password) if c.username else None,
        headers={"Authorization": f"ApiKey {c.api_key}"} if c.api_key else None,
        verify_certs=c.verify_certs, ca_certs=c.ca_path, timeout=job.request_timeout,
        max_retries=3, retry_on_timeout=True, http_compress=True,
    )
    return client, helpers.streaming_bulk, (opensearchpy.OpenSearchException,)
