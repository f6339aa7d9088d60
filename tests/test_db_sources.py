"""Sources read from a database and from a Spark catalog give the tables the same data gives from
parquet, value for value: `format: jdbc` from a real PostgreSQL (started here on loopback, the
driver's jar from Maven Central) on classic Spark and on Sail (pysail's jdbc reader), and
`format: table` from a Delta table in the session catalog on classic Spark.

The demo's members and orders are loaded into PostgreSQL; its config is pointed at them, with
the credentials named by `options_env`, never written in the YAML.
"""
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from labelspark.engine import jars
from labelspark.cli.demo import write_demo
from tests.support.prerequisites import missing
from tests.support.postgres import PASSWORD, USER, Postgres, running_postgres
from tests.support.warehouse import assert_same_tables, run_dates

ROOT = Path(__file__).resolve().parent.parent
DATES = ("2026-03-31", "2026-04-01")  # the history of the first date advanced by the second
CREDENTIALS = {"user": "LABELSPARK_TEST_PG_USER", "password": "LABELSPARK_TEST_PG_PASSWORD"}
EVENTS_TABLE = "retail.events"
_UNREACHED = Postgres(port=9, socket_dir=Path("/nonexistent"), bin=Path("/nonexistent"), run_as=None)  # for runs stopped before reading


@pytest.fixture(scope="module")
def postgres(tmp_path_factory) -> Postgres:
    """PostgreSQL holding the demo's members and orders."""
    demo = write_demo(tmp_path_factory.mktemp("loaded") / "demo").parent
    with running_postgres() as server:
        assert server.load_parquet("members", demo / "data" / "members") > 0
        assert server.load_parquet("orders", demo / "data" / "orders") > 0
        yield server


@pytest.fixture
def signed_in(monkeypatch) -> dict:
    """The environment of a run that may sign in to PostgreSQL."""
    monkeypatch.setenv(CREDENTIALS["user"], USER)
    monkeypatch.setenv(CREDENTIALS["password"], PASSWORD)
    return dict(os.environ)


def without_streaming(config: Path) -> Path:
    """The demo without `stream: true` and `realtime: true`: a database table has no new rows to
    stream, and both sides of a comparison must define their labels alike (label_catalog)."""
    settings = yaml.safe_load(config.read_text(encoding="utf-8"))
    for part in [*settings["sources"].values(), *settings["labels"]]:
        part.pop("stream", None)
        part.pop("realtime", None)
    config.write_text(yaml.safe_dump(settings, sort_keys=False), encoding="utf-8")
    return config


def from_database(config: Path, postgres: Postgres, events_table: str | None = None) -> Path:
    """Points the demo's members (a table) and orders (a query) at PostgreSQL, and its events at
    a catalog table when given one; returns the config."""
    settings = yaml.safe_load(without_streaming(config).read_text(encoding="utf-8"))
    sources = settings["sources"]
    for name, location in (("members", {"dbtable": "members"}), ("orders", {"query": "SELECT * FROM orders"})):
        sources[name].pop("path")
        sources[name].update(format="jdbc", options={"url": postgres.jdbc_url, **location}, options_env=CREDENTIALS)
    if events_table:
        sources["events"].pop("path")
        sources["events"].update(format="table", table=events_table)
    config.write_text(yaml.safe_dump(settings, sort_keys=False), encoding="utf-8")
    return config


def test_classic_spark_reads_postgres_and_a_catalog_table_as_it_reads_parquet(tmp_path, postgres, signed_in):
    _fetch_driver()
    files = without_streaming(write_demo(tmp_path / "files"))
    database = from_database(write_demo(tmp_path / "database"), postgres, events_table=EVENTS_TABLE)

    # the events parquet saved as a managed Delta table of the session catalog, then one date run
    # from the files and from the database in the same session (a JVM's runs take minutes on a busy machine)
    done = subprocess.run([sys.executable, "-m", "tests.support.catalog", EVENTS_TABLE, str(tmp_path / "files" / "data" / "events"),
                           DATES[0], str(files), str(database)],
                          cwd=tmp_path, env={**signed_in, "PYTHONPATH": _python_path()}, capture_output=True, text=True, timeout=900)
    assert done.returncode == 0, done.stderr[-4000:]

    assert (tmp_path / "spark-warehouse" / "retail.db" / "events" / "_delta_log").is_dir()
    assert_same_tables(tmp_path / "files" / "warehouse", tmp_path / "database" / "warehouse")


def test_sail_reads_postgres_with_pysails_jdbc_reader_as_it_reads_parquet(tmp_path, postgres, signed_in):
    if not _installed("connectorx"):
        missing("Sail's jdbc reader needs connectorx: pip install 'pysail[jdbc]'")
    files = without_streaming(write_demo(tmp_path / "files"))
    database = from_database(write_demo(tmp_path / "database"), postgres)

    run_dates(files, "sail", *DATES)
    run_dates(database, "sail", *DATES, env=signed_in)

    assert_same_tables(tmp_path / "files" / "warehouse", tmp_path / "database" / "warehouse")


def test_sail_without_the_jdbc_extra_stops_before_the_lock_naming_the_fix(tmp_path, signed_in):
    """connectorx made unimportable, as where pysail is installed without its `jdbc` extra."""
    blocker = tmp_path / "without" / "connectorx"
    blocker.mkdir(parents=True)
    (blocker / "__init__.py").write_text("raise ImportError('No module named connectorx')\n")
    database = from_database(write_demo(tmp_path / "database"), _UNREACHED)
    env = {**signed_in, "PYTHONPATH": _python_path(tmp_path / "without")}

    done = _labelspark("run", str(database), "--date", DATES[0], "--engine", "sail", env=env)

    assert done.returncode == 2, done.stderr[-2000:]
    assert "--engine sail reads jdbc sources with pysail's jdbc extra" in done.stderr
    assert "pip install 'pysail[jdbc]'" in done.stderr and "--engine spark" in done.stderr
    assert not (tmp_path / "database" / "warehouse").exists()  # no lock taken, no run recorded


def test_an_unset_credential_variable_is_a_config_error_before_the_lock(tmp_path, monkeypatch):
    """The YAML names the variables; `validate` accepts it without them (CI holds no secrets),
    `run` stops with exit 2 naming the setting, its line and the variable."""
    for variable in CREDENTIALS.values():
        monkeypatch.delenv(variable, raising=False)
    database = from_database(write_demo(tmp_path / "database"), _UNREACHED)

    assert _labelspark("validate", str(database)).returncode == 0
    done = _labelspark("run", str(database), "--date", DATES[0], "--engine", "sail")

    assert done.returncode == 2, done.stderr[-2000:]
    for source in ("members", "orders"):
        assert f"sources.{source}.options_env.password: names the environment variable LABELSPARK_TEST_PG_PASSWORD, which is not set" in done.stderr
    assert ".yaml:" in done.stderr and PASSWORD not in database.read_text()
    assert not (tmp_path / "database" / "warehouse").exists()


def test_options_env_may_not_repeat_an_option(tmp_path):
    database = from_database(write_demo(tmp_path / "database"), _UNREACHED)
    settings = yaml.safe_load(database.read_text())
    settings["sources"]["members"]["options"]["password"] = "in-the-yaml"
    database.write_text(yaml.safe_dump(settings, sort_keys=False))

    done = _labelspark("validate", str(database))

    assert done.returncode == 2
    assert "option password is set in `options` and in `options_env`: keep one" in done.stderr


def _labelspark(*args: str, env: dict | None = None) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "labelspark", *args], cwd=ROOT, env=env, capture_output=True, text=True, timeout=600)


def _python_path(*first: Path) -> str:
    return os.pathsep.join([*map(str, first), str(ROOT), *filter(None, [os.environ.get("PYTHONPATH")])])


def _installed(module: str) -> bool:
    import importlib.util

    return importlib.util.find_spec(module) is not None


def _fetch_driver() -> None:
    """PostgreSQL's driver jar (and Delta's) in the folder a local session takes its jars from."""
    if shutil.which("mvn") is None:
        missing("needs Maven (mvn) on PATH to fetch PostgreSQL's JDBC driver: apt-get install maven")
    folder = os.environ.get(jars.JARS_VARIABLE)
    done = subprocess.run([str(ROOT / "scripts" / "fetch-jars.sh"), *filter(None, [folder])],
                          env={**os.environ, "PYTHON": sys.executable}, capture_output=True, text=True, timeout=600)
    assert done.returncode == 0, done.stderr
    assert any(Path(done.stdout.strip()).glob("postgresql-42.7.*.jar"))
