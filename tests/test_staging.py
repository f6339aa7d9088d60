"""The staging area: a frame written once and read back, removed when the run ends, failed or not."""
from __future__ import annotations

import pytest
from pyspark.sql import functions as F

from labelspark.warehouse.staging import STAGING_DIR, staging_area

pytestmark = pytest.mark.portable


def test_a_staged_frame_reads_back_and_the_area_is_removed_after(spark, tmp_path):
    with staging_area(str(tmp_path), "run1") as staging:
        staged = staging.keep(spark.range(5).withColumn("twice", F.col("id") * 2), "indicators")
        assert (tmp_path / STAGING_DIR / "run1" / "indicators").is_dir()
        assert sorted(tuple(r) for r in staged.collect()) == [(i, 2 * i) for i in range(5)]
    assert not (tmp_path / STAGING_DIR / "run1").exists()


def test_the_area_is_removed_when_the_run_fails(spark, tmp_path):
    with pytest.raises(RuntimeError), staging_area(str(tmp_path), "run2") as staging:
        staging.keep(spark.range(3), "indicators")
        raise RuntimeError("the run failed")
    assert not (tmp_path / STAGING_DIR / "run2").exists()
