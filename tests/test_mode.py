"""`mode_of`, the vectorised mode of a list, against Python counting the same lists.

The lists are every arrangement that can trip a run-length reading of sorted elements: ties
between runs at the start, middle and end, one element, all equal, and empty.
"""
from __future__ import annotations

import datetime as dt
import random
from collections import Counter

import pytest
from pyspark.sql import functions as F
from pyspark.sql import types as T

from labelspark.udfs import mode_of

pytestmark = pytest.mark.portable


def _expected(values: list):
    if not values:
        return None
    counts = Counter(values)
    best = max(counts.values())
    return min(v for v, n in counts.items() if n == best)


LISTS = [
    [], ["a"], ["b", "b", "b"], ["b", "a"], ["b", "a", "b", "a"], ["c", "c", "a", "b", "b"],
    ["a", "b", "b", "c", "c"], ["z", "a", "z", "a", "m", "m", "m"], ["", "x", ""], ["é", "e", "é"],
]
RANDOM = random.Random(7)
LISTS += [[RANDOM.choice("abcde") for _ in range(RANDOM.randint(1, 30))] for _ in range(200)]


def test_mode_of_strings_matches_python(spark):
    df = spark.createDataFrame(list(enumerate(LISTS)), "id int, v array<string>")
    got = dict(df.select("id", mode_of(F.col("v")).alias("mode")).collect())
    assert got == {i: _expected(values) for i, values in enumerate(LISTS)}


@pytest.mark.parametrize(
    "data_type, make",
    [
        (T.LongType(), lambda x: x - 3),
        (T.DoubleType(), lambda x: x * 1.5 - 2),
        (T.DateType(), lambda x: dt.date(2026, 1, 1) + dt.timedelta(days=x)),
    ],
    ids=["bigint", "double", "date"],
)
def test_mode_of_typed_values_ties_to_the_smallest(spark, data_type, make):
    rank = {text: i for i, text in enumerate(sorted({text for values in LISTS for text in values}))}
    lists = [[make(rank[text]) for text in values] for values in LISTS]
    schema = T.StructType([T.StructField("id", T.IntegerType()), T.StructField("v", T.ArrayType(data_type))])
    df = spark.createDataFrame(list(enumerate(lists)), schema)
    got = dict(df.select("id", mode_of(F.col("v")).alias("mode")).collect())
    assert got == {i: _expected(values) for i, values in enumerate(lists)}
