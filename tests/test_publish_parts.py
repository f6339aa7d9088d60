"""The parts of publishing without Spark: names, mappings, documents, credentials, connector options,
and one partition of the python writer against a real server and a closed port."""
from __future__ import annotations

import datetime as dt
import math
import socket

import pyarrow as pa
import pytest
from pydantic import ValidationError
import requests

from labelspark.config import load_project
from labelspark.config.models import ElasticsearchOutput
from labelspark.publish import PublishError, index_body, index_name
from labelspark.publish.bulk import BulkJob, to_action, write_partition
from labelspark.publish.connection import Connection, redact
from labelspark.publish.eshadoop import es_hadoop_options
from labelspark.publish.mapping import index_pattern, load_settings, serving_settings
from tests.support.search import CONFIG, documents

pytestmark = pytest.mark.portable


@pytest.fixture
def project(write_config):
    return load_project(write_config(CONFIG.format(url="http://127.0.0.1:9200", writer="auto", retention=2, extra="")))


def test_index_name_is_alias_date_and_run_id_in_lower_case():
    assert index_name("shop_labels", dt.date(2026, 3, 1), "20260301120000AbC123") == "shop_labels-20260301-20260301120000abc123"


@pytest.mark.parametrize("run_id", ["", "a b", "x/y", "-lead", "é", "x" * 250])
def test_run_ids_that_make_no_valid_index_name_are_refused(run_id):
    with pytest.raises(PublishError):
        index_name("shop_labels", dt.date(2026, 3, 1), run_id)


def test_index_pattern_matches_this_alias_only():
    pattern = index_pattern("shop")
    assert pattern.match("shop-20260301-r1")
    assert not pattern.match("shop-manual")
    assert not pattern.match("shop_x-20260301-r1")
    assert not pattern.match("shop-2026031-r1")


def test_index_body_maps_each_enabled_label_by_type_strictly(project):
    assert index_body(project, "shop_labels-20260331-r1") == {
        "settings": {"index": {"refresh_interval": "-1", "number_of_replicas": 0}},
        "mappings": {
            "dynamic": "strict",
            "properties": {
                "member_id": {"type": "keyword"},
                "snapshot_date": {"type": "date"},
                "tier": {"type": "keyword"},
                "spend": {"type": "double"},
                "vip": {"type": "boolean"},
                "last_order": {"type": "date"},
                "interests": {"type": "keyword"},
            },
        },
        "aliases": {"loading-shop_labels-20260331-r1": {}},
    }


def test_settings_are_fresh_dicts_and_restore_the_defaults():
    load_settings()["index"]["refresh_interval"] = "1s"
    assert load_settings() == {"index": {"refresh_interval": "-1", "number_of_replicas": 0}}
    assert serving_settings() == {"index": {"refresh_interval": None, "number_of_replicas": None}}


def test_an_action_leaves_nulls_and_nan_out_and_writes_dates_as_iso_text():
    job = BulkJob(Connection(("http://x:9200",)), "opensearch", "i", "member_id", ("a", "b", "c", "d", "e"), "2026-03-31")
    row = {"member_id": 42, "a": None, "b": math.nan, "c": dt.date(2026, 1, 2), "d": ["x", "y"], "e": math.inf, "ignored": 1}
    assert to_action(row, job) == {
        "_op_type": "index",
        "_index": "loading-i",  # the loading alias, which a bulk request requires
        "_id": "42",
        "_source": {"member_id": 42, "snapshot_date": "2026-03-31", "c": "2026-01-02", "d": ["x", "y"]},
    }


def test_credentials_come_from_the_named_variables_and_stay_out_of_repr():
    es = ElasticsearchOutput(nodes=["https://a:9200", " https://b:9200/ "], alias="x", username_env="U", password_env="P", ca_path="ca.pem")
    connection = Connection.from_config(es, resolve=lambda path: f"/conf/{path}", environ={"U": "reader", "P": "hunter2"})
    assert connection.nodes == ("https://a:9200", "https://b:9200")
    assert (connection.username, connection.password, connection.verify) == ("reader", "hunter2", "/conf/ca.pem")
    assert "hunter2" not in repr(connection)


def test_missing_or_conflicting_credentials_are_refused_by_name():
    es = ElasticsearchOutput(nodes="http://a:9200", alias="x", api_key_env="KEY")
    with pytest.raises(PublishError, match="api_key_env names the environment variable KEY, which is not set"):
        Connection.from_config(es, environ={})
    # what the config alone says is wrong is the config model's error, reported by `validate`
    with pytest.raises(ValidationError, match="not both"):
        ElasticsearchOutput(nodes="http://a:9200", alias="x", api_key_env="KEY", username_env="U", password_env="P")
    with pytest.raises(ValidationError, match="needs http:// or https://"):
        ElasticsearchOutput(nodes="a:9200", alias="x")


def test_tls_verification_is_on_unless_switched_off():
    assert Connection(("https://a",)).verify is True
    assert Connection(("https://a",), ca_path="/ca.pem", verify_certs=False).verify is False


def test_redact_hides_user_info_in_node_urls():
    assert redact("https://user:pw@es.example:9200/p") == "https://***@es.example:9200/p"
    assert redact("http://es:9200") == "http://es:9200"
    assert redact("https://hooks.example/run?token=s3cret#x") == "https://hooks.example/run"  # the callback's URL


def test_es_hadoop_options_for_https_with_an_api_key():
    connection = Connection(("https://es1.example:9243", "https://es2.example"), api_key="c2VjcmV0", ca_path="/etc/ts.p12")
    assert es_hadoop_options(connection, "shop-20260331-r1", "member_id") == {
        "es.nodes": "es1.example:9243,es2.example:443",
        "es.net.ssl": "true",
        "es.resource": "shop-20260331-r1",
        "es.mapping.id": "member_id",
        "es.write.operation": "index",
        "es.index.auto.create": "false",
        "es.spark.dataframe.write.null": "false",
        "es.batch.size.entries": "1000",
        "es.batch.size.bytes": "5mb",
        "es.batch.write.refresh": "false",
        "es.batch.write.retry.count": "5",
        "es.batch.write.retry.wait": "10s",
        "es.net.http.header.Authorization": "ApiKey c2VjcmV0",
        "es.net.ssl.truststore.location": "file:///etc/ts.p12",
    }


def test_es_hadoop_options_with_basic_auth_and_a_path_prefix():
    options = es_hadoop_options(Connection(("http://proxy:8080/es",), username="u", password="p"), "i", "k")
    assert options["es.nodes"] == "proxy:8080"
    assert options["es.nodes.path.prefix"] == "/es"
    assert (options["es.net.http.auth.user"], options["es.net.http.auth.pass"], options["es.net.ssl"]) == ("u", "p", "false")


def test_es_hadoop_refuses_a_pem_ca_and_mixed_schemes():
    with pytest.raises(PublishError, match="JVM truststore"):
        es_hadoop_options(Connection(("https://es:9200",), ca_path="/ca.pem"), "i", "k")
    with pytest.raises(PublishError, match="same scheme"):
        es_hadoop_options(Connection(("https://a:9200", "http://b:9200")), "i", "k")


def _partition(*batches):
    return iter([pa.RecordBatch.from_pylist(rows, schema=pa.schema([("member_id", pa.string()), ("tier", pa.string())])) for rows in batches])


def test_one_partition_indexes_its_rows_and_reports_the_refused(search_url):
    mappings = {"dynamic": "strict", "properties": {"member_id": {"type": "keyword"}, "snapshot_date": {"type": "date"}}}
    requests.put(f"{search_url}/i", json={"mappings": mappings, "aliases": {"loading-i": {}}}, timeout=10)
    job = BulkJob(Connection((search_url,)), "opensearch", "i", "member_id", ("tier",), "2026-03-31", chunk_size=2)
    batches = _partition([{"member_id": "a", "tier": None}, {"member_id": None, "tier": "x"}], [{"member_id": "b", "tier": "gold"}])

    [result] = write_partition(job, batches)

    assert result.to_pylist() == [{
        "rows": 3, "indexed": 1,
        "errors": [
            "a row without member_id (not sent)",
            "b: strict_dynamic_mapping_exception: mapping set to strict, dynamic introduction of [tier] within [_doc] "
            "is not allowed (status 400)",
        ],
    }]
    assert documents(search_url, "i") == {"a": {"member_id": "a", "snapshot_date": "2026-03-31"}}


def test_a_partition_that_cannot_connect_reports_instead_of_raising():
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        closed = f"http://127.0.0.1:{probe.getsockname()[1]}"
    job = BulkJob(Connection((closed,)), "opensearch", "i", "member_id", ("tier",), "2026-03-31", chunk_size=1)
    batches = _partition([{"member_id": "a", "tier": "x"}, {"member_id": "b", "tier": "y"}], [{"member_id": "c", "tier": "z"}])

    [result] = write_partition(job, batches)
    [row] = result.to_pylist()

    assert (row["rows"], row["indexed"]) == (3, 0)
    assert row["errors"][0].startswith("partition stopped: ConnectionError")
