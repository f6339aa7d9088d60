"""The `labelspark` command: parse arguments, load the config, hand over to the library.

Exit codes, for orchestrators (README, "Exit codes"):
  0    success
  1    failure at run time (bad data, engine, Elasticsearch): the tables are as before; retry a few times
  2    bad config or arguments: retrying changes nothing
  75   the warehouse is busy with another run (EX_TEMPFAIL): retry later
  130  interrupted by SIGINT, 143 by SIGTERM: the tables are as before, the run is recorded failed
       (a signal after the run's point of no return, compute/stop_signals.py, changes nothing: 0)

Each command module declares its commands' arguments and thin handlers that call the library:
`jobs` (run, publish, rewind, compact, unlock: Spark and the warehouse lock), `spark_free` (validate, plan,
stats, history, site, demo, schema: no Spark), `questions` (preview … diff).
"""
from __future__ import annotations

import argparse
import contextlib
import logging
import os
import signal
import sys
import threading
from typing import Iterator

from labelspark.cli import jobs, questions, spark_free
from labelspark.errors import EXIT_FAILURE, ConfigError, Interrupted, LabelsparkError
from labelspark.compute.stop_signals import STOP_SIGNALS, jobs_committed

log = logging.getLogger("labelspark")


def main(argv: list[str] | None = None, ends_the_process: bool | None = None) -> int:
    """Runs one command; `ends_the_process` (default: when `argv` is the process's own, None)
    says the process exits with what this returns, so no late signal may change that code."""
    parser = build_parser()
    args = parser.parse_args(argv)
    args.verbose = getattr(args, "verbose", False)  # `-v` may stand before or after the command
    logging.basicConfig(level=logging.INFO, format="%(asctime)s.%(msecs)03d %(levelname)s %(message)s", datefmt="%H:%M:%S", stream=sys.stderr)
    if args.verbose:
        log.setLevel(logging.DEBUG)
    try:
        with _signals_end_the_process(ends_the_process=argv is None if ends_the_process is None else ends_the_process):
            return args.handler(args) or 0
    except Interrupted as exc:
        print(f"labelspark: {exc}: the tables are as they were, the run is recorded failed", file=sys.stderr)
        _exit_now(exc.exit_code)
    except LabelsparkError as exc:
        if args.verbose and not isinstance(exc, ConfigError):  # a config problem's trace helps no one
            log.exception("failed")
        print(f"labelspark: {exc}", file=sys.stderr)
        return exc.exit_code
    except Exception as exc:  # an engine or storage failure: one line, the trace with --verbose
        known = _engine_error(exc)
        if known is not None:
            print(f"labelspark: {known}", file=sys.stderr)
            return known.exit_code
        if args.verbose:
            log.exception("failed")
        first = (str(exc).strip().splitlines() or [""])[0][:500]
        print(f"labelspark: failed: {type(exc).__name__}: {first}" + ("" if args.verbose else " (--verbose shows the trace)"),
              file=sys.stderr)
        return EXIT_FAILURE


def _engine_error(exc: Exception) -> LabelsparkError | None:
    """An engine's exception that means something labelspark can say better (read only when the
    engine is loaded: commands without Spark never import it)."""
    if "pyspark" not in sys.modules:
        return None
    from labelspark.engine.error_conversion import converted

    return converted(exc)


@contextlib.contextmanager
def _signals_end_the_process(ends_the_process: bool) -> Iterator[None]:
    """Outside a job (which handles SIGINT and SIGTERM itself, undoing its writes) nothing is
    held or half-written: a signal ends the process at once, with 128 + its number, or with 0
    once the command's job passed its point of no return (its run stands: label_runs says
    `succeeded`). Raising KeyboardInterrupt instead could land inside the engine's client and
    hang the way out.

    When the command is the process's own (`ends_the_process`), the signals are ignored after
    it: the exit code is decided, and the interpreter, finalizing without its handlers for a
    while (the engine's runtime stopping), would otherwise die by the signal and lose that code."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    committed_before = jobs_committed()

    def end(signum: int, frame) -> None:
        os._exit(0 if jobs_committed() > committed_before else 128 + signum)

    previous = {signum: signal.signal(signum, end) for signum in STOP_SIGNALS}
    try:
        yield
    finally:
        for signum, handler in previous.items():
            signal.signal(signum, signal.SIG_IGN if ends_the_process else handler)


def _exit_now(code: int) -> None:
    """Leaves without finalizing the interpreter. An interrupted engine may still run a Python
    function on a thread of its own (a UDF finishing its request); finalizing under it aborts
    the process (SIGABRT) and loses the exit code. The job has cleaned up already."""
    logging.shutdown()
    sys.stdout.flush()
    sys.stderr.flush()
    os._exit(code)


def build_parser() -> argparse.ArgumentParser:
    common = argparse.ArgumentParser(add_help=False)  # `-v` before or after the command
    common.add_argument("-v", "--verbose", action="store_true", default=argparse.SUPPRESS, help="debug logging and tracebacks")
    parser = argparse.ArgumentParser(prog="labelspark", description="User-label engine on Spark.", parents=[common])
    commands = parser.add_subparsers(dest="command", required=True)
    for module in (spark_free, jobs, questions):
        module.register(commands, common)
    return parser
