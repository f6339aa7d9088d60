"""Run by the python of a real Airflow (scripts/airflow-venv.sh), not the project's, with AIRFLOW_HOME
set; writes its findings to OUT as JSON (Airflow logs to stdout). Works on Airflow 3 and 2.

    airflow_probe.py parse FOLDER OUT               what Airflow's DagBag makes of a folder of DAG files
    airflow_probe.py catchup DAG_ID TASK_ID RUNS OUT

`catchup` catches a DAG up as Airflow's scheduler does, from its start date, and records each run it
creates with the task's templates rendered by `airflow tasks render`. It expects a migrated database
holding the parsed, unpaused DAG (`airflow db migrate`, `dags reserialize`, `dags unpause`). Each round
runs twice the scheduler loop's own step that creates due runs (`_create_dagruns_for_dags`): the
second must create nothing while the first run is active (`max_active_runs=1`). Then the run's task
is marked a success, as a worker would, and the scheduler's look at the run (`_schedule_dag_run`)
closes it, which lets the next one be created.
"""
import ast
import contextlib
import io
import json
import sys

from airflow.cli.cli_parser import get_parser
from airflow.jobs.job import Job
from airflow.jobs.scheduler_job_runner import SchedulerJobRunner
from airflow.models import DagRun
from airflow.utils.session import create_session
from airflow.utils.sqlalchemy import prohibit_commit
from airflow.utils.state import DagRunState, TaskInstanceState

try:  # Airflow 3
    from airflow.dag_processing.dagbag import DagBag
except ImportError:  # Airflow 2
    from airflow.models.dagbag import DagBag


def parsed(folder: str) -> dict[str, object]:
    bag = DagBag(dag_folder=folder)
    return {"dag_ids": sorted(bag.dags), "import_errors": bag.import_errors,
            "warnings": [warning for warnings in bag.captured_warnings.values() for warning in warnings]}


def scheduler_loop_creates_runs(scheduler: SchedulerJobRunner, dag_id: str) -> list[DagRun]:
    with create_session() as session:
        before = {run.run_id for run in DagRun.find(dag_id=dag_id, session=session)}
        with prohibit_commit(session) as guard:
            scheduler._create_dagruns_for_dags(guard, session)
        return [run for run in DagRun.find(dag_id=dag_id, session=session) if run.run_id not in before]


def finish(scheduler: SchedulerJobRunner, run: DagRun) -> None:
    """The run starts and its task succeeds; the scheduler's next look at the run records it done."""
    with create_session() as session:
        run = session.merge(run)
        run.set_state(DagRunState.RUNNING)
        for task in run.get_task_instances(session=session):
            task.set_state(TaskInstanceState.SUCCESS, session=session)
        scheduler._schedule_dag_run(run, session)
        if run.state != DagRunState.SUCCESS:
            sys.exit(f"the scheduler left {run.run_id} {run.state}")


def rendered(dag_id: str, task_id: str, run_id: str) -> dict[str, object]:
    """The task's template fields as `airflow tasks render` prints them: a header, then each value."""
    args = get_parser().parse_args(["tasks", "render", dag_id, task_id, run_id])
    printed = io.StringIO()
    with contextlib.redirect_stdout(printed):
        args.func(args)
    lines = [line.strip() for line in printed.getvalue().splitlines()]
    return {line.removeprefix("# property: "): ast.literal_eval(lines[i + 2])
            for i, line in enumerate(lines) if line.startswith("# property: ")}


def described(run: DagRun, templates: dict[str, object]) -> dict[str, object]:
    fires = getattr(run, "run_after", None) or run.data_interval_end  # Airflow 2: a run starts at its interval's end
    return {"run_id": run.run_id, "run_type": str(run.run_type), "run_after": fires.isoformat(),
            "data_interval_start": run.data_interval_start.isoformat(),
            "data_interval_end": run.data_interval_end.isoformat(), "templates": templates}


def caught_up(dag_id: str, task_id: str, count: int) -> list[dict[str, object]]:
    scheduler = SchedulerJobRunner(job=Job())
    runs = []
    for _ in range(count):
        created = scheduler_loop_creates_runs(scheduler, dag_id)
        held_back = scheduler_loop_creates_runs(scheduler, dag_id)
        if len(created) != 1 or held_back:
            sys.exit(f"one scheduler loop created {[run.run_id for run in created]}, "
                     f"the next {[run.run_id for run in held_back]}")
        runs.append(described(created[0], rendered(dag_id, task_id, created[0].run_id)))
        finish(scheduler, created[0])
    return runs


if __name__ == "__main__":
    command, *arguments, out = sys.argv[1:]
    found = parsed(*arguments) if command == "parse" else caught_up(arguments[0], arguments[1], int(arguments[2]))
    with open(out, "w") as file:
        json.dump(found, file)
