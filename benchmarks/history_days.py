"""`label_history` on an ordinary day, a table with a long past: does the day's cost stay flat?

Builds, from the snapshot of a `bench.py` warehouse, a history of the day's values as the
current versions plus K earlier closed versions of each (K days of history in which every
value changed each day; a year at 3% of values changing a day closes ~12 versions per
current one), then advances it one day in which ~3% of the values change, and prints the
times. The day reads and writes only current versions (and the ones it closes), never the
closed versions of earlier days, so its time should not grow with K. The table is written as a
first load writes it, with deletion vectors. `bench.py --scaling` times the same kind of day as
a whole run of the next date.

    python benchmarks/bench.py --users 1000000 --only sail --labels 50   # makes the warehouse
    python benchmarks/history_days.py --closed 0 4 12
"""
from __future__ import annotations

import argparse
import datetime as dt
import shutil
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from pyspark.sql import functions as F  # noqa: E402

from labelspark.config import load_project  # noqa: E402
from labelspark.compute.derived.history_values import history_values  # noqa: E402
from labelspark.compute.derived.unions import union_all  # noqa: E402
from labelspark.engine.sessions import open_session  # noqa: E402
from labelspark.warehouse import history  # noqa: E402
from labelspark.warehouse.delta import create_table  # noqa: E402

CHANGED_ONE_IN = 33  # ~3% of a day's values change


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--work", default=str(Path(__file__).parent / ".work" / "labels-50"),
                        help="a bench.py workload directory (its labelspark.yaml and warehouse)")
    parser.add_argument("--closed", type=int, nargs="+", default=[0, 4, 12], help="closed versions per current one")
    args = parser.parse_args()
    project = load_project(Path(args.work) / "labelspark.yaml")
    tables = Path(args.work) / "warehouse"
    with open_session("sail") as spark:
        snapshots = spark.read.format("delta").load(str(tables / "label_snapshot"))
        first_day = snapshots.agg(F.max("snapshot_date")).first()[0]
        snapshot = snapshots.where(F.col("snapshot_date") == F.lit(first_day)).drop("snapshot_date")
        labels = [label for label in project.enabled_labels if label.id in snapshot.columns]
        values = history_values(snapshot, project, labels)
        # the next day's values: the snapshot's, ~3% of them changed
        changed = (F.abs(F.hash(project.key, "label_id")) % CHANGED_ONE_IN) == 0
        next_day = values.withColumn("value", F.when(changed, F.concat("value", F.lit("*"))).otherwise(F.col("value")))
        path = str(tables.parent / "history-days")
        for closed in args.closed:
            shutil.rmtree(path, ignore_errors=True)
            started = time.time()
            # as a first load writes it: partitioned, deletion vectors on
            create_table(_versions(values, project.key, first_day, closed), path, partition_by=history.CURRENT, deletion_vectors=True)
            written = time.time() - started
            started = time.time()
            history.advance_versions(spark, next_day, project.key, [label.id for label in labels], path, first_day + dt.timedelta(days=1))
            print(f"closed per current {closed:>3}: table written in {written:6.1f} s, the next day in {time.time() - started:6.1f} s", flush=True)
        shutil.rmtree(path, ignore_errors=True)


def _versions(values, key: str, day: dt.date, closed: int):
    """The day's values as current versions, each after `closed` one-day versions of other values."""
    frames = [values.select(key, "label_id", "value", F.lit(day).alias("valid_from"),
                            F.lit(None).cast("date").alias("valid_to"), F.lit(True).alias(history.CURRENT))]
    frames += [values.select(key, "label_id", F.concat("value", F.lit(f"~{k}")).alias("value"),
                             F.date_sub(F.lit(day), k + 1).alias("valid_from"), F.date_sub(F.lit(day), k).alias("valid_to"),
                             F.lit(False).alias(history.CURRENT)) for k in range(closed)]
    return union_all(frames)


if __name__ == "__main__":
    main()
