"""The run's stages, in the order one business date goes through them:

1. `plan`: which labels are due on the date, and the source passes that compute them (no Spark).
2. `preflight` and `staleness`: before anything is written, the label kinds checked against the
   sources' schemas, and each source's freshness against its thresholds.
3. `sources`: reading a source, id mapping, the as-of cut, the cleaning steps.
4. `imports`: import labels, (id, value) files read once per run.
5. `indicators`: one aggregation per source pass, however many indicators read it; `aggregates`:
   the table of aggregate builders, one per `agg`.
6. `label_columns` with `methods`: every due label as one Column (the table of label methods),
   all of them in one select: the day's snapshot.
7. `derived/`: the tables computed from the snapshot (stats, segment members, history values).
8. `run`: the job for one date, stages 1-7 and the writes to the warehouse, then publishing;
   `job` (lock, run record, undoing a failure, callback) and `stop_signals` are what a run and a
   publish share.

Nothing is imported here: `labelspark.compute.plan` stays free of pyspark.
"""
