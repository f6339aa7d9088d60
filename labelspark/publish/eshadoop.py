"""The es-hadoop writer: Elastic's Spark connector, for classic Spark sessions that have its jar.

The connector writes from the executors through the JVM. `es_hadoop_options` is pure so its
choices can be checked without the jar: index pre-created (no auto-create), `_id` from the
entity key, plain `index` operations, no refresh per bulk, nulls left out of documents.
"""
from __future__ import annotations

from pathlib import PurePath
from urllib.parse import urlsplit

from pyspark.sql import DataFrame, SparkSession

from labelspark.engine.facts import engine_of
from labelspark.publish.connection import Connection
from labelspark.errors import PublishError

FORMAT = "org.elasticsearch.spark.sql"
CONNECTOR_CLASS = "org.elasticsearch.spark.sql.DefaultSource"
_TRUSTSTORES = (".jks", ".p12", ".pfx")


def has_connector(spark: SparkSession) -> bool:
    """True on a classic session whose JVM can load the connector (a Connect session has no JVM here)."""
    from py4j.protocol import Py4JError

    if not engine_of(spark).jvm:
        return False
    jvm = spark.sparkContext._jvm
    try:
        loader = jvm.java.lang.Thread.currentThread().getContextClassLoader()
        jvm.java.lang.Class.forName(CONNECTOR_CLASS, False, loader)
    except Py4JError:
        return False
    return True


def es_hadoop_options(connection: Connection, index: str, key: str, bulk_size: int | None = None) -> dict[str, str]:
    """Connector options for one publish; they hold credentials, so never log them."""
    urls = [urlsplit(node) for node in connection.nodes]
    schemes = {url.scheme for url in urls}
    prefixes = {url.path.rstrip("/") for url in urls}
    if len(schemes) > 1 or len(prefixes) > 1:
        raise PublishError("es-hadoop needs every node on the same scheme and path (http or https, one prefix)")
    https = schemes == {"https"}
    options = {
        "es.nodes": ",".join(f"{url.hostname}:{url.port or (443 if https else 80)}" for url in urls),
        "es.net.ssl": str(https).lower(),
        "es.resource": index,
        "es.mapping.id": key,
        "es.write.operation": "index",
        "es.index.auto.create": "false",
        "es.spark.dataframe.write.null": "false",
        "es.batch.size.entries": str(bulk_size or 1000),
        "es.batch.size.bytes": "5mb",
        "es.batch.write.refresh": "false",
        "es.batch.write.retry.count": "5",
        "es.batch.write.retry.wait": "10s",
    }
    prefix = prefixes.pop()
    if prefix:
        options["es.nodes.path.prefix"] = prefix
    if connection.username is not None:
        options["es.net.http.auth.user"] = connection.username
        options["es.net.http.auth.pass"] = connection.password or ""
    if connection.api_key is not None:
        options["es.net.http.header.Authorization"] = f"ApiKey {connection.api_key}"
    if https and not connection.verify_certs:
        options["es.net.ssl.cert.allow.self.signed"] = "true"
    if connection.ca_path:
        if PurePath(connection.ca_path).suffix.lower() not in _TRUSTSTORES:
            raise PublishError(
                f"es-hadoop reads a JVM truststore (.jks, .p12), not {connection.ca_path}: "
                "convert the CA with keytool, or use writer: python"
            )
        options["es.net.ssl.truststore.location"] = f"file://{connection.ca_path}"
    return options


def write_es_hadoop(documents: DataFrame, options: dict[str, str]) -> None:
    """Appends `documents` (key, snapshot_date, label columns) to the pre-created index."""
    documents.write.format(FORMAT).options(**options).mode("append").save()
