"""The Airflow DAG (conf/orchestration/labelspark_dag.py) under a real Airflow, 3 and 2, each in a virtualenv
of its own (scripts/airflow-venv.sh) and run in a subprocess with a fresh AIRFLOW_HOME: the file loads,
and the scheduler catching up from the start date runs one business date after another, each run naming
as `--date` the day that ended before it fired (in the config's timezone), month end included."""
import datetime as dt
import json
import os
import subprocess
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
import yaml

from tests.support.prerequisites import missing

pytestmark = pytest.mark.airflow

ROOT = Path(__file__).resolve().parent.parent
DAGS = ROOT / "conf" / "orchestration"
DAG_ID, TASK_ID = "labelspark_retail_members", "compute_labels"
CONFIG_TIMEZONE = ZoneInfo(yaml.safe_load((ROOT / "conf" / "retail_members.yaml").read_text())["timezone"])
FIRST_DATE = dt.date(2026, 3, 1)  # the DAG's start_date
CATCH_UP_DAYS = 33  # through the end of March


class Airflow:
    """One Airflow installation with a home of its own, holding the DAG folder parsed and unpaused."""

    def __init__(self, version: str, home: Path):
        venvs = Path(os.environ.get("LABELSPARK_AIRFLOW_DIR", Path.home() / ".cache" / "labelspark"))
        self.version, self.home = version, home
        self.python = venvs / f"airflow-{version}" / "bin" / "python"
        environ = {key: value for key, value in os.environ.items()
                   if key != "PYTHONPATH" and not key.startswith("AIRFLOW")}
        self.env = {**environ, "AIRFLOW_HOME": str(home), "AIRFLOW__CORE__DAGS_FOLDER": str(DAGS),
                    "AIRFLOW__CORE__LOAD_EXAMPLES": "False"}

    def run(self, *arguments: str) -> None:
        done = subprocess.run([str(self.python), *arguments], env=self.env, cwd=self.home,
                              capture_output=True, text=True, timeout=300)
        assert done.returncode == 0, \
            f"Airflow {self.version}: {arguments}\n{done.stdout[-3000:]}\n{done.stderr[-3000:]}"

    def probe(self, *arguments: str):
        out = self.home / "probe.json"
        self.run(str(ROOT / "tests" / "support" / "airflow_probe.py"), *arguments, str(out))
        return json.loads(out.read_text())


@pytest.fixture(scope="module", params=["3.3.2", "2.11.2"])
def airflow(request, tmp_path_factory) -> Airflow:
    installed = Airflow(request.param, tmp_path_factory.mktemp(f"airflow-{request.param}"))
    if not installed.python.exists():
        missing(f"no Airflow {request.param} at {installed.python}: run scripts/airflow-venv.sh {request.param}")
    installed.run("-m", "airflow", "db", "migrate")
    installed.run("-m", "airflow", "dags", "reserialize")
    installed.run("-m", "airflow", "dags", "unpause", DAG_ID)
    return installed


@pytest.fixture(scope="module")
def catch_up(airflow) -> list[dict]:
    return airflow.probe("catchup", DAG_ID, TASK_ID, str(CATCH_UP_DAYS))


def business_date(run: dict) -> dt.date:
    arguments = run["templates"]["arguments"]
    assert arguments[:3] == ["jobs/compute_labels.py", "conf/retail_members.yaml", "--date"], arguments
    return dt.date.fromisoformat(arguments[3])


def fires(run: dict) -> dt.datetime:
    return dt.datetime.fromisoformat(run["run_after"]).astimezone(CONFIG_TIMEZONE)


def test_the_dag_file_loads_without_errors_or_deprecation_warnings(airflow):
    assert airflow.probe("parse", str(DAGS)) == {"dag_ids": [DAG_ID], "import_errors": {}, "warnings": []}


def test_the_run_after_a_day_computes_that_day(catch_up):
    first = catch_up[0]
    assert first["run_type"] == "scheduled"
    assert fires(first) == dt.datetime(2026, 3, 2, 1, 30, tzinfo=CONFIG_TIMEZONE)
    assert business_date(first) == FIRST_DATE


def test_catch_up_runs_the_business_dates_in_order_through_month_end(catch_up):
    assert [business_date(run) for run in catch_up] == [FIRST_DATE + dt.timedelta(days=n) for n in range(CATCH_UP_DAYS)]
    assert [fires(run) for run in catch_up] == sorted(fires(run) for run in catch_up)
    april_first = next(run for run in catch_up if fires(run).date() == dt.date(2026, 4, 1))
    assert business_date(april_first) == dt.date(2026, 3, 31)


def test_each_run_names_the_day_labelspark_calls_yesterday_when_it_fires(catch_up):
    """The crontab's runs (no --date) compute yesterday in the config's timezone: the DAG's agree."""
    for run in catch_up:
        assert fires(run).time() == dt.time(1, 30)
        assert business_date(run) == fires(run).date() - dt.timedelta(days=1)
