"""One day's change to label_history, on in-memory frames: which versions close, which open,
and the changes alone that a MERGE applies."""
from __future__ import annotations

import datetime as dt

import pytest
from pyspark.sql import types as T

from labelspark.warehouse.history import advanced_history, changed_versions
from tests.support.frames import assert_rows, expected_frame

pytestmark = pytest.mark.portable

D1, D2, D3 = dt.date(2026, 3, 1), dt.date(2026, 3, 2), dt.date(2026, 3, 3)
VERSIONS = [("member_id", T.StringType()), ("label_id", T.StringType()), ("value", T.StringType()),
            ("valid_from", T.DateType()), ("valid_to", T.DateType()), ("is_current", T.BooleanType())]
VALUES = [("member_id", T.StringType()), ("label_id", T.StringType()), ("value", T.StringType())]
CHANGES = [*VALUES, ("closes", T.BooleanType())]


def test_a_day_closes_what_changed_or_left_opens_what_is_new_and_leaves_the_rest(spark):
    current = expected_frame(spark, VERSIONS, [
        ("m1", "tier", "silver", D2, None, True),  # gold -> silver on D2, back to gold on D3: closes
        ("m2", "tier", "gold", D1, None, True),  # unchanged
        ("m3", "tier", "bronze", D1, None, True),  # m3 has left: closes
        ("m2", "old", "x", D1, None, True),  # a label not run today: untouched
    ])
    today = expected_frame(spark, VALUES, [("m1", "tier", "gold"), ("m2", "tier", "gold"), ("m4", "tier", "bronze")])
    advanced = expected_frame(spark, VERSIONS, [  # what replaces the current versions
        ("m1", "tier", "silver", D2, D3, False),
        ("m1", "tier", "gold", D3, None, True),
        ("m2", "tier", "gold", D1, None, True),
        ("m3", "tier", "bronze", D1, D3, False),
        ("m2", "old", "x", D1, None, True),
        ("m4", "tier", "bronze", D3, None, True),
    ])
    assert_rows(advanced_history(current, today, "member_id", ["tier"], D3), advanced)
    changes = expected_frame(spark, CHANGES, [  # what a MERGE applies: no more
        ("m1", "tier", "silver", True),
        ("m1", "tier", "gold", False),
        ("m3", "tier", "bronze", True),
        ("m4", "tier", "bronze", False),
    ])
    assert_rows(changed_versions(advanced, D3), changes)
