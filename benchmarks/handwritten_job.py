"""The benchmark's workload as a Spark engineer would write it without labelspark: the floor of
the production path, submitted with spark-submit beside labelspark's job (benchmarks/cluster.py).

    spark-submit ... benchmarks/handwritten_job.py SPEC.json

SPEC (workload_spark.py) gives the snapshot's SQL, the labels and the segments. The job writes
the Delta tables labelspark's first run writes, each as directly as Spark allows: the snapshot
(one select, one write), label_stats (every label's values unpivoted and counted by one
aggregation), segment_members (one select) and label_history's first load (one unpivot). Values
as text are the contract's forms, so the tables can be compared with labelspark's row for row.
Its log lines mark the phases for the report, in labelspark's format.
"""
from __future__ import annotations

import datetime as dt
import json
import logging
import sys

from pyspark.sql import Column, DataFrame, SparkSession, Window
from pyspark.sql import functions as F

DATE = "snapshot_date"
log = logging.getLogger("handwritten")


def as_text(value: Column, kind: str) -> Column:
    """The contract's text of a value: numbers in plain decimals, lists as sorted JSON arrays
    (labelspark's `udfs.as_text` written out again: the floor runs without labelspark's package)."""
    if kind == "list":
        return F.to_json(F.array_sort(value))
    if kind == "number":
        whole = (value == F.floor(value)) & (F.abs(value) < F.lit(1e15))
        fraction = F.regexp_replace(F.format_string("%.9f", value), r"\.?0+$", "")
        return F.when(whole, value.cast("bigint").cast("string")).when(value.isNotNull(), fraction)
    return value.cast("string")


def bucket(value: Column, edges: list[float]) -> Column:
    """The bucket name of a number: `(-inf,e0)`, `[e0,e1)`, ..., `[en,+inf)`."""
    names = [str(int(e)) if float(e).is_integer() else repr(float(e)) for e in edges]
    column = F.when(value.isNull(), F.lit(None)).when(value < F.lit(edges[0]), F.lit(f"(-inf,{names[0]})"))
    for low, high, edge in zip(names, names[1:], edges[1:]):
        column = column.when(value < F.lit(edge), F.lit(f"[{low},{high})"))
    return column.otherwise(F.lit(f"[{names[-1]},+inf)"))


def counted(label: dict) -> Column:
    """(label_id, value) pairs label_stats counts for one entity: a list label's distinct
    elements (an empty list with the nulls), a metric's bucket, else the value's text."""
    value, kind = F.col(label["id"]), label["type"]
    pair = lambda v: F.struct(F.lit(label["id"]).alias("label_id"), v.alias("value"))  # noqa: E731
    if kind == "list":
        elements = F.when(F.size(value) > 0, F.array_distinct(value)).otherwise(F.array(F.lit(None).cast("string")))
        return F.transform(elements, pair)
    return F.array(pair(bucket(value, label["buckets"]) if label["buckets"] else as_text(value, kind)))


def label_stats(snapshot: DataFrame, labels: list[dict], entities: int, day: dt.date) -> DataFrame:
    pairs = snapshot.select(F.explode(F.concat(*(counted(label) for label in labels))).alias("p")).select("p.*")
    counts = pairs.groupBy("label_id", "value").agg(F.count(F.lit(1)).alias("users"))
    order = Window.partitionBy("label_id").orderBy(F.col("users").desc(), F.col("value").asc_nulls_last())
    return counts.select("label_id", "value", "users", (F.col("users") / F.lit(entities)).alias("proportion"),
                         F.row_number().over(order).alias("rank"), F.lit(day).alias(DATE))


def history(snapshot: DataFrame, key: str, labels: list[dict], day: dt.date) -> DataFrame:
    """label_history's first load: one current version per entity and non-null label value."""
    values = F.array(*(F.struct(F.lit(label["id"]).alias("label_id"), as_text(F.col(label["id"]), label["type"]).alias("value"))
                       for label in labels))
    rows = snapshot.select(key, F.explode(values).alias("p")).select(key, "p.*").where(F.col("value").isNotNull())
    return rows.select(key, "label_id", "value", F.lit(day).alias("valid_from"), F.lit(None).cast("date").alias("valid_to"),
                       F.lit(True).alias("is_current"))


def segment_members(snapshot: DataFrame, key: str, segments: list[dict], day: dt.date) -> DataFrame:
    memberships = F.array_compact(F.array(*(F.when(F.expr(s["when"]), F.lit(s["id"])) for s in segments)))
    return snapshot.select(F.explode(memberships).alias("segment_id"), key).select("segment_id", key, F.lit(day).alias(DATE))


def main(spec_path: str) -> None:
    logging.basicConfig(level=logging.INFO, format="%(asctime)s.%(msecs)03d %(levelname)s %(message)s", datefmt="%H:%M:%S",
                        stream=sys.stdout)
    spec = json.loads(open(spec_path).read())
    day, key, root, labels = dt.date.fromisoformat(spec["run_date"]), spec["key"], spec["warehouse"].rstrip("/"), spec["labels"]
    spark = SparkSession.builder.appName("handwritten labels").getOrCreate()
    spark.conf.set("spark.sql.session.timeZone", spec["timezone"])
    for name, source in spec["sources"].items():
        reader = spark.read.format(source["format"])
        if "schema" in source:
            reader = reader.schema(source["schema"]).option("header", "true")
        reader.load(source["path"]).createOrReplaceTempView(name)
    log.info("handwritten run for %s: %d labels due", day, len(labels))

    log.info("writing label_snapshot partition %s", day)
    snapshot = spark.sql(spec["sql"]).withColumn(DATE, F.lit(day))
    snapshot.write.format("delta").mode("overwrite").partitionBy(DATE).save(f"{root}/label_snapshot")
    written = spark.read.format("delta").load(f"{root}/label_snapshot").where(F.col(DATE) == F.lit(day))
    entities = written.count()
    log.info("label_snapshot %s: %d entities", day, entities)

    label_stats(written, labels, entities, day).write.format("delta").mode("overwrite").partitionBy(DATE).save(f"{root}/label_stats")
    log.info("label_stats %s: %d labels", day, len(labels))
    if spec["segments"]:
        segments = segment_members(written, key, spec["segments"], day)
        segments.write.format("delta").mode("overwrite").partitionBy(DATE).save(f"{root}/segment_members")
        log.info("segment_members %s: %d segments", day, len(spec["segments"]))

    (history(written, key, labels, day).write.format("delta").mode("overwrite").partitionBy("is_current")
     .option("delta.enableDeletionVectors", "true").save(f"{root}/label_history"))
    log.info("label_history advanced to %s (first load)", day)
    spark.stop()


if __name__ == "__main__":
    main(sys.argv[1])
