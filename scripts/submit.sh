#!/usr/bin/env bash
# Submits a labelspark job to a Spark cluster with Delta Lake and ES-Hadoop.
#
#   scripts/submit.sh [--dry-run] JOB.py CONFIG.yaml [job arguments...]
#   scripts/submit.sh jobs/compute_labels.py conf/retail_members.yaml --date 2026-03-02
#
# Builds dist/labelspark.zip (the package, for --py-files; rebuilt when a source changes),
# then runs spark-submit with the Delta and ES-Hadoop packages, the Delta extensions,
# speculation off, adaptive execution on, and the settings of $LABELSPARK_SPARK_CONF.
# --dry-run prints the command instead of running it.
#
# Environment (defaults in brackets):
#   SPARK_SUBMIT              spark-submit binary [spark-submit]
#   SPARK_MASTER              --master [yarn]
#   SPARK_DEPLOY_MODE         --deploy-mode [client]; in cluster mode the config is shipped with --files
#   SPARK_DRIVER_MEMORY       [4g]
#   SPARK_EXECUTOR_MEMORY     [8g]
#   SPARK_EXECUTOR_CORES      [4]
#   SPARK_NUM_EXECUTORS       [unset: dynamic allocation from the conf file]
#   LABELSPARK_SPARK_VERSION  Spark version the packages must match [from spark-submit --version]
#   LABELSPARK_DELTA_PACKAGE  [io.delta:delta-spark_2.13:<matching Spark>]
#   LABELSPARK_ES_PACKAGE     [org.elasticsearch:elasticsearch-spark-<spark major>0_<scala>:<version>]
#   LABELSPARK_SPARK_CONF     a spark-defaults style file of extra settings [conf/spark-defaults.conf]
#   LABELSPARK_EXTRA_CONF     more key=value settings, space separated
set -euo pipefail

usage() { sed -n '2,26p' "$0" | sed 's/^# \{0,1\}//'; }

dry_run=false
case "${1:-}" in
  -h|--help|"") usage; exit 0 ;;
  --dry-run) dry_run=true; shift ;;
esac
if [[ $# -lt 2 ]]; then usage >&2; exit 2; fi
job=$1 config=$2
shift 2
root=$(cd "$(dirname "$0")/.." && pwd)
[[ -f "$job" ]] || { echo "submit.sh: no job file $job" >&2; exit 2; }
[[ -f "$config" ]] || { echo "submit.sh: no config file $config" >&2; exit 2; }

# --py-files archive: the labelspark package, rebuilt when any source is newer than it
archive="$root/dist/labelspark.zip"
if [[ ! -f "$archive" ]] || [[ -n "$(find "$root/labelspark" -name '*.py' -newer "$archive" -print -quit)" ]]; then
  mkdir -p "$root/dist"
  python3 - "$root" "$archive" <<'PY'
import pathlib, sys, zipfile
root, archive = pathlib.Path(sys.argv[1]), sys.argv[2]
with zipfile.ZipFile(archive, "w", zipfile.ZIP_DEFLATED) as zf:
    for path in sorted((root / "labelspark").rglob("*")):
        if path.suffix in (".py", ".typed") and "__pycache__" not in path.parts:
            zf.write(path, path.relative_to(root).as_posix())
PY
fi

spark_submit=${SPARK_SUBMIT:-spark-submit}
spark_version=${LABELSPARK_SPARK_VERSION:-}
if [[ -z "$spark_version" ]]; then
  if ! command -v "$spark_submit" >/dev/null 2>&1; then
    echo "submit.sh: $spark_submit not found: put it on PATH, or set SPARK_SUBMIT (and LABELSPARK_SPARK_VERSION for --dry-run)" >&2
    exit 2
  fi
  spark_version=$("$spark_submit" --version 2>&1 | sed -n 's/.*version \([0-9][0-9.]*\).*/\1/p' | head -n 1 || true)
fi
case "$spark_version" in
  4.0.*) delta="io.delta:delta-spark_2.13:4.0.0"; es="org.elasticsearch:elasticsearch-spark-40_2.13:9.1.0" ;;
  4.1.*) delta="io.delta:delta-spark_2.13:4.1.0"; es="org.elasticsearch:elasticsearch-spark-40_2.13:9.1.0" ;;
  3.5.*) delta="io.delta:delta-spark_2.12:3.3.2"; es="org.elasticsearch:elasticsearch-spark-30_2.12:8.19.10" ;;
  *) if [[ -z "${LABELSPARK_DELTA_PACKAGE:-}" || -z "${LABELSPARK_ES_PACKAGE:-}" ]]; then
       echo "submit.sh: no package versions known for Spark '${spark_version:-?}': set LABELSPARK_DELTA_PACKAGE and LABELSPARK_ES_PACKAGE" >&2
       exit 2
     fi ;;
esac
delta=${LABELSPARK_DELTA_PACKAGE:-$delta}
es=${LABELSPARK_ES_PACKAGE:-$es}

cmd=("$spark_submit"
  --master "${SPARK_MASTER:-yarn}"
  --deploy-mode "${SPARK_DEPLOY_MODE:-client}"
  --name "labelspark $(basename "$job" .py) $(basename "$config" .yaml)"
  --driver-memory "${SPARK_DRIVER_MEMORY:-4g}"
  --executor-memory "${SPARK_EXECUTOR_MEMORY:-8g}"
  --executor-cores "${SPARK_EXECUTOR_CORES:-4}"
)
[[ -n "${SPARK_NUM_EXECUTORS:-}" ]] && cmd+=(--num-executors "$SPARK_NUM_EXECUTORS")
cmd+=(--packages "$delta,$es"
  --conf spark.sql.extensions=io.delta.sql.DeltaSparkSessionExtension
  --conf spark.sql.catalog.spark_catalog=org.apache.spark.sql.delta.catalog.DeltaCatalog
  --conf spark.speculation=false
  --conf spark.sql.adaptive.enabled=true
)
conf_file=${LABELSPARK_SPARK_CONF:-$root/conf/spark-defaults.conf}
if [[ -f "$conf_file" ]]; then
  while read -r key value; do
    [[ -z "$key" || "$key" == \#* ]] && continue
    cmd+=(--conf "$key=$value")
  done < "$conf_file"
fi
for setting in ${LABELSPARK_EXTRA_CONF:-}; do cmd+=(--conf "$setting"); done
if [[ "${SPARK_DEPLOY_MODE:-client}" == cluster ]]; then  # the driver runs elsewhere: ship the config
  cmd+=(--files "$config")
  config=$(basename "$config")
fi
cmd+=(--py-files "$archive" "$job" "$config" "$@")

if $dry_run; then
  printf '%q ' "${cmd[@]}"; echo
else
  exec "${cmd[@]}"
fi
