"""The config of real-time labels (issue 31): `stream: true` on a source, `realtime: true` on a label.

`validate` refuses a real-time label that no new row of a streamed source could keep right (a
distribution's population quantiles, an import's file, a label due only on some days, a label
reading no streamed source), saying why, at the label's `realtime` key, like every config problem.
BASE is valid: its orders are a streamed Delta table, and `busy` is real-time over one of its indicators.
"""
from __future__ import annotations

import pytest

from labelspark.cli import main
from labelspark.config import load_project
from tests.test_config_errors import assert_only_problem, config_error, edit, line_of, listing

pytestmark = pytest.mark.portable

BASE = """\
version: 1
name: shop
entity: {key: member_id}
sources:
  members: {format: parquet, path: data/members, key: member_id, time: updated_at}
  orders:
    format: delta
    path: data/orders
    key: member_id
    time: order_time
    stream: true
  refunds: {format: json, path: data/refunds, key: member_id, stream: true}
indicators:
  city:          {source: members, column: city}
  orders_recent: {source: orders, agg: count, window: 30d}
  spend_90d:     {source: orders, agg: sum, of: amount, window: 90d}
  city_upper:    {expr: "upper(city)"}
  spend_rank:    {expr: "spend_90d / 100", type: number}
  spend_bucket:  {expr: "floor(spend_rank)", type: number}
labels:
  - {id: city, type: string, method: metric, indicator: city}
  - id: busy
    type: boolean
    method: rules
    realtime: true
    values:
      - {value: true, when: {field: orders_recent, op: gte, value: 3}}
  - {id: spend_tier, type: string, method: distribution, indicator: spend_90d, tiers: {low: 0.5, high: 1.0}}
  - {id: vip, type: boolean, method: import, path: data/vip.csv, key: member_id, value: is_vip}
  - {id: spend_bucket, type: number, method: metric, indicator: spend_bucket, realtime: true, status: disabled}
outputs:
  warehouse: warehouse
"""


def test_a_streamed_delta_source_and_a_realtime_rules_label_over_it_validate(write_config):
    project = load_project(write_config(BASE))
    assert project.streamed_sources == ("orders", "refunds")
    assert [label.id for label in project.realtime_labels] == ["busy"]  # spend_bucket is disabled
    assert project.sources["members"].stream is False
    assert project.label("city").realtime is False


def test_the_stream_command_sees_nothing_without_the_keys(write_config):
    text = edit(BASE, ("    stream: true\n", ""), (", stream: true}", "}"), ("    realtime: true\n", ""), (", realtime: true,", ","))
    project = load_project(write_config(text))
    assert project.streamed_sources == () and project.realtime_labels == ()


def test_a_label_reading_a_streamed_source_through_expressions_may_be_realtime(write_config):
    """spend_bucket reads spend_rank, which reads spend_90d of the streamed orders."""
    text = edit(BASE, ("realtime: true, status: disabled}", "realtime: true}"))
    project = load_project(write_config(text))
    assert [label.id for label in project.realtime_labels] == ["busy", "spend_bucket"]


def test_a_label_reading_a_streamed_and_a_batch_source_may_be_realtime(write_config):
    text = edit(BASE, ("      - {value: true, when: {field: orders_recent, op: gte, value: 3}}\n",
                       "      - {value: true, when: {all: [{field: orders_recent, op: gte, value: 3}, {field: city, op: eq, value: Paris}]}}\n"))
    assert [label.id for label in load_project(write_config(text)).realtime_labels] == ["busy"]


@pytest.mark.parametrize("source", [
    "  refunds: {format: table, table: crm.refunds, key: member_id, stream: true}  # <-",
    "  refunds: {format: jdbc, options: {url: 'jdbc:postgresql://db/crm', dbtable: refunds}, key: member_id, stream: true}  # <-",
], ids=["table", "jdbc"])
def test_only_a_delta_table_or_a_folder_of_files_can_be_streamed(write_config, source):
    text = edit(BASE, ("  refunds: {format: json, path: data/refunds, key: member_id, stream: true}", source))
    error = config_error(write_config, text)
    problem = assert_only_problem(error, "sources.refunds.stream", line_of(text, "# <-"), says=("cannot be streamed", "Delta"))
    assert problem.message.startswith(f"a {source.split('format: ')[1].split(',')[0]} source")


def test_a_streamed_file_source_needs_its_path(write_config):
    text = edit(BASE, ("    path: data/orders\n", ""), ("  orders:\n", "  orders:  # <-\n"))
    error = config_error(write_config, text)
    assert_only_problem(error, "sources.orders", line_of(text, "# <-"), says=("path",))


def test_a_realtime_distribution_label_is_refused_for_its_population_quantiles(write_config):
    text = edit(BASE, ("tiers: {low: 0.5, high: 1.0}}", "tiers: {low: 0.5, high: 1.0},\n     realtime: true}  # <-"))
    error = config_error(write_config, text)
    assert_only_problem(error, "labels[2].realtime", line_of(text, "# <-"), says=("'spend_tier'", "quantiles", "population"))


def test_a_realtime_import_label_is_refused_as_its_values_come_from_a_file(write_config):
    text = edit(BASE, ("value: is_vip}", "value: is_vip,\n     realtime: true}  # <-"))
    error = config_error(write_config, text)
    assert_only_problem(error, "labels[3].realtime", line_of(text, "# <-"), says=("'vip'", "file"))


@pytest.mark.parametrize("schedule", ["weekly:MON", "monthly:1", "once"])
def test_a_realtime_label_not_due_daily_is_refused(write_config, schedule):
    text = edit(BASE, ("    realtime: true\n", f"    schedule: {schedule}\n    realtime: true  # <-\n"))
    error = config_error(write_config, text)
    assert_only_problem(error, "labels[1].realtime", line_of(text, "# <-"), says=("'busy'", schedule, "daily", "last due day"))


def test_a_realtime_label_reading_no_streamed_source_is_refused_naming_what_it_reads(write_config):
    text = edit(BASE, ("{id: city, type: string, method: metric, indicator: city}",
                       "{id: city, type: string, method: metric, indicator: city, realtime: true}  # <-"))
    error = config_error(write_config, text)
    problem = assert_only_problem(error, "labels[0].realtime", line_of(text, "# <-"), says=("'city'", "members", "stream: true"))
    assert "orders" not in problem.message and "refunds" not in problem.message


def test_the_sources_a_label_reads_are_found_through_its_expressions(write_config):
    """city_upper is an expression over city, of the batch source members."""
    text = edit(BASE, ("      - {value: true, when: {field: orders_recent, op: gte, value: 3}}\n",
                       "      - {value: true, when: {field: city_upper, op: eq, value: PARIS}}\n"),
                ("    realtime: true\n", "    realtime: true  # <-\n"))
    error = config_error(write_config, text)
    problem = assert_only_problem(error, "labels[1].realtime", line_of(text, "# <-"), says=("'busy'", "members"))
    assert "orders" not in problem.message


def test_a_label_whose_expressions_read_no_source_is_refused(write_config):
    text = edit(BASE, ("  city_upper:    {expr: \"upper(city)\"}\n", "  city_upper:    {expr: \"upper(city)\"}\n  today: {expr: \"run_date\", type: date}\n"),
                ("{id: city, type: string, method: metric, indicator: city}",
                 "{id: city, type: date, method: metric, indicator: today, realtime: true}  # <-"))
    error = config_error(write_config, text)
    assert_only_problem(error, "labels[0].realtime", line_of(text, "# <-"), says=("'city'", "no source"))


def test_a_disabled_label_is_checked_too(write_config):
    """Enabling a label must not turn a valid config invalid: the checks hold for disabled labels."""
    text = edit(BASE, ("tiers: {low: 0.5, high: 1.0}}", "tiers: {low: 0.5, high: 1.0},\n     status: disabled, realtime: true}  # <-"))
    error = config_error(write_config, text)
    assert_only_problem(error, "labels[2].realtime", line_of(text, "# <-"), says=("'spend_tier'", "quantiles"))


def test_a_label_with_a_broken_rule_gets_no_realtime_problem_of_it(write_config):
    """The unknown indicator is the problem; whether the label reads a streamed source is unknown."""
    text = edit(BASE, ("{field: orders_recent, op: gte, value: 3}", "{field: orders_recnt, op: gte, value: 3}"))
    error = config_error(write_config, text)
    assert [problem.path for problem in error.problems] == ["labels[1].values[0].when"], listing(error)


def test_validate_prints_each_refusal_with_file_line_and_path(write_config, capsys, monkeypatch):
    text = edit(BASE, ("    realtime: true\n", "    schedule: weekly:MON\n    realtime: true  # <- weekly\n"),
                ("value: is_vip}", "value: is_vip,\n     realtime: true}  # <- import"),
                ("  refunds: {format: json, path: data/refunds, key: member_id, stream: true}",
                 "  refunds: {format: table, table: crm.refunds, key: member_id, stream: true}  # <- table"))
    config = write_config(text)
    monkeypatch.chdir(config.parent)
    assert main(["validate", config.name]) == 2
    printed = capsys.readouterr().err
    for path, mark in (("labels[1].realtime", "weekly"), ("labels[3].realtime", "import"), ("sources.refunds.stream", "table")):
        assert f"{config.name}:{line_of(text, f'# <- {mark}')}: {path}: " in printed, printed


def test_a_batch_labels_definition_is_what_it_was_before_realtime():
    """`label_catalog` hashes each label's dump: a label without `realtime` keeps the hash it had."""
    from pydantic import TypeAdapter

    from labelspark.config.labels import Label

    batch = TypeAdapter(Label).validate_python({"id": "spend", "type": "number", "method": "metric", "indicator": "spend"})
    live = batch.model_copy(update={"realtime": True})
    assert "realtime" not in batch.model_dump(mode="json") and live.model_dump(mode="json")["realtime"] is True
