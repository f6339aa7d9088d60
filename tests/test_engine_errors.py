"""Engine exceptions read in one place (labelspark.engine_errors): by condition, by message
only where the engine gives none."""
import pytest
from pyspark.errors import AnalysisException

from labelspark.engine_errors import converted, is_missing_table
from labelspark.errors import EngineError
from labelspark.storage.delta import read_table


@pytest.mark.portable
def test_a_path_without_a_delta_table_reads_as_no_table(spark, tmp_path):
    assert read_table(spark, str(tmp_path / "nothing_here")) is None
    spark.range(3).write.parquet(str(tmp_path / "plain_parquet"))
    assert read_table(spark, str(tmp_path / "plain_parquet")) is None


def test_a_session_without_delta_is_told_how_to_get_it():
    classic = AnalysisException(message="[DATA_SOURCE_NOT_FOUND] Failed to find the data source: delta.",
                                errorClass="DATA_SOURCE_NOT_FOUND", messageParameters={"provider": "delta"})
    error = converted(classic)
    assert isinstance(error, EngineError) and "scripts/fetch-jars.sh" in str(error)
    assert converted(AnalysisException(message="[DATA_SOURCE_NOT_FOUND] Failed to find the data source: delta.")) is not None


def test_conditions_decide_before_messages():
    unrelated = AnalysisException(message="column `does not exist` is ambiguous", errorClass="AMBIGUOUS_REFERENCE",
                                  messageParameters={"name": "x", "referenceNames": "[]"})
    assert not is_missing_table(unrelated)  # its text says "does not exist", its condition says otherwise
    assert converted(unrelated) is None
    assert is_missing_table(AnalysisException(message="Invalid table location: No commit files found in _delta_log"))
