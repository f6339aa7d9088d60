"""The six commands as the CLI runs them: arguments in, the answer printed, an exit code out.

`labelspark/cli.py` declares their arguments and hands the parsed namespace to `handle`. The
engine is imported only by `preview` and `explain`, the commands that compute.
"""
from __future__ import annotations

import sys

from labelspark.analytics.output import emit, print_json, show, shown_value
from labelspark.config import load_project


def handle(args) -> int:
    return {"preview": _preview, "explain": _explain, "profile": _profile, "compare": _compare, "audit": _audit,
            "diff": _diff}[args.command](args)


def _preview(args) -> int:
    from labelspark.analytics import preview
    from labelspark.engine.sessions import open_session
    from labelspark.timeutil import yesterday

    project = load_project(args.config)
    day = args.date or yesterday(project.timezone)
    with open_session(args.engine, args.remote) as spark:
        document = preview.preview(spark, project, args.label, day, args.sample, args.top)
    if args.format == "table":
        print(f"{args.label} as the config defines it, on the data of {day}: {document['entities']:,} entities (nothing written)")
    sample = preview.sample_rows(document, project.key)
    tables = [(document["distribution"], preview.COLUMNS, "distribution"),
              (sample, list(sample[0]) if sample else [], "sample (entities with a value)")]
    emit(args.format, document, document["distribution"], preview.COLUMNS, "distribution", args.export, tables)
    return 0


def _explain(args) -> int:
    from labelspark.analytics import explain, trace
    from labelspark.engine.sessions import open_session

    project = load_project(args.config)
    day = args.date or explain.default_day(project)
    with open_session(args.engine, args.remote) as spark:
        document = explain.explain(spark, project, args.label, args.entity, day)
    if args.format == "json":
        print_json(document)
        return 0
    if args.format == "csv":
        emit("csv", document, trace.flattened(document["trace"]), ["depth", "rule", "result", "actual"], "")
        return 0
    if document["in_snapshot"]:
        verdict = "the same" if document["equals_snapshot"] else "DIFFERENT: the definition or the data changed since"
        stored = f"label_snapshot holds {shown_value(document['snapshot_value']) or '(null)'}, {verdict}"
    else:
        stored = "not in label_snapshot on that date"
    print(f"{args.label} of {args.entity} on {day}: {shown_value(document['value']) or '(null)'} ({stored})")
    if document["indicators"]:
        show([{"indicator": name, "value": value} for name, value in document["indicators"].items()], ["indicator", "value"], "indicators")
    trace.print_trace(document["trace"])
    return 0


def _profile(args) -> int:
    from labelspark.analytics import profile

    document = profile.profile(load_project(args.config), args.entity, args.date)
    title = f"{args.entity} on {document['date']}"
    emit(args.format, document, document["labels"], profile.COLUMNS, title, args.export, [(profile.table_rows(document), profile.COLUMNS, title)])
    return 0


def _compare(args) -> int:
    from labelspark.analytics import compare

    if len(args.segment) + args.rest != 2:
        args.usage_error("give --segment twice (A and B), or once with --rest")
    document = compare.compare(load_project(args.config), args.segment[0], None if args.rest else args.segment[1], args.date, args.labels)
    a, b = document["a"], document["b"]
    title = f"A = {a['name']} ({a['entities']:,}) vs B = {b['name']} ({b['entities']:,}) on {document['date']}"
    emit(args.format, document, compare.rows_of(document), compare.COLUMNS, title, args.export)
    if args.chart:
        compare.draw_chart(document, args.chart)
        print(f"wrote {args.chart}", file=sys.stderr if args.format != "table" else sys.stdout)
    return 0


def _audit(args) -> int:
    from labelspark.analytics import audit

    document = audit.audit(load_project(args.config), args.date, args.psi_threshold)
    previous = f" (drift against {document['previous_date']})" if document["previous_date"] else " (no earlier date: no drift)"
    emit(args.format, document, document["labels"], audit.COLUMNS, f"labels on {document['date']}{previous}", args.export)
    raised = sorted({f"{row['label']}: {flag}" for row in document["labels"] for flag in row["flags"] if flag in args.fail_on})
    if raised:
        print(f"labelspark: audit failed on {len(raised)} flag(s): {'; '.join(raised)}", file=sys.stderr)
        return 1
    return 0


def _diff(args) -> int:
    from labelspark.analytics import diff

    document = diff.diff(load_project(args.config), args.start, args.end, args.label, args.top)
    title = f"{document['from']} -> {document['to']}"
    transitions = diff.rows_of(document)
    tables = [(document["labels"], diff.SUMMARY_COLUMNS, title),
              (transitions, diff.TRANSITION_COLUMNS, f"transitions (top {args.top} per label)" if args.top else "transitions")]
    emit(args.format, document, transitions, diff.TRANSITION_COLUMNS, title, args.export, tables)
    return 0
