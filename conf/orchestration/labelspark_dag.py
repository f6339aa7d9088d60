"""Airflow DAG: the daily label run of conf/retail_members.yaml. The run at 01:30 of day D+1, in
the config's timezone, computes business date D, the day that has just ended (as the crontab does).

The business date is the start of the run's data interval, in the DAG's timezone: the timetable is
CronDataIntervalTimetable, whose run at 01:30 of D+1 covers [D 01:30, D+1 01:30). It is named
explicitly because Airflow 3 schedules a bare cron string with CronTriggerTimetable, whose logical
date (`{{ ds }}`) is the trigger time itself, D+1. The context holds the interval in UTC, hence the
conversion to the DAG's timezone before taking the date. Runs on Airflow 3 and 2.11.

A run is idempotent per date (its snapshot partition is replaced, history re-applied), so
Airflow retries and manual re-runs of a date are safe; `catchup` back-fills missed dates in
order, from `start_date` (the first business date) on, which is how history advances.

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

import pendulum

try:  # Airflow 3
    from airflow.providers.standard.hooks.subprocess import SubprocessHook
    from airflow.sdk import DAG, BaseOperator, CronDataIntervalTimetable
    from airflow.sdk.exceptions import AirflowException, AirflowFailException
except ImportError:  # Airflow 2
    from airflow import DAG
    from airflow.exceptions import AirflowException, AirflowFailException
    from airflow.hooks.subprocess import SubprocessHook
    from airflow.models import BaseOperator
    from airflow.timetables.interval import CronDataIntervalTimetable

LABELSPARK_HOME = "/opt/labelspark"
TIMEZONE = "Asia/Shanghai"  # the config's `timezone`: business days are its days
BUSINESS_DATE = "{{ data_interval_start.in_timezone(dag.timezone) | ds }}"
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
    schedule=CronDataIntervalTimetable("30 1 * * *", timezone=TIMEZONE),  # 01:30, after the nightly loads
    start_date=pendulum.datetime(2026, 3, 1, tz=TIMEZONE),
    catchup=True,
    max_active_runs=1,  # one run per warehouse at a time: history advances in date order
    default_args={"retries": 3, "retry_delay": dt.timedelta(minutes=10), "retry_exponential_backoff": True},
    tags=["labelspark"],
) as dag:
    LabelsparkOperator(
        task_id="compute_labels",
        arguments=["jobs/compute_labels.py", "conf/retail_members.yaml", "--date", BUSINESS_DATE],
        env={"SPARK_MASTER": "yarn", "SPARK_DEPLOY_MODE": "client"},
        execution_timeout=dt.timedelta(hours=6),
    )
