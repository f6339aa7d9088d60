#!/usr/bin/env bash
# The whole test suite. First the real parts the tests run against, each made once and kept
# (idempotent): the jars of classic Spark fetched with Maven (scripts/fetch-jars.sh), a
# virtualenv of the Spark 3.5 line (scripts/spark-line.sh), real Apache Airflow installs
# (scripts/airflow-venv.sh) and the jars of the Elasticsearch and OpenSearch nodes
# (scripts/search-node.sh fetch). Then every test on the embedded Sail engine (the `cluster`
# ones start local Spark standalone clusters of both lines, the `search` ones real search nodes,
# the database ones a PostgreSQL on loopback; those comparing engines run classic Spark with
# Delta in processes of their own), then
# the engine-portable tests again on classic local PySpark, then the benchmark at a tiny scale
# as a smoke test (it fails if any engine's labels differ from DuckDB's; its timings mean
# nothing at that size), and its cluster mode likewise (labelspark's tables against a
# hand-written Spark job's on a local standalone cluster). Extra arguments go to pytest and skip the smoke test.
set -euo pipefail
cd "$(dirname "$0")/.."
export PYTHONWARNINGS="${PYTHONWARNINGS:-ignore::FutureWarning}"

run_pytest() {  # pytest exits 5 when a selection holds no test: say so instead of failing obscurely
  local status=0
  python -m pytest "$@" || status=$?
  if [[ $status -eq 5 ]]; then echo "no tests selected by: pytest $*" >&2; return 0; fi
  return $status
}

# the real parts, made in two jobs side by side (downloads, mostly): Maven's steps one after the
# other (they share ~/.m2), Airflow's pip install beside them; a failed job's output is shown
prepare() {  # prepare NAME COMMAND...: runs COMMAND in the background, its output in $logs/NAME
  "${@:2}" >"$logs/$1" 2>&1 &
  jobs_started+=("$!:$1")
}
logs="$(mktemp -d)"
jobs_started=()
echo "== the real parts the tests run against (jars, the Spark 3.5 line, Airflow, search nodes)"
if command -v mvn >/dev/null 2>&1; then
  prepare spark bash -c 'PYTHON=python scripts/fetch-jars.sh && scripts/spark-line.sh &&
    scripts/search-node.sh fetch elasticsearch && scripts/search-node.sh fetch opensearch'
else
  echo "no mvn: classic Spark resolves the Delta jars itself (spark.jars.packages); the search tests skip"
  prepare spark bash -c 'scripts/spark-line.sh'
fi
prepare airflow scripts/airflow-venv.sh
for job in "${jobs_started[@]}"; do
  if ! wait "${job%%:*}"; then
    echo "preparing ${job#*:} failed:" >&2; cat "$logs/${job#*:}" >&2; exit 1
  fi
done
rm -rf "$logs"
echo "== tests on sail (embedded Spark Connect, no JVM)"
LABELSPARK_TEST_ENGINE=sail run_pytest --durations=25 "$@"
echo "== portable tests on classic Spark (local[*])"
LABELSPARK_TEST_ENGINE=spark run_pytest -m portable "$@"
if [[ $# -eq 0 ]]; then
  echo "== benchmark smoke test (tiny scale: checks it runs and agrees with DuckDB, times nothing)"
  bench_dir="$(mktemp -d)"
  trap 'rm -rf "$bench_dir"' EXIT
  python benchmarks/bench.py --users 2000 --orders-per-user 5 --scaling 20 200 200same --work-dir "$bench_dir"
  echo "== cluster benchmark smoke test (labelspark and the hand-written Spark job on a local standalone cluster agree)"
  # 23 labels: every template once; the cluster is started and stopped unless one runs already
  python benchmarks/bench.py --cluster --users 2000 --orders-per-user 5 --labels 23 --work-dir "$bench_dir"
fi
