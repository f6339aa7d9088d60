#!/usr/bin/env bash
# The whole test suite: the jars of classic Spark fetched once with Maven (scripts/fetch-jars.sh),
# every test on the embedded Sail engine (the `cluster` ones start a local Spark standalone
# cluster; those comparing engines run classic Spark with Delta in processes of their own), then
# the engine-portable tests again on classic local PySpark, then the benchmark at a tiny scale
# as a smoke test (it fails if any engine's labels differ from DuckDB's; its timings mean
# nothing at that size). Extra arguments go to pytest and skip the smoke test.
set -euo pipefail
cd "$(dirname "$0")/.."
export PYTHONWARNINGS="${PYTHONWARNINGS:-ignore::FutureWarning}"

run_pytest() {  # pytest exits 5 when a selection holds no test: say so instead of failing obscurely
  local status=0
  python -m pytest "$@" || status=$?
  if [[ $status -eq 5 ]]; then echo "no tests selected by: pytest $*" >&2; return 0; fi
  return $status
}

if command -v mvn >/dev/null 2>&1; then
  echo "== jars of classic Spark (Delta Lake) from Maven Central"
  PYTHON=python scripts/fetch-jars.sh
else
  echo "== no mvn: classic Spark resolves the Delta jars itself (spark.jars.packages)"
fi
echo "== tests on sail (embedded Spark Connect, no JVM)"
LABELSPARK_TEST_ENGINE=sail run_pytest "$@"
echo "== portable tests on classic Spark (local[*])"
LABELSPARK_TEST_ENGINE=spark run_pytest -m portable "$@"
if [[ $# -eq 0 ]]; then
  echo "== benchmark smoke test (tiny scale: checks it runs and agrees with DuckDB, times nothing)"
  bench_dir="$(mktemp -d)"
  trap 'rm -rf "$bench_dir"' EXIT
  python benchmarks/bench.py --users 2000 --orders-per-user 5 --scaling --work-dir "$bench_dir"
fi
