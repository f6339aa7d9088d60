"""Argument types and options several commands share."""
from __future__ import annotations

import argparse
import datetime as dt

from labelspark.engine.facts import ENGINES


def date(text: str) -> dt.date:
    try:
        return dt.date.fromisoformat(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a date (YYYY-MM-DD): {text!r}") from None


def names(text: str) -> list[str]:
    """Comma-separated ids."""
    return [part.strip() for part in text.split(",") if part.strip()]


def add_engine(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--engine", choices=ENGINES, default="sail")
    parser.add_argument("--remote", help="Spark Connect URL for --engine connect, e.g. sc://host:15002")
