"""Spark sessions for the three engines; pipeline code never creates a session itself.

- `sail`: LakeSail's Spark Connect server embedded in this process on 127.0.0.1 (no JVM).
- `spark`: classic PySpark: the session spark-submit made, else `local[*]`.
- `connect`: any Spark Connect server, `--remote sc://host:port`.
"""
from __future__ import annotations

import contextlib
import logging
import os
from typing import Iterator

from pyspark.sql import SparkSession

from labelspark.errors import EngineError

ENGINES = ("sail", "spark", "connect")
log = logging.getLogger(__name__)


@contextlib.contextmanager
def open_session(engine: str = "sail", remote: str | None = None, timezone: str = "UTC") -> Iterator[SparkSession]:
    """A session set to the project's timezone; stopped on exit if this function started it."""
    if engine == "sail":
        with _sail_session() as spark:
            spark.conf.set("spark.sql.session.timeZone", timezone)
            yield spark
    elif engine == "spark":
        active = SparkSession.getActiveSession()
        spark = active or _local_spark()
        spark.conf.set("spark.sql.session.timeZone", timezone)
        try:
            yield spark
        finally:
            if active is None:
                spark.stop()
    elif engine == "connect":
        if not remote:
            raise EngineError("--engine connect needs --remote sc://HOST:PORT")
        spark = SparkSession.builder.remote(remote).getOrCreate()
        spark.conf.set("spark.sql.session.timeZone", timezone)
        yield spark
    else:
        raise EngineError(f"unknown engine {engine!r} (engines: {', '.join(ENGINES)})")


@contextlib.contextmanager
def _sail_session() -> Iterator[SparkSession]:
    os.environ.setdefault("RUST_LOG", "error")
    try:
        from pysail.spark import SparkConnectServer
    except ImportError as exc:  # pragma: no cover - pysail is a dependency
        raise EngineError(f"the sail engine needs pysail: {exc}") from None
    server = SparkConnectServer(ip="127.0.0.1", port=0)
    server.start(background=True)
    host, port = server.listening_address
    log.debug("sail: Spark Connect server on %s:%s", host, port)
    spark = SparkSession.builder.remote(f"sc://{host}:{port}").getOrCreate()
    try:
        yield spark
    finally:
        with contextlib.suppress(Exception):
            spark.stop()
        server.stop()


def _local_spark() -> SparkSession:
    cores = os.cpu_count() or 2
    return (
        SparkSession.builder.master("local[*]")
        .appName("labelspark")
        .config("spark.ui.enabled", "false")
        .config("spark.driver.host", "127.0.0.1")
        .config("spark.sql.shuffle.partitions", str(max(2, cores * 2)))
        .config("spark.sql.adaptive.enabled", "true")
        .getOrCreate()
    )
