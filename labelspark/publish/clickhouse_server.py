"""The ClickHouse server a publish talks to, over its HTTP interface.

Statements go as the POST body, settings as URL parameters, the user and password as HTTP
basic auth: the same on 18.16 and current releases. Secrets never appear in a repr, a log line
or an error message.
"""
from __future__ import annotations

import datetime as dt
import os
import re
from dataclasses import dataclass, field
from typing import Callable, Mapping

import requests

from labelspark.config.models import ClickHouseOutput
from labelspark.errors import PublishError
from labelspark.publish.http_session import redact, retrying_session, secret_from_env

TIMEOUT = (10.0, 600.0)  # connect, read: an INSERT of many rows or a DROP of a large table takes a while


@dataclass(frozen=True)
class ServerAddress:
    """URL, credentials and TLS options; pickled into executor tasks by the writer."""

    url: str = field(repr=False)  # may carry user:password@: `shown` is what logs see
    username: str | None = None
    password: str | None = field(default=None, repr=False)
    verify: bool | str = True

    @classmethod
    def from_config(cls, output: ClickHouseOutput, resolve: Callable[[str], str] = str,
                    environ: Mapping[str, str] = os.environ) -> "ServerAddress":
        username = secret_from_env(environ, output.username_env, "outputs.clickhouse.username_env")
        password = secret_from_env(environ, output.password_env, "outputs.clickhouse.password_env")
        verify = False if not output.verify_certs else (resolve(output.ca_path) if output.ca_path else True)
        return cls(output.url, username, password, verify)

    @property
    def shown(self) -> str:
        return redact(self.url)


class Server:
    """Statements against one server, each a POST sent once: a connection that fails before
    the request is sent is retried with backoff (urllib3 retries no POST it sent, so no
    statement runs twice)."""

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

    def version(self) -> tuple[int, int]:
        answer = self.query("SELECT version()")
        match = re.match(r"(\d+)\.(\d+)", answer)
        if match is None:
            raise PublishError(f"ClickHouse at {self.address.shown} gave a version that is not major.minor: {answer[:100]!r}")
        return int(match[1]), int(match[2])

    def exists(self, database: str, table: str) -> bool:
        return self.query(f"EXISTS TABLE `{database}`.`{table}`") == "1"

    def database_engine(self, database: str) -> str:
        return self.query(f"SELECT engine FROM system.databases WHERE name = '{database}'")

    def tables(self, database: str) -> dict[str, tuple[str, dt.datetime]]:
        """Every table of `database`: its engine and the time its metadata was written (its creation, for ours)."""
        answer = self.query(f"SELECT name, engine, metadata_modification_time FROM system.tables WHERE database = '{database}'")
        rows = (line.split("\t") for line in answer.splitlines() if line)
        return {name: (engine, dt.datetime.fromisoformat(created)) for name, engine, created in rows}

    def engine_of(self, database: str, table: str) -> str | None:
        answer = self.query(f"SELECT engine FROM system.tables WHERE database = '{database}' AND name = '{table}'")
        return answer or None

    def refuse_non_view(self, database: str, name: str) -> None:
        """The names a publish replaces must be views (or absent): a table of that name is someone's data."""
        engine = self.engine_of(database, name)
        if engine not in (None, "View"):
            raise PublishError(f"{database}.{name} is a {engine} table, not the view a publish moves: "
                               "name another outputs.clickhouse.table, or move that table away")

    def drop_view(self, database: str, name: str) -> None:
        """Drops the view `name` if there is one; anything else of that name is refused, never dropped."""
        self.refuse_non_view(database, name)
        self.execute(f"DROP TABLE IF EXISTS `{database}`.`{name}`")

    def view_target(self, database: str, view: str) -> str | None:
        """The table the view reads (None: no such view), from its definition."""
        if self.engine_of(database, view) != "View":
            return None
        create = self.query(f"SHOW CREATE TABLE `{database}`.`{view}`").replace("\\n", " ")
        match = re.search(r"FROM\s+`?" + re.escape(database) + r"`?\.`?(\w+)`?\s*$", create)
        return match[1] if match else None
