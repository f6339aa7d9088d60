"""Spark sessions for the three engines; pipeline code never creates a session itself.

- `sail`: LakeSail's Spark Connect server embedded in this process on 127.0.0.1 (no JVM).
- `spark`: classic PySpark: the session spark-submit made, else `local[*]` with Delta Lake.
- `connect`: any Spark Connect server, `--remote sc://host:port`.

Nothing here may hang a job that is stopping: calls to the embedded server give up after a
few quick retries (it is in this process: when it does not answer, it is gone), interrupting
the engine's work, closing the session and stopping the server are bounded in time.
"""
from __future__ import annotations

import contextlib
import logging
import os
import sys
import threading
from typing import Callable, Iterator

from pyspark.sql import SparkSession

from labelspark.engine import jars
from labelspark.engine.error_conversion import SAIL_MEMORY
from labelspark.engine.facts import ENGINES, Engine, engine_of, pyspark_line, pyspark_version, remember
from labelspark.errors import EngineError, Interrupted

STOP_SECONDS = 10.0  # at most this long to close the embedded session, or to stop its server
PATIENCE_SECONDS = 3.0  # for the engine to interrupt its work after a signal
log = logging.getLogger(__name__)


@contextlib.contextmanager
def open_session(engine: str = "sail", remote: str | None = None) -> Iterator[SparkSession]:
    """A session of `engine`, its facts recorded for `engine_of`; stopped on exit if this
    function started it."""
    if engine in ("sail", "connect"):
        _require_pyspark4(engine)
    if engine == "sail":
        with _sail_session() as spark:
            remember(spark, Engine("sail", True, spark.version, pyspark_line()))
            yield spark
    elif engine == "spark":
        spark = _classic_spark()
        try:
            yield spark
        finally:
            if not _under_spark_submit():
                spark.stop()
    elif engine == "connect":
        if not remote:
            raise EngineError("--engine connect needs --remote sc://HOST:PORT")
        spark = _connect(remote)
        remember(spark, Engine("connect", True, spark.version, pyspark_line()))
        yield spark
    else:
        raise EngineError(f"unknown engine {engine!r} (engines: {', '.join(ENGINES)})")


def set_timezone(spark: SparkSession, timezone: str) -> None:
    """The session's timezone, the one place it is set: a run (and a dry run) sets its project's
    once, before reading sources, so days of timestamps (windows, date rules, text read as
    local times) are days in that timezone."""
    spark.conf.set("spark.sql.session.timeZone", timezone)


def _require_pyspark4(engine: str) -> None:
    """Sail 0.7 speaks PySpark 4's Spark Connect protocol, and the pipeline's Connect columns
    need it; PySpark 3.5 (a Spark 3.5 cluster's) runs the classic engine only."""
    if pyspark_line()[0] < 4:
        raise EngineError(
            f"--engine {engine} needs PySpark 4.0 or 4.1; this Python has PySpark {pyspark_version()}: "
            "use --engine spark (classic Spark 3.5), or install pyspark 4.1"
        )


@contextlib.contextmanager
def _sail_session() -> Iterator[SparkSession]:
    os.environ.setdefault("RUST_LOG", "error")
    # Spark's default parquet codec; Sail's zstd(3) spends more CPU on every Delta write
    os.environ.setdefault("SAIL_PARQUET__COMPRESSION", "snappy")
    # Sail's memory is unbounded by default: beyond this bound its sorts spill to disk instead;
    # a parquet writer holds a row group per open file outside it (10^6 rows by default)
    os.environ.setdefault("SAIL_RUNTIME__MEMORY_POOL__TYPE", "fair")
    os.environ.setdefault(SAIL_MEMORY, str(sail_memory_bytes()))
    os.environ.setdefault("SAIL_PARQUET__MAX_ROW_GROUP_SIZE", str(128 * 1024))
    # joins that sort and spill: a hash join holds its whole build side in the pool, and
    # history's daily join of 3.2*10^8 current versions (10^7 users) overran a 2 GiB pool
    os.environ.setdefault("SAIL_OPTIMIZER__PREFER_HASH_JOIN", "false")
    try:
        from pysail.spark import SparkConnectServer
    except ImportError as exc:  # pragma: no cover - pysail is a dependency
        raise EngineError(f"the sail engine needs pysail: {exc}") from None
    from pyspark.sql.connect.client.retries import DefaultPolicy

    server = SparkConnectServer(ip="127.0.0.1", port=0)
    server.start(background=True)
    host, port = server.listening_address
    log.debug("sail: Spark Connect server on %s:%s", host, port)
    spark = _connect(f"sc://{host}:{port}")
    # the default retries a vanished server for ten minutes
    spark.client.set_retry_policies([DefaultPolicy(max_retries=3, initial_backoff=100, max_backoff=1000)])
    # Sail plans its own shuffles with one part per core and ignores this; the indicator passes
    # read it (indicators.clustered_by): 8-32 sorts of a 10^6-user run took 15% less than 2
    spark.conf.set("spark.sql.shuffle.partitions", str(max(16, 4 * (os.cpu_count() or 2))))
    interrupted = False
    try:
        yield spark
    except Interrupted:
        interrupted = True  # the command leaves at once and the server ends with the process: no waiting for it
        raise
    finally:
        if not interrupted:
            _within(STOP_SECONDS, spark.stop, "closing the session")
            _within(STOP_SECONDS, server.stop, "stopping the embedded Sail server")


def sail_memory_bytes() -> int:
    """Sail's memory pool unless SAIL_RUNTIME__MEMORY_POOL__FAIR__MAX_SIZE says otherwise: a
    quarter of the machine's memory, leaving the rest to the page cache and other work."""
    return os.sysconf("SC_PHYS_PAGES") * os.sysconf("SC_PAGE_SIZE") // 4


def stop_work(spark: SparkSession) -> None:
    """Interrupts whatever the engine runs for `spark` now. Work running Python code (the bulk
    writer of publishing) ends only when that code returns: if interrupting takes longer than
    PATIENCE_SECONDS, a Spark Connect session is closed instead, so no call waits on it any more
    (what the embedded server still runs ends with the process). Such work writes no table."""
    if _within(PATIENCE_SECONDS, spark.interruptAll, "interrupting the engine's work"):
        return
    if engine_of(spark).connect:  # a classic session raises on .client
        _within(STOP_SECONDS, spark.client.close, "closing the session")


def _within(seconds: float, action: Callable[[], object], what: str) -> bool:
    """Runs `action`, waiting for it at most `seconds` (it goes on in a daemon thread); True
    when it ended in time (failing or not)."""

    def attempt() -> None:
        try:
            action()
        except Exception as exc:  # on the way out: the engine may be gone already
            log.debug("%s: %s: %s", what, type(exc).__name__, exc)

    worker = threading.Thread(target=attempt, name=f"labelspark: {what}", daemon=True)
    worker.start()
    worker.join(seconds)
    if worker.is_alive():
        log.warning("%s did not finish within %.0fs; going on without it", what, seconds)
        return False
    return True


def _connect(url: str) -> SparkSession:
    """A Spark Connect session. One process holds Connect or classic sessions, never both:
    `pyspark.sql.functions` builds the Column flavour of the first."""
    return SparkSession.builder.remote(url).getOrCreate()


def _under_spark_submit() -> bool:
    """spark-submit starts the JVM first and hands its gateway to Python."""
    return "PYSPARK_GATEWAY_PORT" in os.environ


def _classic_spark() -> SparkSession:
    """The classic session of spark-submit (its master, conf and jars), else a `local[*]` one
    with Delta Lake: jars from a folder, else resolved by Spark from Maven Central (labelspark.engine.jars)."""
    # a Connect flag inherited from a parent process (one that used Spark Connect) would make
    # the builder refuse a classic session
    for variable in ("SPARK_CONNECT_MODE_ENABLED", "SPARK_REMOTE"):
        os.environ.pop(variable, None)
    builder = SparkSession.builder.config("spark.api.mode", "classic").appName("labelspark")
    if _under_spark_submit():
        return _supported(builder.getOrCreate())
    cores = os.cpu_count() or 2
    builder = (
        builder.master("local[*]")
        .config("spark.ui.enabled", "false")
        .config("spark.ui.showConsoleProgress", "false")  # progress bars would garble the log lines
        .config("spark.driver.host", "127.0.0.1")
        .config("spark.sql.shuffle.partitions", str(max(2, cores * 2)))
        .config("spark.sql.adaptive.enabled", "true")
        # Delta replays its log in 50 tasks by default, sized for clusters: seconds per read on one machine
        .config("spark.databricks.delta.snapshotPartitions", str(max(1, cores)))
        # local Python workers (the Elasticsearch writer) use this interpreter and its packages
        .config("spark.pyspark.python", sys.executable)
    )
    settings, origin = jars.session_settings(*jars.installed_spark())
    log.info("spark: Delta Lake from %s", origin)
    for key, value in settings.items():
        builder = builder.config(key, value)
    try:
        spark = builder.getOrCreate()
    except Exception as exc:
        if "spark.jars.packages" not in settings:
            raise
        raise EngineError(
            f"Spark could not start with {origin} ({str(exc).splitlines()[0]}; Spark's log above says why): "
            f"fetch them with scripts/fetch-jars.sh, or set {jars.JARS_VARIABLE} to a folder that holds them"
        ) from exc
    try:
        return _supported(spark)  # the JVM's Spark: SPARK_HOME may name another than the pyspark package
    except EngineError:
        spark.stop()
        raise


def _supported(spark: SparkSession) -> SparkSession:
    """The session, when the Spark its driver runs is one the pinned Delta jar supports (on a
    cluster it may differ from this Python's pyspark); else UnsupportedSpark, before any write.
    A Delta release other than the pinned one (jars of the user's choice) is run, with a warning.
    The facts found here are the session's `Engine`."""
    jvm = spark.sparkContext._jvm
    scala = jars.spark_line(jvm.scala.util.Properties.versionNumberString())
    version = spark.version
    pins = jars.pins_for(version, scala)
    delta = _loaded_delta_version(jvm)
    [pinned] = [pin for pin in pins if "delta-spark" in pin.coordinate]
    if delta and delta != pinned.version:
        log.warning("spark: Delta Lake %s on Spark %s; labelspark is tested with %s on Spark %s to %s",
                    delta, version, pinned.coordinate, pinned.first, pinned.last)
    log.info("spark: Spark %s (Scala %s), Delta Lake %s", version, scala, delta or "not loaded")
    remember(spark, Engine("spark", False, version, pyspark_line(), delta))
    return spark


def _loaded_delta_version(jvm) -> str | None:
    """The Implementation-Version of the delta-spark jar the driver loaded (None: not found)."""
    try:
        loader = jvm.java.lang.Thread.currentThread().getContextClassLoader()
        return jvm.java.lang.Class.forName("org.apache.spark.sql.delta.DeltaLog", False, loader).getPackage().getImplementationVersion()
    except Exception as exc:  # no Delta on the classpath: the first Delta read says so (error_conversion.NO_DELTA)
        log.debug("spark: no Delta Lake class found: %s", exc)
        return None
