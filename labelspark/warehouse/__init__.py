"""The warehouse: every Delta table's reading and writing. Table names and paths (`names`,
no Spark), the label snapshot (history, stats and the rest build on it), history, catalog,
runs, lock, rollback, rewind and staging; and `readers`, the delta-rs reads of the commands
that need no Spark.

Nothing is imported here: `labelspark.warehouse.names`, `labelspark.warehouse.deltars` (paths and
the delta-rs opener) and `labelspark.warehouse.readers` stay free of pyspark.
"""
