"""`labelspark stream`: Structured Streaming over the `stream: true` sources, a micro-batch at a time.

Classic Spark only: Sail 0.7.2 has no Delta `readStream` and no `foreachBatch`. A Delta source is
read from its latest version at the first start (the rows before it are the nightly run's; that
version's own rows are read again, which costs a batch and changes nothing), commits that change
rows rather than add them are skipped
(`skipChangeCommits`); a folder of files is read whole on the first start. The checkpoint
(`<warehouse>/_labelspark_stream` unless given) holds the offsets, so a restart goes on where
the last batch that finished left off, and that batch's label_updates are written once.

SIGINT/SIGTERM stop the stream between batches: a batch under way finishes, the next is not
started (it is read again on the next start), and the command exits 130/143.
"""
from __future__ import annotations

import datetime as dt
import json
import logging
import signal
import threading
import time

from pyarrow import fs as pafs
from pyspark.errors import StreamingQueryException
from pyspark.sql import DataFrame, SparkSession
from pyspark.sql import functions as F

from labelspark.compute.stop_signals import STOP_SIGNALS
from labelspark.compute.derived.unions import union_all
from labelspark.config import Project
from labelspark.engine.facts import engine_of
from labelspark.engine.sessions import set_timezone
from labelspark.errors import EngineError, LabelsparkError, UsageError, WarehouseLocked
from labelspark.publish.partial import PartialUpdates, ServedIndex
from labelspark.stream.batch import TOUCHED, process, replay
from labelspark.stream.last_values import LastValues
from labelspark.warehouse.lock import warehouse_lock
from labelspark.warehouse import updates
from labelspark.warehouse.delta import read_table
from labelspark.warehouse.deltars import filesystem_of
from labelspark.warehouse.names import DATE, Tables, table_path

log = logging.getLogger(__name__)
CHECKPOINT = "_labelspark_stream"
ROW_TIME = "__time"
STARTING_VERSIONS = "labelspark_starting_versions.json"  # in the checkpoint: {source: Delta version}
IDLE_SECONDS = 2.0  # how often an idle stream looks whether the nightly publish moved the alias


class _StopRequested(Exception):
    """Raised in a batch that starts after a stop signal: the query ends with it, uncommitted."""


def stream_labels(spark: SparkSession, project: Project, checkpoint: str | None = None, trigger_seconds: float = 1.0,
                  available_now: bool = False) -> int:
    """Runs the stream until a stop signal (returns 128 + its number) or a failure (raised);
    `available_now`: until the rows there are now are done (returns 0), for a catch-up from cron."""
    _check(spark, project)
    set_timezone(spark, project.timezone)
    # a batch's rows are those of its entities: a few parts, not the nightly's hundreds of tasks per stage
    spark.conf.set("spark.sql.shuffle.partitions", str(spark.sparkContext.defaultParallelism))
    logging.getLogger("py4j").setLevel(logging.WARNING)  # its INFO lines come with every batch's callback
    checkpoint = checkpoint or table_path(project.warehouse, CHECKPOINT)
    try:
        with warehouse_lock(checkpoint, f"stream-{project.name}", project.file):
            return _Stream(spark, project, checkpoint, trigger_seconds, available_now).run()
    except WarehouseLocked as exc:
        raise WarehouseLocked(f"another stream runs on the checkpoint {checkpoint}: {exc}") from None


def _check(spark: SparkSession, project: Project) -> None:
    engine = engine_of(spark)
    if engine.name != "spark":
        raise UsageError(f"`stream` runs on classic Spark (--engine spark): {engine.name} has no Structured Streaming "
                         "of Delta tables (readStream, foreachBatch)")
    if not project.realtime_labels:
        raise UsageError(f"{project.file}: no enabled label has `realtime: true`: nothing to stream")


class _Stream:
    def __init__(self, spark: SparkSession, project: Project, checkpoint: str, trigger_seconds: float, available_now: bool):
        self.spark, self.project, self.checkpoint = spark, project, checkpoint
        self.trigger = {"availableNow": True} if available_now else {"processingTime": f"{trigger_seconds} seconds"}
        self.index = PartialUpdates(project) if project.outputs.elasticsearch else None
        self.served: ServedIndex | None = None  # the index the stream last wrote to
        self.stop_signal: int | None = None
        self.stopping = threading.Event()
        self.working = threading.Lock()  # a batch, or a replay after the alias moved
        self.query = None
        self.started = threading.Event()
        self.failure: LabelsparkError | None = None  # what failed the last batch
        self.starting_versions: dict[str, int] = {}
        self.last = LastValues(spark, project)
        self.appended_through: int | None = None  # the last batch that appended to label_updates before this start

    def run(self) -> int:
        with self.working:
            self._follow_alias()  # the stream was down while a nightly publish ran
        previous = {signum: signal.signal(signum, self._on_signal) for signum in STOP_SIGNALS}
        try:
            self._pin_starting_versions()
            self.query = (self._rows().writeStream.foreachBatch(self._on_batch)
                          .option("checkpointLocation", self.checkpoint)
                          .trigger(**self.trigger).start())
            self.started.set()
            self._first_offsets()
            log.info("stream %s: %d real-time labels over sources %s; checkpoint %s", self.query.id,
                     len(self.project.realtime_labels), ", ".join(self.project.streamed_sources), self.checkpoint)
            return self._wait()
        finally:
            for signum, handler in previous.items():
                signal.signal(signum, handler)

    def _wait(self) -> int:
        while True:
            if self.stopping.is_set():
                with self.working:  # the batch under way finishes; later ones see `stopping`
                    pass
                self.query.stop()
                log.info("stream stopped by %s between batches", signal.Signals(self.stop_signal).name)
                return 128 + self.stop_signal
            try:
                if self.query.awaitTermination(IDLE_SECONDS):
                    log.info("stream %s: the rows there were are done", self.query.id)  # availableNow
                    return 0
            except StreamingQueryException as exc:
                if self.stopping.is_set():
                    continue
                if self.failure is not None:  # the batch's own error says it better than the query's wrapping
                    raise self.failure from None
                raise EngineError(f"the stream failed: {_first_line(exc)}") from None
            with self.working:
                self._follow_alias()

    def _first_offsets(self) -> None:
        """Waits for the query's first trigger (the batch a crash left, if any), so that "started"
        in the log means the query runs; a failure to start is raised by `_wait`."""
        while self.query.isActive and self.query.lastProgress is None and not self.stopping.is_set():
            time.sleep(0.1)

    def _on_signal(self, signum: int, frame) -> None:
        if not self.stopping.is_set():
            log.warning("%s received: stopping after the batch under way", signal.Signals(signum).name)
            self.stop_signal = signum
            self.stopping.set()

    def _pin_starting_versions(self) -> None:
        """The version each Delta source is read from: its latest on the first start, noted in the
        checkpoint. Delta's own `latest` is resolved again at a restart until a batch completes,
        and would skip the rows of a first batch that died."""
        filesystem, path = filesystem_of(f"{self.checkpoint.rstrip('/')}/{STARTING_VERSIONS}")
        if filesystem.get_file_info(path).type != pafs.FileType.NotFound:
            with filesystem.open_input_stream(path) as noted:
                self.starting_versions = json.loads(noted.read())
            return
        self.starting_versions = {name: self._latest_version(name) for name in self.project.streamed_sources
                                  if self.project.sources[name].format == "delta"}
        filesystem.create_dir(path.rpartition("/")[0], recursive=True)
        with filesystem.open_output_stream(path) as out:
            out.write(json.dumps(self.starting_versions).encode())

    def _latest_version(self, name: str) -> int:
        table = "delta.`" + self.project.resolve_path(self.project.sources[name].path).replace("`", "``") + "`"
        return self.spark.sql(f"DESCRIBE HISTORY {table} LIMIT 1").first()["version"]

    def _rows(self) -> DataFrame:
        """(TOUCHED, ROW_TIME) of the new rows of every streamed source."""
        return union_all([self._source_rows(name) for name in self.project.streamed_sources])

    def _source_rows(self, name: str) -> DataFrame:
        source = self.project.sources[name]
        reader = self.spark.readStream.options(**{k: str(v) for k, v in source.options.items()})
        path = self.project.resolve_path(source.path)
        if source.format == "delta":
            reader = reader.format("delta").option("startingVersion", self.starting_versions[name]).option("skipChangeCommits", "true")
        else:
            reader = reader.format(source.format).schema(self.spark.read.options(**source.options).format(source.format).load(path).schema)
        rows = reader.load(path)
        time_column = F.col(source.time).cast("timestamp") if source.time else F.current_timestamp()
        return rows.select(F.col(source.key).cast("string").alias(TOUCHED), time_column.alias(ROW_TIME))

    def _on_batch(self, rows: DataFrame, batch_id: int) -> None:
        self.started.wait()
        try:
            self._batch(rows, batch_id)
        except LabelsparkError as exc:
            self.failure = exc
            raise

    def _batch(self, rows: DataFrame, batch_id: int) -> None:
        with self.working:
            if self.stopping.is_set():
                raise _StopRequested(f"batch {batch_id} is left for the next start")
            started = time.monotonic()
            self._follow_alias()
            rows = rows.persist()
            try:
                count, newest, oldest = rows.agg(F.count(F.lit(1)), F.max(F.col(ROW_TIME).cast("double")),
                                                 F.min(F.col(ROW_TIME).cast("double"))).first()
                log.info("batch %d: %d new rows", batch_id, count)
                if self.appended_through is None:  # once per start: a batch up to it is one a crash left after its append
                    self.appended_through = updates.last_batch(self.spark, Tables(self.project.warehouse).updates, str(self.query.id)) or -1
                result = process(self.spark, self.project, rows.select(TOUCHED), self.last.at(self._cut()), str(self.query.id), batch_id,
                                 batch_id <= self.appended_through,
                                 self.index.send if self.served and self.served.name else None)
            finally:
                rows.unpersist()
            done = time.time()
            ages = f"; rows' age at their documents: newest {done - newest:.1f}s, oldest {done - oldest:.1f}s" if newest is not None else ""
            log.info("batch %d: %d entities, %d changes, %d documents in %.1fs%s", batch_id, result.entities,
                     result.changes, result.documents, time.monotonic() - started, ages)

    def _follow_alias(self) -> None:
        """Once the nightly publish moved the alias, the updates of the days after its snapshot's
        date go to the new index, before any other update goes there."""
        if self.index is None:
            return
        served = self.index.served()
        if served != self.served and served.name is None:
            log.warning("alias %s does not exist yet: changes go to label_updates only until the first publish", self.index.alias)
        elif served != self.served:
            self.last.forget()
            sent = replay(self.spark, self.project, served.day, self.index.send)
            log.info("alias %s serves %s (snapshot %s): the updates of %d entities since then sent to it", self.index.alias,
                     served.name, served.day, sent)
        self.served = served

    def _cut(self) -> dt.date | None:
        """The date of the snapshot the index was built from; without an index, the latest snapshot's."""
        if self.index is not None:
            return self.served.day if self.served else None
        snapshot = read_table(self.spark, Tables(self.project.warehouse).snapshot)
        return None if snapshot is None else snapshot.agg(F.max(DATE)).first()[0]


def _first_line(exc: Exception) -> str:
    text = str(getattr(exc, "desc", None) or exc).strip()
    return text.splitlines()[0][:500] if text else type(exc).__name__
