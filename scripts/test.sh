#!/usr/bin/env bash
# The whole test suite: every test on the embedded Sail engine, then the engine-portable
# tests again on classic local PySpark (a JVM, no Delta jars). Extra arguments go to pytest.
set -euo pipefail
cd "$(dirname "$0")/.."
export PYTHONWARNINGS="${PYTHONWARNINGS:-ignore::FutureWarning}"

run_pytest() {  # pytest exits 5 when a selection holds no test: say so instead of failing obscurely
  local status=0
  python -m pytest "$@" || status=$?
  if [[ $status -eq 5 ]]; then echo "no tests selected by: pytest $*" >&2; return 0; fi
  return $status
}

echo "== tests on sail (embedded Spark Connect, no JVM)"
LABELSPARK_TEST_ENGINE=sail run_pytest "$@"
echo "== portable tests on classic Spark (local[*])"
LABELSPARK_TEST_ENGINE=spark run_pytest -m portable "$@"
