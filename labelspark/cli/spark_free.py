"""Commands that need no Spark (validate, plan, stats, history, site, demo, schema): they read
the config, or the tables with delta-rs."""
from __future__ import annotations

import sys
from pathlib import Path

from labelspark.cli.jobs import project_and_day
from labelspark.cli.options import date


def register(commands, common) -> None:
    validate = commands.add_parser("validate", parents=[common], help="check a config; print every problem with its location")
    validate.add_argument("config", type=Path)
    validate.set_defaults(handler=_validate)

    plan = commands.add_parser("plan", parents=[common], help="labels due on a date, grouped by the source passes that compute them")
    plan.add_argument("config", type=Path)
    plan.add_argument("--date", type=date, help="business date (default: yesterday in the config's timezone)")
    plan.set_defaults(handler=_plan)

    stats = commands.add_parser("stats", parents=[common], help="value distribution of one label (reads the Delta tables, no Spark)")
    stats.add_argument("config", type=Path)
    stats.add_argument("--label", required=True)
    stats.add_argument("--date", type=date, help="snapshot date (default: the latest with stats)")
    stats.add_argument("--top", type=int, help="only the N most frequent values")
    stats.add_argument("--export", type=Path, metavar="F.csv", help="write the rows as CSV")
    stats.add_argument("--chart", type=Path, metavar="F.png", help="draw the distribution as PNG")
    stats.add_argument("--chart-type", choices=["bar", "column", "donut"], default="bar")
    stats.set_defaults(handler=_stats)

    history = commands.add_parser("history", parents=[common], help="how a label's values changed over time (reads the Delta tables)")
    history.add_argument("config", type=Path)
    history.add_argument("--label", required=True)
    history.add_argument("--value", help="only this value (as shown by `stats`)")
    history.add_argument("--from", dest="start", type=date, metavar="D1")
    history.add_argument("--to", dest="end", type=date, metavar="D2")
    history.add_argument("--export", type=Path, metavar="F.csv", help="write the rows as CSV")
    history.add_argument("--intraday", action="store_true",
                         help="the real-time stream's changes instead (label_updates): per date and value, entered and left")
    history.set_defaults(handler=_history)

    site = commands.add_parser("site", parents=[common], help="write the label portal: a static site of the tables (reads them with delta-rs)")
    site.add_argument("config", type=Path)
    site.add_argument("--out", type=Path, metavar="DIR", help="where to write the site (default: outputs.site of the config)")
    site.add_argument("--date", type=date, help="the last date shown (default: the latest with stats)")
    site.add_argument("--days", type=int, default=90, metavar="N", help="dates of history shown, ending with --date (default 90)")
    site.set_defaults(handler=_site)

    demo = commands.add_parser("demo", parents=[common], help="write a small example project into DIR")
    demo.add_argument("directory", type=Path)
    demo.add_argument("--force", action="store_true", help="write into DIR even if it holds files (the demo's own are overwritten)")
    demo.set_defaults(handler=_demo)

    schema = commands.add_parser("schema", parents=[common], help="print the config's JSON Schema (editors: # yaml-language-server: $schema=FILE)")
    schema.set_defaults(handler=_schema)


def _validate(args) -> int:
    from labelspark.config import load_project

    project = load_project(args.config)
    print(f"{args.config}: ok ({len(project.sources)} sources, {len(project.indicators)} indicators, "
          f"{len(project.labels)} labels, {len(project.segments)} segments)")
    return 0


def _plan(args) -> int:
    from labelspark.analytics.scans import snapshot_label_columns
    from labelspark.compute.plan import make_plan
    from labelspark.warehouse.names import RUNS_TABLE, table_path
    from labelspark.warehouse.runs import labels_computed_before

    project, day = project_and_day(args)
    computed = snapshot_label_columns(project)
    computed_before = labels_computed_before(table_path(project.warehouse, RUNS_TABLE), day) if computed else None
    if computed_before is not None:  # as `run` sees it: labels some date before D computed
        computed &= computed_before
    plan = make_plan(project, day, computed=computed)
    print(f"{project.name} on {day}: {len(plan.due)} labels due, {len(plan.carried)} kept from the last snapshot")
    if computed is None:
        print("  (the warehouse is not local: labels never computed are shown by schedule only)")
    for i, source_pass in enumerate(plan.passes, 1):
        how = f"full pass: {source_pass.full_pass_because}" if source_pass.full_pass_because else _tiles_of(project, source_pass.source)
        print(f"  pass {i}: source {source_pass.source} ({how})")
        print(f"    indicators: {', '.join(source_pass.indicators) or '-'}")
        print(f"    labels:     {', '.join(source_pass.labels) or '-'}")
    if plan.cross_source:
        print(f"  across sources (after the passes are joined): {', '.join(plan.cross_source)}")
    if plan.imports:
        print(f"  imported from files: {', '.join(plan.imports)}")
    if plan.carried:
        print(f"  not due (kept): {', '.join(label.id for label in plan.carried)}")
    return 0


def _tiles_of(project, source: str) -> str:
    """How an incremental source's pass runs: from its tiles, or by the full pass until it has them."""
    from labelspark.warehouse.deltars import is_local
    from labelspark.warehouse.names import Tables
    from labelspark.warehouse.tile_manifest import tiled

    through = tiled(Tables(project.warehouse).tile_manifest, source).through if is_local(project.warehouse) else None
    if through is not None:
        return f"incremental: merged from its tiles, tiled through {through}"
    return f"incremental: tiled by the first run with {project.sources[source].tiles_from_rows} rows or more, full pass until then"


def _stats(args) -> int:
    from labelspark.warehouse import readers
    from labelspark.warehouse.names import DATE
    from labelspark.config import load_project

    project = load_project(args.config)
    day, rows = readers.stats_rows(project, args.label, args.date, args.top)
    readers.print_table(rows, readers.STATS_COLUMNS, f"{args.label} on {day}")
    if args.export:
        readers.write_csv(rows, args.export, ["label_id", DATE, *readers.STATS_COLUMNS])
        print(f"wrote {args.export}")
    if args.chart:
        readers.draw_chart(rows, args.chart, args.chart_type, f"{args.label} on {day}",
                          list_label=project.label(args.label).type == "list")
        print(f"wrote {args.chart}")
    return 0


def _history(args) -> int:
    from labelspark.warehouse import readers
    from labelspark.config import load_project

    project = load_project(args.config)
    if args.intraday:
        rows, columns, title = readers.intraday_rows(project, args.label, args.value, args.start, args.end), readers.INTRADAY_COLUMNS, "during the day"
    else:
        rows, columns, title = readers.history_rows(project, args.label, args.value, args.start, args.end), readers.HISTORY_COLUMNS, "over time"
    readers.print_table(rows, columns, f"{args.label} {title}")
    if args.export:
        readers.write_csv(rows, args.export, columns)
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


def _demo(args) -> int:
    from labelspark.cli.demo import write_demo

    config = write_demo(args.directory, force=args.force)
    print(f"demo project written: {config}\nnext: cd {args.directory} && labelspark run {config.name} --date 2026-03-31")
    return 0


def _schema(args) -> int:
    from labelspark.config.schema import schema_text

    sys.stdout.write(schema_text())
    return 0
