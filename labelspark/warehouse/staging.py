"""Intermediate results written once and read back, for plans that read them more than once.

Distribution tiers read the indicator frame twice (its quantiles, then each entity's tier).
Without a materialised copy every engine without a working cache recomputes the whole
source pass for the second read (Sail's `cache()` is a no-op). The staging area lives
under the output root and is removed when the run ends, failed or not.
"""
from __future__ import annotations

import contextlib
import shutil
from pathlib import Path
from typing import Iterator

from pyarrow import fs as pafs
from pyspark.sql import DataFrame

from labelspark.warehouse.deltars import is_local, local_path

STAGING_DIR = "_staging"


class Staging:
    def __init__(self, root: str):
        self.root = root

    def keep(self, df: DataFrame, name: str) -> DataFrame:
        """`df` written as parquet and read back: later reads scan the copy, not the lineage."""
        path = f"{self.root}/{name}"
        df.write.mode("overwrite").parquet(path)
        if not _exists(path):  # Sail writes no file at all for no rows (an import file with none)
            return df.sparkSession.createDataFrame([], df.schema)
        return df.sparkSession.read.parquet(path)


@contextlib.contextmanager
def staging_area(base: str, run_id: str) -> Iterator[Staging]:
    root = f"{base.rstrip('/')}/{STAGING_DIR}/{run_id}"
    try:
        yield Staging(root)
    finally:
        _remove(root)


def _exists(path: str) -> bool:
    if is_local(path):
        return Path(local_path(path)).exists()
    filesystem, inner = pafs.FileSystem.from_uri(path)
    return filesystem.get_file_info(inner).type != pafs.FileType.NotFound


def _remove(root: str) -> None:
    if is_local(root):
        shutil.rmtree(Path(local_path(root)), ignore_errors=True)
        return
    filesystem, path = pafs.FileSystem.from_uri(root)
    with contextlib.suppress(FileNotFoundError, OSError):
        filesystem.delete_dir(path)
