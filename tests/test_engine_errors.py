"""Engine exceptions read in one place (labelspark.engine.error_conversion): by condition, by message
only where the engine gives none."""
import pytest
from pyspark.errors import AnalysisException

from labelspark.engine.error_conversion import converted, is_missing_table
from labelspark.errors import EngineError, UnsupportedSpark
from labelspark.warehouse.delta import read_table


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


# what the engines sent when delta-spark 4.1.0 read a checkpoint on Spark 4.1.4 (its 10th commit)
CONNECT_LINKAGE = ("<_MultiThreadedRendezvous of RPC that terminated with:\n\tstatus = StatusCode.UNKNOWN\n\tdetails = \"'void "
                   "org.apache.spark.sql.execution.datasources.parquet.ParquetToSparkSchemaConverter.<init>(boolean, boolean, "
                   "boolean, boolean, boolean, boolean, boolean)'\"")
PY4J_LINKAGE = ("An error occurred while calling o1646.count.\n: java.lang.NoSuchMethodError: 'void org.apache.spark.sql."
                "execution.datasources.parquet.ParquetToSparkSchemaConverter.<init>(boolean, boolean, boolean, boolean, boolean, boolean, boolean)'")


@pytest.mark.parametrize("text", [CONNECT_LINKAGE, PY4J_LINKAGE])
def test_a_jar_built_for_another_spark_is_named_as_such_with_exit_2(text):
    error = converted(Exception(text))
    assert isinstance(error, UnsupportedSpark) and error.exit_code == 2
    assert "built for another Spark release" in str(error) and "ParquetToSparkSchemaConverter.<init>" in str(error)
    assert "labelspark/engine/jars.txt" in str(error)
    assert converted(Exception("column 'void' is not a method")) is None
