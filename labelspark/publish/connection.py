"""Where the cluster is and how to reach it, and the few admin calls a publish makes.

Admin calls (create, settings, refresh, count, aliases, delete) go over plain HTTP with
`requests`: plain `application/json` is accepted by Elasticsearch and OpenSearch alike, so one
code path serves both. Bulk loading uses each server's own client (see `bulk.py`).
Secrets never appear in a repr, a log line or an error message.
"""
from __future__ import annotations

import logging
import os
from dataclasses import dataclass, field
from typing import Callable, Mapping
from urllib.parse import quote

import requests

from labelspark.config.models import ElasticsearchOutput
from labelspark.errors import PublishError
from labelspark.publish.http_session import redact, retrying_session, secret_from_env

log = logging.getLogger(__name__)
TIMEOUT = (10.0, 120.0)  # connect, read: a refresh or delete of a large index takes a while


@dataclass(frozen=True)
class Connection:
    """Nodes, credentials and TLS options; pickled into executor tasks by the python writer."""

    nodes: tuple[str, ...]
    username: str | None = None
    password: str | None = field(default=None, repr=False)
    api_key: str | None = field(default=None, repr=False)
    ca_path: str | None = None
    verify_certs: bool = True

    @classmethod
    def from_config(
        cls, es: ElasticsearchOutput, resolve: Callable[[str], str] = str, environ: Mapping[str, str] = os.environ
    ) -> "Connection":
        """Reads credentials from the environment variables the config names (which ones may be
        named together is the config model's check)."""
        nodes = tuple(es.node_urls)
        username = secret_from_env(environ, es.username_env, "outputs.elasticsearch.username_env")
        password = secret_from_env(environ, es.password_env, "outputs.elasticsearch.password_env")
        api_key = secret_from_env(environ, es.api_key_env, "outputs.elasticsearch.api_key_env")
        ca_path = resolve(es.ca_path) if es.ca_path else None
        return cls(nodes, username, password, api_key, ca_path, es.verify_certs)

    @property
    def verify(self) -> bool | str:
        """`requests`' verify: off, a CA bundle, or the system trust store."""
        if not self.verify_certs:
            return False
        return self.ca_path or True

    @property
    def shown(self) -> str:
        """The nodes as they may be logged (any user:password@ in a URL removed)."""
        return ", ".join(redact(node) for node in self.nodes)


class Cluster:
    """Admin calls against the first node that answers; connection errors and 429/502/503/504
    on idempotent calls are retried with backoff by urllib3."""

    def __init__(self, connection: Connection, retries: int = 3, backoff: float = 0.5):
        self.connection = connection
        self._nodes = list(connection.nodes)
        self._http = retrying_session(retries=retries, backoff=backoff, statuses=(429, 502, 503, 504))
        self._http.verify = connection.verify
        if connection.username is not None:
            self._http.auth = (connection.username, connection.password)
        if connection.api_key is not None:
            self._http.headers["Authorization"] = f"ApiKey {connection.api_key}"

    def __enter__(self) -> "Cluster":
        return self

    def __exit__(self, *exc) -> None:
        self._http.close()

    def request(self, method: str, path: str, body: dict | None = None, missing_ok: bool = False) -> dict:
        """The decoded JSON answer; {} for a 404 when `missing_ok`; PublishError otherwise."""
        failure: Exception | None = None
        for node in list(self._nodes):
            try:
                response = self._http.request(method, node + path, json=body, timeout=TIMEOUT)
            except requests.RequestException as exc:
                failure = exc
                log.debug("%s %s on %s: %s", method, path, redact(node), type(exc).__name__)
                continue
            self._nodes.remove(node)
            self._nodes.insert(0, node)  # later calls start with the node that answered
            if response.status_code == 404 and missing_ok:
                return {}
            if response.status_code >= 300:
                raise PublishError(f"{method} {path} on {redact(node)}: HTTP {response.status_code} {_reason(response)}")
            return response.json() if response.content else {}
        raise PublishError(f"{method} {path}: no node answered ({self.connection.shown}): {_describe(failure)}")

    def info(self) -> dict:
        return self.request("GET", "/")

    def create_index(self, name: str, body: dict) -> None:
        self.request("PUT", f"/{_path(name)}", body)

    def put_settings(self, name: str, settings: dict) -> None:
        self.request("PUT", f"/{_path(name)}/_settings", settings)

    def refresh(self, name: str) -> None:
        self.request("POST", f"/{_path(name)}/_refresh")

    def count(self, name: str) -> int:
        return int(self.request("GET", f"/{_path(name)}/_count")["count"])

    def alias_targets(self, alias: str) -> list[str]:
        """The indices `alias` points to now (none when it does not exist yet)."""
        return sorted(self.request("GET", f"/_alias/{_path(alias)}", missing_ok=True))

    def update_aliases(self, actions: list[dict]) -> None:
        """One `_aliases` call: its actions apply together or not at all."""
        self.request("POST", "/_aliases", {"actions": actions})

    def creation_dates(self, pattern: str) -> dict[str, int]:
        """Open indices matching a wildcard pattern, with their creation time (epoch ms)."""
        found = self.request("GET", f"/{_path(pattern)}/_settings/index.creation_date", missing_ok=True)
        return {name: int(data["settings"]["index"]["creation_date"]) for name, data in found.items()}

    def delete_index(self, name: str) -> None:
        self.request("DELETE", f"/{_path(name)}", missing_ok=True)


def _path(name: str) -> str:
    return quote(name, safe="*")


def _reason(response: requests.Response) -> str:
    """`type: reason` of an Elasticsearch error body, else the start of the body."""
    try:
        error = response.json().get("error")
    except ValueError:
        return response.text[:300]
    if isinstance(error, dict):
        return f"{error.get('type')}: {error.get('reason')}"
    return str(error)[:300]


def _describe(exc: Exception | None) -> str:
    """What failed; requests' messages name host and port, never a URL's user:password@."""
    return "no nodes" if exc is None else f"{type(exc).__name__}: {exc}"[:500]
