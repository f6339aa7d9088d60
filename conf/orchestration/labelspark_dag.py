"""Airflow DAG: the daily label run of conf/retail_members.yaml, for the business date `{{ ds }}`.

A run is idempotent per date (its snapshot partition is replaced, history re-applied), so
Airflow retries and manual re-runs of a date are safe; `catchup` back-fills missed dates in
order, which is how history advances.
"""
import datetime as dt

from airflow import DAG
from airflow.operators.bash import BashOperator

LABELSPARK_HOME = "/opt/labelspark"

with DAG(
    dag_id="labelspark_retail_members",
    schedule="30 1 * * *",  # 01:30 every day, after the warehouse's nightly loads
    start_date=dt.datetime(2026, 3, 1),
    catchup=True,
    max_active_runs=1,  # one run per warehouse at a time: history advances in date order
    default_args={"retries": 3, "retry_delay": dt.timedelta(minutes=10), "retry_exponential_backoff": True},
    tags=["labelspark"],
) as dag:
    BashOperator(
        task_id="compute_labels",
        bash_command=(
            f"cd {LABELSPARK_HOME} && scripts/submit.sh jobs/compute_labels.py conf/retail_members.yaml --date {{{{ ds }}}}"
        ),
        env={"SPARK_MASTER": "yarn", "SPARK_DEPLOY_MODE": "cluster"},
        append_env=True,
        execution_timeout=dt.timedelta(hours=6),
    )
