"""Airflow DAG: the daily label run of conf/retail_members.yaml, for the business date `{{ ds }}`.

A run is idempotent per date (its snapshot partition is replaced, history re-applied), so
Airflow retries and manual re-runs of a date are safe; `catchup` back-fills missed dates in
order, which is how history advances.

labelspark's exit code says what to do next (README, "Exit codes"): 75 (another run holds the
warehouse) and 1 (a failed run: its tables are as before) are retried, with backoff and a
limit; 2 (bad config or arguments) fails at once, since retrying changes nothing. When Airflow
stops the task (timeout, marked failed), the job gets SIGTERM: it restores its tables, records
the run failed and exits 143 within seconds. Both need the driver in this process tree: client
deploy mode (in cluster mode spark-submit exits 1 for any failure and a SIGTERM stops only the
submitter, not the driver).
"""
import datetime as dt
import os
from functools import cached_property

from airflow import DAG
from airflow.exceptions import AirflowException, AirflowFailException
from airflow.hooks.subprocess import SubprocessHook
from airflow.models import BaseOperator

LABELSPARK_HOME = "/opt/labelspark"
EXIT_USAGE, EXIT_BUSY = 2, 75
WHAT_IT_MEANS = {
    1: "the run failed; its tables are as before",
    EXIT_BUSY: "the warehouse is busy with another run",
    130: "interrupted (SIGINT)",
    143: "stopped (SIGTERM)",
}


class LabelsparkOperator(BaseOperator):
    """Runs a labelspark job with scripts/submit.sh and turns its exit code into a retry or not."""

    template_fields = ("arguments",)

    def __init__(self, *, arguments: list[str], env: dict[str, str], **kwargs):
        super().__init__(**kwargs)
        self.arguments = arguments
        self.env = env

    @cached_property
    def subprocess(self) -> SubprocessHook:
        return SubprocessHook()

    def execute(self, context) -> None:
        done = self.subprocess.run_command(["scripts/submit.sh", *self.arguments], env={**os.environ, **self.env},
                                           cwd=LABELSPARK_HOME)
        if done.exit_code == 0:
            return
        if done.exit_code == EXIT_USAGE:
            raise AirflowFailException("bad config or arguments (exit 2): fix them, retrying changes nothing")
        raise AirflowException(f"{WHAT_IT_MEANS.get(done.exit_code, 'failed')} (exit {done.exit_code}): retried")

    def on_kill(self) -> None:
        self.subprocess.send_sigterm()  # the job undoes its writes and exits 143


with DAG(
    dag_id="labelspark_retail_members",
    schedule="30 1 * * *",  # 01:30 every day, after the warehouse's nightly loads
    start_date=dt.datetime(2026, 3, 1),
    catchup=True,
    max_active_runs=1,  # one run per warehouse at a time: history advances in date order
    default_args={"retries": 3, "retry_delay": dt.timedelta(minutes=10), "retry_exponential_backoff": True},
    tags=["labelspark"],
) as dag:
    LabelsparkOperator(
        task_id="compute_labels",
        arguments=["jobs/compute_labels.py", "conf/retail_members.yaml", "--date", "{{ ds }}"],
        env={"SPARK_MASTER": "yarn", "SPARK_DEPLOY_MODE": "client"},
        execution_timeout=dt.timedelta(hours=6),
    )
