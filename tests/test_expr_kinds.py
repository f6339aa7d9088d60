"""Kinds of `expr` indicators: read from the SQL at `validate`, from the sources' schemas before
`run` writes anything; a rule value of the wrong kind is a config error (exit 2) either way,
and no warehouse is left behind."""
from __future__ import annotations

import datetime as dt
import os
import subprocess
import sys
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from labelspark.config import load_project
from labelspark.config.expr_kinds import expression_kind
from labelspark.errors import ConfigError
from labelspark.compute.indicators import extract
from labelspark.engine.spark_types import kind_of
from labelspark.compute.sources import prepared_sources
from labelspark.compute.preflight import check_label_kinds, indicator_kinds

pytestmark = pytest.mark.portable

ENGINE = os.environ.get("LABELSPARK_TEST_ENGINE", "sail")
ROOT = Path(__file__).resolve().parent.parent
D = dt.date(2026, 3, 31)

# the kinds of the indicators the expressions read (None: learnt from the data)
KINDS = {"birthday": None, "code": None, "spend": "number", "orders": "number", "city": "string",
         "vip": "boolean", "signup_day": "date", "categories": "list"}

GOLDEN = [
    # the SQL fixes the kind, whatever the data holds
    ("floor(months_between(run_date, birthday) / 12)", "number"),
    ("datediff(run_date, birthday)", "number"),
    ("months_between(run_date, signup_day)", "number"),
    ("year(birthday)", "number"),
    ("spend / nullif(orders, 0)", "number"),
    ("(spend + 1) * (orders - 1) % 7", "number"),
    ("-spend", "number"),
    ("round(spend, 2)", "number"),
    ("coalesce(spend, 0)", "number"),
    ("greatest(spend, 1)", "number"),
    ("length(city)", "number"),
    ("size(categories)", "number"),
    ("CASE WHEN spend > 100 THEN 1 ELSE 0.5 END", "number"),
    ("cast(code AS int)", "number"),
    ("spend > 100", "boolean"),
    ("code = 'x' AND vip", "boolean"),
    ("city LIKE 'Sh%'", "boolean"),
    ("birthday IS NULL", "boolean"),
    ("array_contains(categories, 'shoes')", "boolean"),
    ("city IN ('Shanghai', 'Beijing')", "boolean"),
    ("upper(city)", "string"),
    ("concat(city, '-', spend)", "string"),
    ("city || '/' || orders", "string"),
    ("CASE WHEN spend > 100 THEN 'big' WHEN spend > 10 THEN 'mid' ELSE NULL END", "string"),
    ("if(vip, 'vip', 'regular')", "string"),
    ("date_format(run_date, 'yyyy-MM')", "string"),
    ("concat_ws(',', categories)", "string"),
    ("cast(spend AS string)", "string"),
    ("run_date", "date"),
    ("to_date(code)", "date"),
    ("date_add(signup_day, 30)", "date"),
    ("add_months(birthday, 12)", "date"),
    ("last_day(run_date)", "date"),
    ("to_timestamp(code)", "date"),
    ("split(city, ' ')", "list"),
    ("filter(categories, c -> c != 'gift')", "list"),
    ("array('a', 'b')", "list"),
    # unsure: learnt from the data
    ("birthday", None),
    ("code + 1", None),
    ("floor(code)", None),
    ("coalesce(code, 0)", None),
    ("run_date - signup_day", None),  # an interval on Spark, a number on Sail
    ("signup_day + 30", None),
    ("city + 1", None),  # text arithmetic: a number on Spark, an error on Sail
    ("categories || categories", None),  # a list
    ("CASE WHEN vip THEN 1 ELSE 'x' END", None),  # text and a number: the engine's common type
    ("coalesce(code, 'none')", None),
    ("categories[0]", None),  # a list's element type is not known
    ("array_position(categories, 'a')", None),  # sqlglot types it as a list, Spark as a number
    ("my_udf(spend)", None),
    ("struct(spend)", None),
    ("floor()", None),
    ("t.spend + 1", None),
]


@pytest.mark.parametrize("sql, kind", GOLDEN, ids=[sql for sql, _ in GOLDEN])
def test_expression_kind(sql, kind):
    assert expression_kind(sql, KINDS) == kind


CONFIG = """\
version: 1
name: shop
timezone: Asia/Shanghai
entity:
  key: member_id
sources:
  members:
    format: parquet
    path: data/members
    key: member_id
    time: updated_at
    clean: {trim: [code]}
  orders:
    format: parquet
    path: data/orders
    key: member_id
    time: order_time
indicators:
  birthday: {source: members, column: birthday}
  city: {source: members, column: city}
  code: {source: members, column: code}
  orders_30d: {source: orders, agg: count, window: 30d}
  last_order_day: {source: orders, agg: max, of: order_day}
  age: {expr: "floor(months_between(run_date, birthday) / 12)"}
  adult: {expr: "age >= 18"}
  renewal_day: {expr: "last_order_day + 30"}
labels:
  - id: minor
    type: boolean
    method: rules
    values:
      - {value: true, when: {field: age, op: lt, value: 18}}  # the rule
outputs:
  warehouse: warehouse
"""


def config_with(tmp_path: Path, rule: str = "", indicators: str = "") -> Path:
    """The config with the label's rule replaced and indicator lines added, beside its data."""
    text = CONFIG
    if rule:
        text = text.replace("{field: age, op: lt, value: 18}", rule)
    if indicators:
        text = text.replace("labels:\n", indicators + "labels:\n")
    config = tmp_path / "project" / "labelspark.yaml"
    config.parent.mkdir()
    config.write_text(text, encoding="utf-8")
    write_data(config.parent / "data")
    return config


def write_data(data: Path) -> None:
    stamp = pa.timestamp("us", tz="UTC")
    members = pa.table({
        "member_id": ["m1", "m2"],
        "birthday": pa.array([dt.date(2010, 5, 1), dt.date(1980, 1, 2)], pa.date32()),
        "city": ["Shanghai", "Beijing"],
        "code": pa.array([7, 8], pa.int64()),  # a number, made text by `trim`
        "updated_at": pa.array([dt.datetime(2026, 3, 1), dt.datetime(2026, 3, 2)], stamp),
    })
    orders = pa.table({
        "member_id": ["m1"],
        "order_time": pa.array([dt.datetime(2026, 3, 20)], stamp),
        "order_day": pa.array([dt.date(2026, 3, 20)], pa.date32()),
    })
    for name, table in (("members", members), ("orders", orders)):
        (data / name).mkdir(parents=True)
        pq.write_table(table, data / name / "part-0.parquet")


def labelspark(*args: str, cwd: Path) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "labelspark", *args], cwd=cwd, capture_output=True, text=True, timeout=600)


def the_problem(result: subprocess.CompletedProcess, config: Path) -> str:
    output = result.stdout + result.stderr
    assert result.returncode == 2, output
    assert "Traceback" not in output, output
    [line] = [line.strip() for line in output.splitlines() if f"{config}:" in line]
    return line


def line_of(config: Path, text: str) -> int:
    return next(i for i, line in enumerate(config.read_text().splitlines(), start=1) if text in line)


def test_eighteen_is_a_config_error_of_validate_and_run_and_leaves_no_warehouse(tmp_path):
    config = config_with(tmp_path, rule="{field: age, op: lt, value: eighteen}")
    validate = the_problem(labelspark("validate", str(config), cwd=tmp_path), config)
    run = the_problem(labelspark("run", str(config), "--date", "2026-03-31", "--engine", ENGINE, cwd=tmp_path), config)
    assert validate == run
    assert validate.startswith(f"{config}:{line_of(config, '# the rule')}: labels[0].values[0].when: ")
    assert "'eighteen'" in validate and "number" in validate
    assert not (config.parent / "warehouse").exists()


def test_expressions_over_expressions_are_typed_in_dependency_order(tmp_path):
    config = config_with(tmp_path, rule="{field: adult, op: eq, value: 1}")
    with pytest.raises(ConfigError) as raised:
        load_project(config)
    [problem] = raised.value.problems
    assert problem.path == "labels[0].values[0].when"
    assert "boolean" in problem.message and "1" in problem.message


def test_a_declared_type_must_be_the_kind_the_sql_gives(tmp_path):
    config = config_with(tmp_path, indicators="  band: {expr: \"concat('band-', age)\", type: number}  # band\n")
    with pytest.raises(ConfigError) as raised:
        load_project(config)
    [problem] = raised.value.problems
    assert (problem.path, problem.line) == ("indicators.band.type", line_of(config, "# band"))
    assert "declared number, but the expression gives string" in problem.message


DATA_TELLS = [
    ("{field: city, op: gt, value: 5}", "5"),  # a `column:` indicator that is text in the data
    ("{field: renewal_day, op: gt, value: 5}", "5"),  # date + 30: a date, as the engine types it
    ("{field: code, op: eq, value: 7}", "7"),  # a number column, text after `trim`
]
# `labelspark run CONFIG --date 2026-03-31 --engine ENGINE` of each config in turn, in one process
# (classic Spark's JVM starts once, not once a config): the CLI's own main, as `python -m
# labelspark` calls it, from the folder above the config as before; each run's file descriptors 1
# and 2 (its prints and its log) sent to files of their own, its exit code to a third. (The JVM,
# started by the first run, keeps that run's: Spark's own lines of the next runs land there.)
_RUNS = """
import os, sys
from labelspark.cli import main
engine, *configs = sys.argv[1:]
for config in configs:
    os.chdir(os.path.dirname(os.path.dirname(config)))
    saved = [os.dup(1), os.dup(2)]
    for fd, name in ((1, ".stdout"), (2, ".stderr")):
        os.dup2(os.open(config + name, os.O_WRONLY | os.O_CREAT | os.O_TRUNC), fd)
    try:
        code = main(["run", config, "--date", "2026-03-31", "--engine", engine])
    finally:
        sys.stdout.flush(), sys.stderr.flush()
        for fd, copy in zip((1, 2), saved):
            os.dup2(copy, fd)
    with open(config + ".code", "w") as out:
        out.write(str(code))
"""


@pytest.fixture(scope="module")
def data_tells_runs(tmp_path_factory) -> dict[str, tuple[Path, subprocess.CompletedProcess, subprocess.CompletedProcess]]:
    """rule -> (its config, `labelspark validate` of it, `labelspark run` of it)."""
    configs = {rule: config_with(tmp_path_factory.mktemp("data_tells"), rule=rule) for rule, _ in DATA_TELLS}
    validated = {rule: labelspark("validate", str(config), cwd=config.parent.parent) for rule, config in configs.items()}
    done = subprocess.run([sys.executable, "-c", _RUNS, ENGINE, *map(str, configs.values())],
                          cwd=ROOT, capture_output=True, text=True, timeout=900)
    assert done.returncode == 0, done.stderr[-3000:]

    def ran(config: Path) -> subprocess.CompletedProcess:
        code, out, err = (Path(f"{config}{name}").read_text(encoding="utf-8") for name in (".code", ".stdout", ".stderr"))
        return subprocess.CompletedProcess(["labelspark", "run", str(config)], int(code), out, err)

    return {rule: (config, validated[rule], ran(config)) for rule, config in configs.items()}


@pytest.mark.parametrize("rule, culprit", DATA_TELLS)
def test_a_kind_only_the_data_tells_stops_run_before_anything_is_written(data_tells_runs, rule, culprit):
    config, validated, ran = data_tells_runs[rule]
    assert validated.returncode == 0
    run = the_problem(ran, config)
    assert run.startswith(f"{config}:{line_of(config, '# the rule')}: labels[0].values[0].when: ")
    assert culprit in run.split("when: ", 1)[1]
    assert not (config.parent / "warehouse").exists()


MORE_INDICATORS = (
    "  last_seen: {source: members, agg: max, of: updated_at}\n"
    "  first_city: {source: members, agg: first, of: city}\n"
    "  cities: {source: members, agg: collect_set, of: city}\n"
    "  top_code: {source: members, agg: mode, of: code}\n"
    "  days_since: {expr: \"datediff(run_date, last_order_day)\"}\n"
)


def test_indicator_kinds_from_the_sources_schemas_are_those_the_run_computes(spark, tmp_path):
    names = ["birthday", "city", "code", "orders_30d", "last_order_day", "age", "adult", "renewal_day",
             "last_seen", "first_city", "cities", "top_code", "days_since"]
    every_one = "{all: [" + ", ".join(f"{{field: {name}, op: not_null}}" for name in names) + "]}"
    project = load_project(config_with(tmp_path, rule=every_one, indicators=MORE_INDICATORS))
    assert indicator_kinds(spark, project, []) == {}  # no label: no source is read

    kinds = indicator_kinds(spark, project, project.labels)
    assert kinds == {
        "birthday": "date", "city": "string", "code": "string", "orders_30d": "number", "last_order_day": "date",
        "age": "number", "adult": "boolean", "renewal_day": "date", "last_seen": "date", "first_city": "string",
        "cities": "list", "top_code": "string", "days_since": "number",
    }
    computed = extract(prepared_sources(spark, project, D), project, set(names), D)
    assert kinds == {field.name: kind_of(field.dataType) for field in computed.schema.fields if field.name != "member_id"}
    check_label_kinds(spark, project)  # every kind fits


def test_a_source_that_cannot_be_read_is_left_to_the_run(spark, tmp_path):
    config = config_with(tmp_path, rule="{field: away, op: gt, value: 5}", indicators="  away: {source: away, column: x}\n")
    config.write_text(config.read_text().replace("sources:\n", "sources:\n  away: {format: parquet, path: data/away, key: k}\n"))
    project = load_project(config)
    assert indicator_kinds(spark, project, project.labels) == {"away": None}
    check_label_kinds(spark, project)  # the run reports the missing source and records it
