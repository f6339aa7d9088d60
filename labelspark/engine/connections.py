"""How a source is reached beyond its path: secrets from the environment (`options_env`), and the
JDBC reader of each engine (classic Spark's with the driver's jar; pysail's on Sail)."""
from __future__ import annotations

import os
import weakref

from pyspark.errors import PySparkException
from pyspark.sql import DataFrame, SparkSession

from labelspark.config import Project
from labelspark.config.models import Source
from labelspark.engine.facts import engine_of
from labelspark.errors import Problem, UsageError

try:  # what classic Spark raises for a Java exception it does not classify (java.sql.SQLException)
    from py4j.protocol import Py4JJavaError
    ENGINE_ERRORS: tuple[type[Exception], ...] = (PySparkException, Py4JJavaError)
except ImportError:  # pyspark-client: Spark Connect only
    ENGINE_ERRORS = (PySparkException,)
_PYSAIL_JDBC: "weakref.WeakSet[SparkSession]" = weakref.WeakSet()  # the sessions that registered it
# the driver class of the URLs whose driver jars.txt pins: classic Spark finds a driver from
# --jars or spark.jars only by its class name (the `driver` option)
PINNED_DRIVERS = {"jdbc:postgresql:": "org.postgresql.Driver"}
# what classic Spark says when it has no driver for a URL (the second once another driver was registered by name)
_NO_DRIVER = ("No suitable driver", "DriverWrapper.<init>")


def environment_options(project: Project, name: str, source: Source) -> dict[str, str]:
    """The reader options `options_env` names, from the environment."""
    problems = _unset_variables(name, source)
    if problems:
        raise project.error(problems)
    return {option: os.environ[variable] for option, variable in source.options_env.items()}


def check_environment(project: Project) -> None:
    """Raises ConfigError, located, for each variable a source's `options_env` names that is not
    set: `run` checks before the lock, so a deployment lacking a secret records no failed run."""
    problems = [problem for name, source in project.sources.items() for problem in _unset_variables(name, source)]
    if problems:
        raise project.error(problems)


def _unset_variables(name: str, source: Source) -> list[Problem]:
    return [Problem(f"sources.{name}.options_env.{option}", f"names the environment variable {variable}, which is not set")
            for option, variable in source.options_env.items() if variable not in os.environ]


def read_jdbc(spark: SparkSession, options: dict[str, str]) -> DataFrame:
    """A JDBC source: classic Spark's reader (the driver jar on its class path), or on Sail pysail's
    reader over connectorx, which a Sail session registers before its first read.

    Sail filters what pysail's reader returns itself: pysail 0.7.2 pushes a timestamp bound down
    as a count of microseconds, which PostgreSQL refuses (`timestamp with time zone < bigint`).
    """
    pinned = next((driver for prefix, driver in PINNED_DRIVERS.items() if options.get("url", "").startswith(prefix)), None)
    if pinned and "driver" not in options:
        options = {**options, "driver": pinned}
    if engine_of(spark).name != "sail":
        return spark.read.options(**options).format("jdbc").load()
    if spark not in _PYSAIL_JDBC:
        try:
            from pysail.spark.datasource.jdbc import JdbcDataSource
        except ImportError:
            raise UsageError("--engine sail reads jdbc sources with pysail's jdbc extra, which is not installed: "
                             "pip install 'pysail[jdbc]' (connectorx), or run with --engine spark") from None
        spark.dataSource.register(JdbcDataSource)
        _PYSAIL_JDBC.add(spark)
    return spark.read.options(**{**options, "pushDownPredicate": "false"}).format("jdbc").load()


def jdbc_hint(source: Source, error: str) -> str:
    """What to do when classic Spark has no driver for a jdbc source's URL."""
    if source.format == "jdbc" and any(text in error for text in _NO_DRIVER):
        return (" (classic Spark needs the database's driver jar, given with spark-submit --jars, and its class "
                "as the `driver` option, e.g. `driver: com.mysql.cj.jdbc.Driver`; PostgreSQL's comes with scripts/fetch-jars.sh)")
    return ""
