"""The `labelspark` command: parse arguments, load the config, hand over to the library.

Exit codes: 0 success, 2 bad config or arguments, 1 failure at run time.
"""
from __future__ import annotations

import argparse
import datetime as dt
import logging
import sys
from pathlib import Path

from labelspark.errors import ConfigError, LabelsparkError

log = logging.getLogger("labelspark")


def main(argv: list[str] | None = None) -> int:
    parser = _parser()
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s.%(msecs)03d %(levelname)s %(message)s", datefmt="%H:%M:%S", stream=sys.stderr)
    if args.verbose:
        log.setLevel(logging.DEBUG)
    try:
        return args.handler(args) or 0
    except LabelsparkError as exc:
        if args.verbose and not isinstance(exc, ConfigError):  # a config problem's trace helps no one
            log.exception("failed")
        print(f"labelspark: {exc}", file=sys.stderr)
        return exc.exit_code
    except Exception as exc:  # an engine or storage failure: one line, the trace with --verbose
        if args.verbose:
            log.exception("failed")
        first = (str(exc).strip().splitlines() or [""])[0][:500]
        print(f"labelspark: failed: {type(exc).__name__}: {first}" + ("" if args.verbose else " (--verbose shows the trace)"),
              file=sys.stderr)
        return 1


def _date(text: str) -> dt.date:
    try:
        return dt.date.fromisoformat(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a date (YYYY-MM-DD): {text!r}") from None


def _labels(text: str) -> list[str]:
    return [part.strip() for part in text.split(",") if part.strip()]


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="labelspark", description="User-label engine on Spark.")
    parser.add_argument("-v", "--verbose", action="store_true", help="debug logging and tracebacks")
    commands = parser.add_subparsers(dest="command", required=True)

    validate = commands.add_parser("validate", help="check a config; print every problem with its location")
    validate.add_argument("config", type=Path)
    validate.set_defaults(handler=_validate)

    plan = commands.add_parser("plan", help="labels due on a date, grouped by the source passes that compute them")
    plan.add_argument("config", type=Path)
    plan.add_argument("--date", type=_date, help="business date (default: yesterday in the config's timezone)")
    plan.set_defaults(handler=_plan)

    run = commands.add_parser("run", help="compute the labels due on a date and write the snapshot")
    run.add_argument("config", type=Path)
    run.add_argument("--date", type=_date, help="business date (default: yesterday in the config's timezone)")
    run.add_argument("--labels", type=_labels, help="comma-separated label ids: compute only these")
    run.add_argument("--engine", choices=["sail", "spark", "connect"], default="sail")
    run.add_argument("--remote", help="Spark Connect URL for --engine connect, e.g. sc://host:15002")
    run.add_argument("--no-publish", action="store_true", help="skip Elasticsearch and the callback")
    run.add_argument("--snapshot-to", metavar="DIR",
                     help="compute every enabled label and write only the snapshot as parquet under DIR "
                          "(no Delta Lake needed: trials, benchmarks); nothing else is written or published")
    run.set_defaults(handler=_run)

    publish = commands.add_parser("publish", help="(re)publish the snapshot of a date to Elasticsearch")
    publish.add_argument("config", type=Path)
    publish.add_argument("--date", type=_date, help="snapshot date (default: yesterday in the config's timezone)")
    publish.add_argument("--engine", choices=["sail", "spark", "connect"], default="sail")
    publish.add_argument("--remote", help="Spark Connect URL for --engine connect, e.g. sc://host:15002")
    publish.set_defaults(handler=_publish)

    stats = commands.add_parser("stats", help="value distribution of one label (reads the Delta tables, no Spark)")
    stats.add_argument("config", type=Path)
    stats.add_argument("--label", required=True)
    stats.add_argument("--date", type=_date, help="snapshot date (default: the latest with stats)")
    stats.add_argument("--top", type=int, help="only the N most frequent values")
    stats.add_argument("--export", type=Path, metavar="F.csv", help="write the rows as CSV")
    stats.add_argument("--chart", type=Path, metavar="F.png", help="draw the distribution as PNG")
    stats.add_argument("--chart-type", choices=["bar", "column", "donut"], default="bar")
    stats.set_defaults(handler=_stats)

    history = commands.add_parser("history", help="how a label's values changed over time (reads the Delta tables)")
    history.add_argument("config", type=Path)
    history.add_argument("--label", required=True)
    history.add_argument("--value", help="only this value (as shown by `stats`)")
    history.add_argument("--from", dest="start", type=_date, metavar="D1")
    history.add_argument("--to", dest="end", type=_date, metavar="D2")
    history.add_argument("--export", type=Path, metavar="F.csv", help="write the rows as CSV")
    history.set_defaults(handler=_history)

    site = commands.add_parser("site", help="write the label portal: a static site of the tables (reads them with delta-rs)")
    site.add_argument("config", type=Path)
    site.add_argument("--out", type=Path, metavar="DIR", help="where to write the site (default: outputs.site of the config)")
    site.add_argument("--date", type=_date, help="the last date shown (default: the latest with stats)")
    site.add_argument("--days", type=int, default=90, metavar="N", help="dates of history shown, ending with --date (default 90)")
    site.set_defaults(handler=_site)

    rewind = commands.add_parser("rewind", help="undo every date after D in every table, as if they had never run")
    rewind.add_argument("config", type=Path)
    rewind.add_argument("--to", dest="to", type=_date, required=True, metavar="D", help="the last date to keep")
    rewind.add_argument("--engine", choices=["sail", "spark", "connect"], default="sail")
    rewind.add_argument("--remote", help="Spark Connect URL for --engine connect, e.g. sc://host:15002")
    rewind.set_defaults(handler=_rewind)

    unlock = commands.add_parser("unlock", help="clear the run lock of a warehouse whose run is gone")
    unlock.add_argument("config", type=Path)
    unlock.set_defaults(handler=_unlock)

    demo = commands.add_parser("demo", help="write a small example project into DIR")
    demo.add_argument("directory", type=Path)
    demo.add_argument("--force", action="store_true", help="write into DIR even if it holds files (the demo's own are overwritten)")
    demo.set_defaults(handler=_demo)

    schema = commands.add_parser("schema", help="print the config's JSON Schema (editors: # yaml-language-server: $schema=FILE)")
    schema.set_defaults(handler=_schema)
    _add_analytics(commands)
    return parser


def _validate(args) -> int:
    from labelspark.config import load_project

    project = load_project(args.config)
    print(f"{args.config}: ok ({len(project.sources)} sources, {len(project.indicators)} indicators, "
          f"{len(project.labels)} labels, {len(project.segments)} segments)")
    return 0


def _project_and_day(args):
    """The validated config and the business date (default: yesterday in its timezone)."""
    from labelspark.config import load_project
    from labelspark.timeutil import yesterday

    project = load_project(args.config)
    return project, args.date or yesterday(project.timezone)


def _plan(args) -> int:
    from labelspark.plan import make_plan
    from labelspark.storage.snapshot import local_snapshot_columns

    project, day = _project_and_day(args)
    computed = local_snapshot_columns(project)
    plan = make_plan(project, day, computed=computed)
    print(f"{project.name} on {day}: {len(plan.due)} labels due, {len(plan.carried)} kept from the last snapshot")
    if computed is None:
        print("  (the warehouse is not local: labels never computed are shown by schedule only)")
    for i, source_pass in enumerate(plan.passes, 1):
        print(f"  pass {i}: source {source_pass.source}")
        print(f"    indicators: {', '.join(source_pass.indicators) or '-'}")
        print(f"    labels:     {', '.join(source_pass.labels) or '-'}")
    if plan.cross_source:
        print(f"  across sources (after the passes are joined): {', '.join(plan.cross_source)}")
    if plan.imports:
        print(f"  imported from files: {', '.join(plan.imports)}")
    if plan.carried:
        print(f"  not due (kept): {', '.join(label.id for label in plan.carried)}")
    return 0


def _run(args) -> int:
    from labelspark.engines import open_session
    from labelspark.pipeline import compute_to_parquet, run

    project, day = _project_and_day(args)
    if args.snapshot_to:
        with open_session(args.engine, args.remote) as spark:
            rows = compute_to_parquet(spark, project, day, args.snapshot_to, only=args.labels)
        print(f"{project.name} {day}: {rows} entities -> {args.snapshot_to}")
        return 0
    with open_session(args.engine, args.remote) as spark:
        result = run(spark, project, day, only=args.labels, publish=not args.no_publish)
    published = f", published as {result.index}" if result.index else ""
    print(f"{project.name} {day} (run {result.run_id}): {len(result.labels)} labels computed, "
          f"{len(result.carried)} kept, {result.rows} entities -> {result.warehouse}{published}")
    return 0


def _publish(args) -> int:
    from labelspark.engines import open_session
    from labelspark.pipeline import publish_date

    project, day = _project_and_day(args)
    with open_session(args.engine, args.remote) as spark:
        result = publish_date(spark, project, day)
    print(f"{project.name} {day} (run {result.run_id}): {result.rows} documents, alias "
          f"{project.outputs.elasticsearch.alias} -> {result.index}")
    return 0


def _rewind(args) -> int:
    from labelspark.config import load_project
    from labelspark.engines import open_session
    from labelspark.pipeline import rewind

    project = load_project(args.config)
    with open_session(args.engine, args.remote) as spark:
        removed = rewind(spark, project, args.to)
    if removed:
        print(f"{project.name}: rewound to {args.to}; removed {len(removed)} dates: {', '.join(map(str, removed))}")
    else:
        print(f"{project.name}: nothing after {args.to} to remove")
    return 0


def _reported_label(project, label_id: str) -> None:
    from labelspark.errors import ConfigError, Problem

    if label_id not in {label.id for label in project.labels}:
        known = ", ".join(label.id for label in project.labels)
        raise ConfigError(project.file, [Problem("labels", f"--label names '{label_id}', which is no label (labels: {known})")])


def _stats(args) -> int:
    from labelspark import report
    from labelspark.config import load_project

    project = load_project(args.config)
    _reported_label(project, args.label)
    day, rows = report.stats_rows(project, args.label, args.date, args.top)
    report.print_table(rows, report.STATS_COLUMNS, f"{args.label} on {day}")
    if args.export:
        report.write_csv(rows, args.export, ["label_id", "snapshot_date", *report.STATS_COLUMNS])
        print(f"wrote {args.export}")
    if args.chart:
        report.draw_chart(rows, args.chart, args.chart_type, f"{args.label} on {day}",
                          list_label=project.label(args.label).type == "list")
        print(f"wrote {args.chart}")
    return 0


def _history(args) -> int:
    from labelspark import report
    from labelspark.config import load_project

    project = load_project(args.config)
    _reported_label(project, args.label)
    rows = report.history_rows(project, args.label, args.value, args.start, args.end)
    report.print_table(rows, report.HISTORY_COLUMNS, f"{args.label} over time")
    if args.export:
        report.write_csv(rows, args.export, report.HISTORY_COLUMNS)
        print(f"wrote {args.export}")
    return 0


def _site(args) -> int:
    from labelspark.config import load_project
    from labelspark.site import SiteError, build_site

    project = load_project(args.config)
    out = args.out or (Path(project.resolve_path(project.outputs.site)) if project.outputs.site else None)
    if out is None:
        raise SiteError("where to? give --out DIR, or `site: DIR` under `outputs` in the config")
    built = build_site(project, out, args.date, args.days)
    print(f"{project.name}: label portal of {built.first_date} .. {built.last_date} -> {built.directory} "
          f"({built.pages} pages, {built.bytes / 1e6:.1f} MB); open {built.directory / 'index.html'}")
    return 0


def _unlock(args) -> int:
    from labelspark.config import load_project
    from labelspark.storage.lock import clear_lock
    from labelspark.storage.rollback import Checkpoint

    project = load_project(args.config)
    holder, versions = clear_lock(project.warehouse)
    if versions:  # the run died mid-way: its writes are undone, as a run taking over would
        Checkpoint(versions).restore()
    print(f"cleared the lock of {holder.describe()}" if holder else f"{project.warehouse} was not locked")
    return 0


def _demo(args) -> int:
    from labelspark.demo import write_demo

    config = write_demo(args.directory, force=args.force)
    print(f"demo project written: {config}\nnext: cd {args.directory} && labelspark run {config.name} --date 2026-03-31")
    return 0


def _schema(args) -> int:
    from labelspark.config.schema import schema_text

    sys.stdout.write(schema_text())
    return 0


# -- analytics: label test, explain, portraits, group comparison, governance, drift ---------------


def _add_analytics(commands) -> None:
    def command(name: str, text: str, export: bool = True):
        parser = commands.add_parser(name, help=text)
        parser.add_argument("config", type=Path)
        parser.add_argument("--format", choices=["table", "json", "csv"], default="table", help="a rich table (default), one JSON document, or CSV rows")
        if export:
            parser.add_argument("--export", type=Path, metavar="F.csv", help="also write the rows as CSV")
        parser.set_defaults(handler=_analytics)
        return parser

    def engine(parser) -> None:
        parser.add_argument("--engine", choices=["sail", "spark", "connect"], default="sail")
        parser.add_argument("--remote", help="Spark Connect URL for --engine connect, e.g. sc://host:15002")

    preview = command("preview", "label test: compute one label as the config defines it now on a date's data; writes nothing")
    preview.add_argument("--label", required=True)
    preview.add_argument("--date", type=_date, help="business date of the data (default: yesterday in the config's timezone)")
    preview.add_argument("--sample", type=int, default=5, metavar="N", help="entities shown with the indicators they read (default 5)")
    preview.add_argument("--top", type=int, default=0, metavar="N", help="only the N most frequent values (default: all)")
    engine(preview)

    explain = command("explain", "why an entity has its value: its indicators and the rule trace", export=False)
    explain.add_argument("--label", required=True)
    explain.add_argument("--entity", required=True, metavar="ID")
    explain.add_argument("--date", type=_date, help="business date (default: the latest snapshot's)")
    engine(explain)

    profile = command("profile", "one entity's labels by group, with the date each value started")
    profile.add_argument("--entity", required=True, metavar="ID")
    profile.add_argument("--date", type=_date, help="snapshot date (default: the latest)")

    compare = command("compare", "two groups' label distributions side by side, with lift")
    compare.add_argument("--segment", action="append", required=True, metavar="ID", help="segment A; give it twice for A and B")
    compare.add_argument("--rest", action="store_true", help="compare A with every other entity")
    compare.add_argument("--date", type=_date, help="snapshot date (default: the latest)")
    compare.add_argument("--labels", type=_labels, help="comma-separated label ids (default: every label with categorical values)")
    compare.add_argument("--chart", type=Path, metavar="F.png", help="draw the shares of A and B per label as PNG")
    compare.set_defaults(usage_error=compare.error)

    audit = command("audit", "label governance: coverage, distinct values, top share, staleness, drift (PSI)")
    audit.add_argument("--date", type=_date, help="snapshot date (default: the latest)")
    audit.add_argument("--fail-on", type=_flags, default=[], metavar="FLAGS", help="exit 1 when a label raises one of these: empty,constant,stale,drift")
    audit.add_argument("--psi-threshold", type=float, metavar="X", help="PSI from which a label is drifting (default 0.25)")

    diff = command("diff", "entities whose labels changed, entered or left between two dates")
    diff.add_argument("--from", dest="start", type=_date, required=True, metavar="D1")
    diff.add_argument("--to", dest="end", type=_date, required=True, metavar="D2")
    diff.add_argument("--label", help="only this label")
    diff.add_argument("--top", type=int, default=20, metavar="N", help="the N most frequent transitions per label (0: all; default 20)")


def _flags(text: str) -> list[str]:
    from labelspark.analytics.audit import FLAGS

    flags = [{"drift": "drifting"}.get(flag, flag) for flag in _labels(text)]
    unknown = [flag for flag in flags if flag not in FLAGS]
    if unknown:
        raise argparse.ArgumentTypeError(f"unknown flag(s) {', '.join(unknown)} (flags: empty, constant, stale, drift)")
    return flags


def _analytics(args) -> int:
    from labelspark.analytics.commands import handle

    return handle(args)


if __name__ == "__main__":
    sys.exit(main())
