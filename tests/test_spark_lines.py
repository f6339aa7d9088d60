"""What differs between the Spark lines, checked on each: the portable cast gives the same answers on
classic PySpark 3.5 as on this session's engine, PySpark 3.5 refuses the engines it cannot run, and
classic Spark 4 refuses the ES-Hadoop writer, which has no Spark 4 release yet."""
import json
import subprocess
import sys
import textwrap

import pytest

from labelspark.cli.demo import write_demo
from tests.support.cast_table import cast_rows
from tests.support.spark_lines import ROOT, classic_environment, python_of


def in_python(python: str, code: str) -> subprocess.CompletedProcess:
    return subprocess.run([python, "-c", textwrap.dedent(code)], cwd=ROOT, env=classic_environment(),
                          capture_output=True, text=True, timeout=300)


@pytest.mark.portable  # this engine: Sail, or classic 4.x
def test_try_cast_answers_on_pyspark35_as_on_this_engine(spark):
    on_spark35 = in_python(python_of("3.5"), """
        import json
        from pyspark.sql import SparkSession
        from tests.support.cast_table import cast_rows
        spark = SparkSession.builder.master("local[1]").config("spark.sql.ansi.enabled", "true").getOrCreate()
        print(json.dumps(cast_rows(spark)))
    """)
    assert on_spark35.returncode == 0, on_spark35.stderr[-3000:]
    answers = cast_rows(spark)
    assert json.loads(on_spark35.stdout.strip().splitlines()[-1]) == answers
    assert answers[0][0] == "1.5" and answers[1] == [None, None, None, None, None, None, None, None]


def test_pyspark35_refuses_the_sail_engine_naming_its_version(tmp_path):
    config = write_demo(tmp_path)
    refused = subprocess.run([python_of("3.5"), "-m", "labelspark", "run", str(config), "--date", "2026-03-31", "--engine", "sail"],
                             cwd=ROOT, capture_output=True, text=True, timeout=300)
    assert refused.returncode == 1
    assert "--engine sail needs PySpark 4.0 or 4.1; this Python has PySpark 3.5." in refused.stderr
    assert "Traceback" not in refused.stderr


def test_the_es_hadoop_writer_on_classic_spark4_is_a_usage_error():
    chosen = in_python(sys.executable, """
        from types import SimpleNamespace
        from labelspark.engine.sessions import open_session
        from labelspark.errors import UsageError
        from labelspark.publish.publisher import choose_writer
        with open_session("spark") as spark:
            try:
                choose_writer(spark, SimpleNamespace(writer="es-hadoop"), {})
            except UsageError as exc:
                print(exc.exit_code, exc)
    """)
    assert chosen.returncode == 0, chosen.stderr[-3000:]
    assert "2 outputs.elasticsearch.writer: es-hadoop needs Spark 3.x, and this is Spark 4." in chosen.stdout
    assert "ES-Hadoop has no Spark 4 release yet; use writer: python" in chosen.stdout
