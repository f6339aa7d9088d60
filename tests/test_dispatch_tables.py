"""The dispatch tables of the run's stages (cleaning steps, source formats, aggregates): each
covers the config's `Literal` of its keys, and refuses a key it lacks by name instead of
skipping it or failing with a bare KeyError. No Spark session: the refusal comes first."""
from __future__ import annotations

import typing

import pytest

from labelspark.compute.aggregates import AGGREGATES, aggregate_of
from labelspark.compute.partials import MERGEABLE
from labelspark.compute.sources import CLEANING_STEPS, SOURCE_FORMATS, clean, read_source
from labelspark.config.models import Agg, Clean, CleanStepName, Indicator, Source
from labelspark.errors import UnknownReference
from labelspark.kinds import KINDS
from labelspark.publish.clickhouse_tables import COLUMN_TYPES

pytestmark = pytest.mark.portable


def test_the_cleaning_steps_cover_every_step_a_config_names():
    assert set(CLEANING_STEPS) == set(typing.get_args(CleanStepName))


def test_the_source_formats_cover_every_format_a_config_names():
    assert set(SOURCE_FORMATS) == set(typing.get_args(Source.model_fields["format"].annotation))


def test_the_aggregates_cover_every_agg_a_config_names():
    assert set(AGGREGATES) == set(typing.get_args(Agg))


def test_every_agg_and_the_latest_value_merge_from_tiles():
    assert set(MERGEABLE) == set(typing.get_args(Agg)) | {"latest"}


def test_clickhouse_has_a_column_type_for_every_label_kind():
    assert set(COLUMN_TYPES) == set(KINDS)


def test_an_unknown_cleaning_step_is_refused_by_name():
    steps = Clean.model_construct(order=("uppr",))
    with pytest.raises(UnknownReference, match="no cleaning step 'uppr' .*\\(cleaning steps: drop_null, trim, lower, dedupe, filter\\)"):
        clean(None, steps, None)


def test_an_unknown_source_format_is_refused_by_name():
    source = Source.model_construct(format="avro", path="data/orders", key="member_id")
    with pytest.raises(UnknownReference, match="no source format 'avro' .*\\(source formats: parquet, delta, csv, json, table, jdbc\\)"):
        read_source(None, None, "orders", source=source)


def test_an_unknown_aggregate_is_refused_by_name():
    indicator = Indicator.model_construct(source="orders", agg="median", of="amount")
    with pytest.raises(UnknownReference, match="no aggregate 'median' .*\\(aggregates: count, count_distinct, sum,"):
        aggregate_of(None, None, indicator, None, None, {}, False, {}, "__agg0")
