"""The ClickHouse server a publish talks to, over its HTTP interface.

Statements go as the POST body, settings as URL parameters, the user and password as HTTP
basic auth: the same on 18.16 and current releases. Secrets never appear in a repr, a log line
or an error message.
"""
from __future__ import annotations

import datetime as dt
import os
from dataclasses import dataclass, field
from typing import Callable, Mapping

import requests

from labelspark.config.models import ClickHouseOutput
from labelspark.errors import PublishError
from labelspark.publish.http_session import redact, retrying_session

TIMEOUT = (10.0, 600.0)  # connect, read: an INSERT of many rows or a DROP of a large table takes a while


@dataclass(frozen=True)
class ServerAddress:
    """URL, credentials and TLS options; pickled into executor tasks by the writer."""

    url: str
    username: str | None = None
    password: str | None = field(default=None, repr=False)
    verify: bool | str = True

    @classmethod
    def from_config(cls, output: ClickHouseOutput, resolve: Callable[[str], str] = str,
                    environ: Mapping[str, str] = os.environ) -> "ServerAddress":
        username = _secret(environ, output.username_env, "username_env")
        password = _secret(environ, output.password_env, "password_env")
        verify = False if not output.verify_certs else (resolve(output.ca_path) if output.ca_path else True)
        return cls(output.url, username, password, verify)

    @property
    def shown(self) -> str:
        return redact(self.url)


def _secret(environ: Mapping[str, str], name: str | None, setting: str) -> str | None:
    if name is None:
        return None
    value = environ.get(name)
    if not value:
        raise PublishError(f"outputs.clickhouse.{setting} names the environment variable {name}, which is not set")
    return value


class Server:
    """Statements against one server; connection errors and 502/503/504 are retried with
    backoff (an INSERT only when it was not sent: urllib3 retries no POST it sent)."""

    def __init__(self, address: ServerAddress, settings: dict[str, str] | None = None, retries: int = 3, backoff: float = 0.5):
        self.address = address
        self.settings = dict(settings or {})  # sent with every statement
        self._http = retrying_session(retries=retries, backoff=backoff, statuses=(502, 503, 504))
        self._http.verify = address.verify
        if address.username is not None:
            self._http.auth = (address.username, address.password)

    def query(self, sql: str, **settings: str) -> str:
        """The answer of `sql` as text (TabSeparated), stripped."""
        try:
            response = self._http.post(self.address.url + "/", params={**self.settings, **settings}, data=sql.encode(), timeout=TIMEOUT)
        except requests.RequestException as exc:
            raise PublishError(f"ClickHouse at {self.address.shown} did not answer: {type(exc).__name__}") from exc
        if response.status_code != 200:
            raise PublishError(f"ClickHouse at {self.address.shown} refused `{sql.split(chr(10))[0][:200]}`: "
                               f"HTTP {response.status_code}: {response.text.strip()[:1000]}")
        return response.text.strip()

    def execute(self, sql: str, **settings: str) -> None:
        self.query(sql, **settings)

    def insert(self, statement: str, json_rows: list[str]) -> None:
        self.query(statement + "\n" + "\n".join(json_rows))

    def version(self) -> tuple[int, ...]:
        return tuple(int(part) for part in self.query("SELECT version()").split(".")[:3] if part.isdigit())

    def exists(self, database: str, table: str) -> bool:
        return self.query(f"EXISTS TABLE `{database}`.`{table}`") == "1"

    def database_engine(self, database: str) -> str:
        return self.query(f"SELECT engine FROM system.databases WHERE name = '{database}'")

    def tables(self, database: str) -> dict[str, dt.datetime]:
        """Every table of `database` with the time its metadata was written (its creation, for ours)."""
        answer = self.query(f"SELECT name, metadata_modification_time FROM system.tables WHERE database = '{database}'")
        rows = (line.split("\t") for line in answer.splitlines() if line)
        return {name: dt.datetime.fromisoformat(created) for name, created in rows}
