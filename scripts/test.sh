#!/usr/bin/env bash
# The whole test suite: every test on the embedded Sail engine, then the engine-portable
# tests again on classic local PySpark (a JVM, no Delta jars). Extra arguments go to pytest.
set -euo pipefail
cd "$(dirname "$0")/.."
export PYTHONWARNINGS="${PYTHONWARNINGS:-ignore::FutureWarning}"
echo "== tests on sail (embedded Spark Connect, no JVM)"
LABELSPARK_TEST_ENGINE=sail python -m pytest "$@"
echo "== portable tests on classic Spark (local[*])"
LABELSPARK_TEST_ENGINE=spark python -m pytest -m portable "$@"
