"""Commands that run a job on the warehouse: they open a Spark session and take the lock."""
from __future__ import annotations

import argparse
from pathlib import Path

from labelspark.cli.options import add_engine, date, names
from labelspark.errors import UsageError

COMPACT_THRESHOLD = 0.1  # the masked share of a file from which `compact` writes its partition again


def register(commands, common) -> None:
    run = commands.add_parser("run", parents=[common], help="compute the labels due on a date and write the snapshot")
    run.add_argument("config", type=Path)
    run.add_argument("--date", type=date, help="business date (default: yesterday in the config's timezone)")
    run.add_argument("--labels", type=names, help="comma-separated label ids: compute only these")
    add_engine(run)
    run.add_argument("--no-publish", action="store_true", help="skip Elasticsearch and the callback")
    run.add_argument("--allow-future", action="store_true", help="accept a date after today in the config's timezone")
    run.add_argument("--allow-stale-sources", action="store_true",
                     help="run even though the date is past every source's data by more than its freshness allows "
                          "(default 7d, else the source's error_after), or a source is past its error_after: warn instead")
    run.add_argument("--full", action="store_true",
                     help="read every row of every source instead of merging tiles (counts rows that arrived later than the lookback); "
                          "the tiles stay as they are")
    run.add_argument("--snapshot-to", metavar="DIR",
                     help="compute every enabled label and write only the snapshot as parquet under DIR "
                          "(no Delta Lake needed: trials, benchmarks); nothing else is written or published")
    run.set_defaults(handler=_run)

    publish = commands.add_parser("publish", parents=[common], help="(re)publish the snapshot of a date to Elasticsearch")
    publish.add_argument("config", type=Path)
    publish.add_argument("--date", type=date, help="snapshot date (default: yesterday in the config's timezone)")
    add_engine(publish)
    publish.add_argument("--allow-future", action="store_true", help="accept a date after today in the config's timezone")
    publish.set_defaults(handler=_publish)

    rewind = commands.add_parser("rewind", parents=[common], help="undo every date after D in every table, as if they had never run")
    rewind.add_argument("config", type=Path)
    rewind.add_argument("--to", dest="to", type=date, required=True, metavar="D", help="the last date to keep")
    add_engine(rewind)
    rewind.set_defaults(handler=_rewind)

    retile = commands.add_parser("retile", parents=[common],
                                 help="make the sources' tiles again from D to their last day, taking rows that arrived after the lookback")
    retile.add_argument("config", type=Path)
    retile.add_argument("--from", dest="since", type=date, required=True, metavar="D", help="the first day to tile again")
    add_engine(retile)
    retile.set_defaults(handler=_retile)

    compact = commands.add_parser("compact", parents=[common],
                                  help="purge the deletion vectors that accumulate in the tables and vacuum what retention allows")
    compact.add_argument("config", type=Path)
    compact.add_argument("--threshold", type=share, default=COMPACT_THRESHOLD, metavar="SHARE",
                         help="write a partition again when one of its files has at least this share of its rows masked "
                              f"(0 to 1, default {COMPACT_THRESHOLD})")
    add_engine(compact)
    compact.set_defaults(handler=_compact)

    stream = commands.add_parser("stream", parents=[common],
                                 help="keep the realtime labels of the entities new rows touch up to date (classic Spark), until stopped")
    stream.add_argument("config", type=Path)
    stream.add_argument("--engine", choices=("spark",), default="spark", help="classic Spark: the only engine with Structured Streaming here")
    stream.add_argument("--checkpoint", metavar="DIR", help="the stream's checkpoint (default: <warehouse>/_labelspark_stream)")
    stream.add_argument("--trigger-seconds", type=float, default=1.0, metavar="S", help="start a micro-batch at most every S seconds (default 1)")
    stream.add_argument("--available-now", action="store_true",
                        help="process the rows there are now, then exit 0 (a catch-up from cron instead of a stream that runs all day)")
    stream.set_defaults(handler=_stream)

    unlock = commands.add_parser("unlock", parents=[common], help="clear the run lock of a warehouse whose run is gone, undoing its writes")
    unlock.add_argument("config", type=Path)
    unlock.add_argument("--force", action="store_true",
                        help="clear it even though its holder looks alive (same host: its pid exists; any host: a recent heartbeat)")
    unlock.set_defaults(handler=_unlock)


def share(text: str) -> float:
    """A share of a file's rows: above 0, at most 1."""
    try:
        if 0 < (value := float(text)) <= 1:
            return value
    except ValueError:
        pass
    raise argparse.ArgumentTypeError(f"not a share above 0 and at most 1: {text!r}")


def project_and_day(args):
    """The validated config and the business date (default: yesterday in its timezone). A date
    after today is a typo or a wrong clock, not a business day, unless `--allow-future`."""
    from labelspark.config import load_project
    from labelspark.timeutil import today as today_in, yesterday

    project = load_project(args.config)
    day = args.date or yesterday(project.timezone)
    today = today_in(project.timezone)
    if day > today and not getattr(args, "allow_future", True):
        raise UsageError(f"--date {day} is after today ({today} in {project.timezone}); pass --allow-future if that is meant")
    return project, day


def _run(args) -> int:
    from labelspark.engine.sessions import open_session
    from labelspark.compute.run import compute_to_parquet, run
    from labelspark.site import refresh_after_run

    project, day = project_and_day(args)
    for label_id in args.labels or ():
        project.label(label_id)  # an unknown id: exit 2 naming the closest, before any engine starts
    if args.snapshot_to:
        with open_session(args.engine, args.remote) as spark:
            rows = compute_to_parquet(spark, project, day, args.snapshot_to, only=args.labels)
        print(f"{project.name} {day}: {rows} entities -> {args.snapshot_to}")
        return 0
    with open_session(args.engine, args.remote) as spark:
        result = run(spark, project, day, only=args.labels, publish=not args.no_publish, allow_stale_sources=args.allow_stale_sources,
                     after_success=lambda: refresh_after_run(project), full=args.full)
    published = f", published as {result.index}" if result.index else ""
    print(f"{project.name} {day} (run {result.run_id}): {len(result.labels)} labels computed, "
          f"{len(result.carried)} kept, {result.rows} entities -> {result.warehouse}{published}")
    return 0


def _publish(args) -> int:
    from labelspark.engine.sessions import open_session
    from labelspark.compute.run import publish_date

    project, day = project_and_day(args)
    with open_session(args.engine, args.remote) as spark:
        result = publish_date(spark, project, day)
    print(f"{project.name} {day} (run {result.run_id}): {result.rows} rows published -> {result.index}")
    return 0


def _rewind(args) -> int:
    from labelspark.config import load_project
    from labelspark.engine.sessions import open_session
    from labelspark.compute.run import rewind

    project = load_project(args.config)
    with open_session(args.engine, args.remote) as spark:
        removed = rewind(spark, project, args.to)
    if removed:
        print(f"{project.name}: rewound to {args.to}; removed {len(removed)} dates: {', '.join(map(str, removed))}")
    else:
        print(f"{project.name}: nothing after {args.to} to remove")
    return 0


def _retile(args) -> int:
    from labelspark.config import load_project
    from labelspark.engine.sessions import open_session
    from labelspark.compute.run import retile

    project = load_project(args.config)
    with open_session(args.engine, args.remote) as spark:
        retiled = retile(spark, project, args.since)
    for source, through in retiled.items():
        print(f"{project.name}: source {source} tiled again from {args.since} to {through}")
    if not retiled:
        print(f"{project.name}: no source has tiles under {project.warehouse} yet")
    return 0


def _compact(args) -> int:
    from labelspark.config import load_project
    from labelspark.engine.sessions import open_session
    from labelspark.compute.maintenance import compact

    project = load_project(args.config)
    with open_session(args.engine, args.remote) as spark:
        compacted = compact(spark, project, args.threshold)
    for table in compacted:
        print(f"{project.name}: {table.describe()}")
    if not compacted:
        print(f"{project.name}: no table under {project.warehouse} yet")
    return 0


def _stream(args) -> int:
    from labelspark.config import load_project
    from labelspark.engine.sessions import open_session
    from labelspark.stream.query import stream_labels

    project = load_project(args.config)
    with open_session(args.engine) as spark:
        return stream_labels(spark, project, args.checkpoint, args.trigger_seconds, args.available_now)


def _unlock(args) -> int:
    from labelspark.config import load_project
    from labelspark.compute.job import unlock

    project = load_project(args.config)
    holder = unlock(project, force=args.force)
    print(f"cleared the lock of {holder.describe()}; its writes are undone" if holder else f"{project.warehouse} was not locked")
    return 0
