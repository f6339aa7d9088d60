#!/usr/bin/env bash
# Submits a labelspark job to a Spark cluster with Delta Lake and the search connectors.
#
#   scripts/submit.sh [--dry-run] JOB.py CONFIG.yaml [job arguments...]
#   scripts/submit.sh jobs/compute_labels.py conf/retail_members.yaml --date 2026-03-02
#
# Builds dist/labelspark.zip (the package, for --py-files; rebuilt when a source changes),
# then runs spark-submit with the jars pinned for the Spark it finds (labelspark/engine/jars.txt: the
# Delta release of that Spark line and the ES-Hadoop/opensearch-hadoop connectors that exist for
# it) from a local folder with --jars (fetched with scripts/fetch-jars.sh when missing), the Delta
# extensions, speculation off, adaptive execution on, the settings of $LABELSPARK_SPARK_CONF, and
# Spark's logging from WARN up (conf/log4j2.properties), so labelspark's lines are what it prints.
# --dry-run prints the command instead of running it (and fetches nothing).
#
# Environment (defaults in brackets):
#   SPARK_SUBMIT              spark-submit binary [spark-submit]
#   SPARK_MASTER              --master [yarn]
#   SPARK_DEPLOY_MODE         --deploy-mode [client]; in cluster mode the config is shipped with --files
#   SPARK_DRIVER_MEMORY       [4g]
#   SPARK_EXECUTOR_MEMORY     [8g]
#   SPARK_EXECUTOR_CORES      [4]
#   SPARK_NUM_EXECUTORS       [unset: dynamic allocation from the conf file]
#   LABELSPARK_SPARK_VERSION  Spark version the jars must match [from spark-submit --version]
#   LABELSPARK_SCALA_VERSION  its Scala version [from spark-submit --version]
#   LABELSPARK_JARS           folder of the jars [~/.cache/labelspark/jars/spark-<major.minor>_<scala>]
#   LABELSPARK_PACKAGES       Maven coordinates for --packages instead (Spark resolves them with Ivy)
#   LABELSPARK_SPARK_CONF     a spark-defaults style file of extra settings [conf/spark-defaults.conf]
#   LABELSPARK_LOG_CONF       log4j2 file of the driver and executors [conf/log4j2.properties: Spark at
#                             WARN; not passed when $SPARK_CONF_DIR has a log4j2.properties]; empty:
#                             none. A JVM whose extraJavaOptions name a log4j2 file keeps it
#   LABELSPARK_EXTRA_CONF     more key=value settings, space separated
set -euo pipefail

usage() { sed -n '2,/^set /p' "$0" | sed '$d' | sed 's/^# \{0,1\}//'; }

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
if [[ ! -f "$archive" ]] || [[ -n "$(find "$root/labelspark" \( -name '*.py' -o -name '*.txt' \) -newer "$archive" -print -quit)" ]]; then
  mkdir -p "$root/dist"
  python3 - "$root" "$archive" <<'PY'
import pathlib, sys, zipfile
root, archive = pathlib.Path(sys.argv[1]), sys.argv[2]
with zipfile.ZipFile(archive, "w", zipfile.ZIP_DEFLATED) as zf:
    for path in sorted((root / "labelspark").rglob("*")):
        if path.suffix in (".py", ".typed", ".txt") and "__pycache__" not in path.parts:
            zf.write(path, path.relative_to(root).as_posix())
PY
fi

spark_submit=${SPARK_SUBMIT:-spark-submit}
spark_version=${LABELSPARK_SPARK_VERSION:-}
scala=${LABELSPARK_SCALA_VERSION:-}
if [[ -z "$spark_version" ]]; then
  if ! command -v "$spark_submit" >/dev/null 2>&1; then
    echo "submit.sh: $spark_submit not found: put it on PATH, or set SPARK_SUBMIT (and LABELSPARK_SPARK_VERSION for --dry-run)" >&2
    exit 2
  fi
  about=$("$spark_submit" --version 2>&1 || true)
  spark_version=$(sed -n 's/.*version \([0-9][0-9.]*\).*/\1/p' <<<"$about" | head -n 1)
  scala=${scala:-$(sed -n 's/.*Scala version \([0-9]*\.[0-9]*\).*/\1/p' <<<"$about" | head -n 1)}
fi
line=$(sed -n 's/^\([0-9]*\.[0-9]*\).*/\1/p' <<<"$spark_version")
# Spark 4 is built for Scala 2.13 only; 3.x distributions for 2.12 unless they say otherwise
[[ -n "$scala" ]] || { [[ "${line%%.*}" -ge 4 ]] 2>/dev/null && scala=2.13 || scala=2.12; }

# the jars pinned for this Spark, or exit 2 when it is one they do not support (the driver checks
# its own spark.version again: a cluster's Spark may differ from this spark-submit's)
pinned=$(PYTHONPATH="$root${PYTHONPATH:+:$PYTHONPATH}" python3 -m labelspark.engine.jars "${spark_version:-?}" "$scala") || exit $?
jars=() packages=${LABELSPARK_PACKAGES:-}
if [[ -z "$packages" ]]; then
  folder=${LABELSPARK_JARS:-${XDG_CACHE_HOME:-$HOME/.cache}/labelspark/jars/spark-${line}_${scala}}
  missing=false
  for coordinate in $pinned; do
    IFS=: read -r _ artifact version <<<"$coordinate"
    jars+=("$folder/$artifact-$version.jar")
    [[ -f "$folder/$artifact-$version.jar" ]] || missing=true
  done
  if $missing && ! $dry_run; then
    LABELSPARK_SPARK_VERSION=$spark_version LABELSPARK_SCALA_VERSION=$scala "$root/scripts/fetch-jars.sh" "$folder" >/dev/null
  fi
fi

cmd=("$spark_submit"
  --master "${SPARK_MASTER:-yarn}"
  --deploy-mode "${SPARK_DEPLOY_MODE:-client}"
  --name "labelspark $(basename "$job" .py) $(basename "$config" .yaml)"
  --driver-memory "${SPARK_DRIVER_MEMORY:-4g}"
  --executor-memory "${SPARK_EXECUTOR_MEMORY:-8g}"
  --executor-cores "${SPARK_EXECUTOR_CORES:-4}"
)
[[ -n "${SPARK_NUM_EXECUTORS:-}" ]] && cmd+=(--num-executors "$SPARK_NUM_EXECUTORS")
if [[ -n "$packages" ]]; then cmd+=(--packages "$packages"); else cmd+=(--jars "$(IFS=,; echo "${jars[*]}")"); fi
cmd+=(
  --conf spark.sql.extensions=io.delta.sql.DeltaSparkSessionExtension
  --conf spark.sql.catalog.spark_catalog=org.apache.spark.sql.delta.catalog.DeltaCatalog
  --conf spark.speculation=false
  --conf spark.sql.adaptive.enabled=true
)
settings=()
conf_file=${LABELSPARK_SPARK_CONF:-$root/conf/spark-defaults.conf}
if [[ -f "$conf_file" ]]; then
  while read -r key value; do
    [[ -z "$key" || "$key" == \#* ]] && continue
    settings+=("$key=$value")
  done < "$conf_file"
fi
for setting in ${LABELSPARK_EXTRA_CONF:-}; do settings+=("$setting"); done

# `key` (a JVM's extraJavaOptions) with -Dlog4j2.configurationFile=`location` added, unless the
# settings already name a log4j2 file there
add_log_conf() {
  local key=$1 location=$2 i
  for i in "${!settings[@]}"; do
    [[ "${settings[i]}" == "$key="* ]] || continue
    [[ "${settings[i]}" == *log4j2.configurationFile=* ]] || settings[i]+=" -Dlog4j2.configurationFile=$location"
    return
  done
  settings+=("$key=-Dlog4j2.configurationFile=$location")
}

files=()
cluster_mode=false
[[ "${SPARK_DEPLOY_MODE:-client}" == cluster ]] && cluster_mode=true
spark_conf_dir=${SPARK_CONF_DIR:-${SPARK_HOME:+$SPARK_HOME/conf}}
default_log_conf=$root/conf/log4j2.properties
[[ -n "$spark_conf_dir" && -f "$spark_conf_dir/log4j2.properties" ]] && default_log_conf=""
log_conf=${LABELSPARK_LOG_CONF-$default_log_conf}
if [[ -n "$log_conf" ]]; then
  [[ -f "$log_conf" ]] || { echo "submit.sh: no log4j2 file $log_conf (LABELSPARK_LOG_CONF)" >&2; exit 2; }
  log_conf=$(cd "$(dirname "$log_conf")" && pwd)/$(basename "$log_conf")
  # executors (and a driver in cluster mode) find it in their working directory, where --files puts
  # it: on YARN before the JVM starts; a standalone worker fetches it after, so its executors log
  # as Spark's defaults say, into the worker's folder, not this output
  files+=("$log_conf")
  if $cluster_mode; then add_log_conf spark.driver.extraJavaOptions "$(basename "$log_conf")"
  else add_log_conf spark.driver.extraJavaOptions "$log_conf"; fi
  add_log_conf spark.executor.extraJavaOptions "$(basename "$log_conf")"
fi
for setting in "${settings[@]}"; do cmd+=(--conf "$setting"); done
if $cluster_mode; then  # the driver runs elsewhere: ship the config
  files+=("$config")
  config=$(basename "$config")
fi
# one --files: spark-submit keeps only the last
[[ ${#files[@]} -gt 0 ]] && cmd+=(--files "$(IFS=,; echo "${files[*]}")")
cmd+=(--py-files "$archive" "$job" "$config" "$@")

if $dry_run; then
  printf '%q ' "${cmd[@]}"; echo
else
  exec "${cmd[@]}"
fi
