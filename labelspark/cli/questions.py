"""The questions business users ask of the labels: label test, explain, portraits, group
comparison, governance, drift (`labelspark.analytics`)."""
from __future__ import annotations

import argparse
from pathlib import Path

from labelspark.cli.options import add_engine, date, names


def register(commands, common) -> None:
    def command(name: str, text: str, export: bool = True):
        parser = commands.add_parser(name, parents=[common], help=text)
        parser.add_argument("config", type=Path)
        parser.add_argument("--format", choices=["table", "json", "csv"], default="table", help="a rich table (default), one JSON document, or CSV rows")
        if export:
            parser.add_argument("--export", type=Path, metavar="F.csv", help="also write the rows as CSV")
        parser.set_defaults(handler=_analytics)
        return parser

    preview = command("preview", "label test: compute one label as the config defines it now on a date's data; writes nothing")
    preview.add_argument("--label", required=True)
    preview.add_argument("--date", type=date, help="business date of the data (default: yesterday in the config's timezone)")
    preview.add_argument("--sample", type=int, default=5, metavar="N", help="entities shown with the indicators they read (default 5)")
    preview.add_argument("--top", type=int, default=0, metavar="N", help="only the N most frequent values (default: all)")
    add_engine(preview)

    explain = command("explain", "why an entity has its value: its indicators and the rule trace", export=False)
    explain.add_argument("--label", required=True)
    explain.add_argument("--entity", required=True, metavar="ID")
    explain.add_argument("--date", type=date, help="business date (default: the latest snapshot's)")
    add_engine(explain)

    profile = command("profile", "one entity's labels by group, with the date each value started")
    profile.add_argument("--entity", required=True, metavar="ID")
    profile.add_argument("--date", type=date, help="snapshot date (default: the latest)")

    compare = command("compare", "two groups' label distributions side by side, with lift")
    compare.add_argument("--segment", action="append", required=True, metavar="ID", help="segment A; give it twice for A and B")
    compare.add_argument("--rest", action="store_true", help="compare A with every other entity")
    compare.add_argument("--date", type=date, help="snapshot date (default: the latest)")
    compare.add_argument("--labels", type=names, help="comma-separated label ids (default: every label with categorical values)")
    compare.add_argument("--chart", type=Path, metavar="F.png", help="draw the shares of A and B per label as PNG")
    compare.set_defaults(usage_error=compare.error)

    audit = command("audit", "label governance: coverage, distinct values, top share, staleness, drift (PSI)")
    audit.add_argument("--date", type=date, help="snapshot date (default: the latest)")
    audit.add_argument("--fail-on", type=_flags, default=[], metavar="FLAGS", help="exit 1 when a label raises one of these: empty,constant,stale,drift")
    audit.add_argument("--psi-threshold", type=float, metavar="X", help="PSI from which a label is drifting (default 0.25)")

    diff = command("diff", "entities whose labels changed, entered or left between two dates")
    diff.add_argument("--from", dest="start", type=date, required=True, metavar="D1")
    diff.add_argument("--to", dest="end", type=date, required=True, metavar="D2")
    diff.add_argument("--label", help="only this label")
    diff.add_argument("--top", type=int, default=20, metavar="N", help="the N most frequent transitions per label (0: all; default 20)")


def _flags(text: str) -> list[str]:
    from labelspark.analytics.audit import FLAGS

    flags = [{"drift": "drifting"}.get(flag, flag) for flag in names(text)]
    unknown = [flag for flag in flags if flag not in FLAGS]
    if unknown:
        raise argparse.ArgumentTypeError(f"unknown flag(s) {', '.join(unknown)} (flags: empty, constant, stale, drift)")
    return flags


def _analytics(args) -> int:
    from labelspark.analytics.commands import handle

    return handle(args)
