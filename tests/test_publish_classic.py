"""The python writer on every engine: bulk requests from the executors into a real server.

Portable: runs on Sail and again on classic local Spark (LABELSPARK_TEST_ENGINE=spark), where
the writer's function runs in separate Python worker processes.
"""
from __future__ import annotations

import datetime as dt
import os
import sys

import pytest

from labelspark.publish import PublishError, publish
from labelspark.publish.publisher import choose_writer
from tests.support.search import ROWS, SCHEMA, alias_targets, documents, expected_documents, get, indices

pytestmark = pytest.mark.portable

# Classic local workers start `python3` from PATH; have them run this interpreter (and its packages).
os.environ.setdefault("PYSPARK_PYTHON", sys.executable)

D = dt.date(2026, 3, 31)


def test_python_writer_indexes_every_row_from_the_executors(spark, shop, search_url):
    project = shop(writer="auto")
    snapshot = spark.createDataFrame(ROWS, SCHEMA).repartition(3)

    assert choose_writer(spark, project.outputs.elasticsearch, {"distribution": "opensearch"}) == "python"
    name = publish(spark, project, snapshot, D, "Run1")

    assert name == "shop_labels-20260331-run1"
    assert alias_targets(search_url, "shop_labels") == [name]
    assert get(search_url, f"/{name}/_count")["count"] == 5
    assert documents(search_url, "shop_labels") == expected_documents("2026-03-31")


def test_refused_documents_are_counted_and_the_index_removed(spark, shop, search_url):
    project = shop()
    rows = [("m1", "gold", 1.0, True, "2026-03-30"), ("m2", None, None, None, "30/03/2026"), ("m3", None, None, None, "yesterday")]
    snapshot = spark.createDataFrame(rows, "member_id string, tier string, spend double, vip boolean, last_order string").repartition(2)

    with pytest.raises(PublishError) as failure:
        publish(spark, project, snapshot, D, "run1")

    message = str(failure.value)
    assert "2 of 3 documents were not indexed into shop_labels-20260331-run1" in message
    assert "m2: mapper_parsing_exception" in message and "m3: mapper_parsing_exception" in message
    assert indices(search_url) == []
    assert alias_targets(search_url, "shop_labels") == []
