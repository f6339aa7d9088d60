#!/usr/bin/env bash
# Fetches the jars a Spark line needs (Delta Lake and the search connectors that exist for it,
# as pinned in labelspark/engine/jars.txt) from Maven Central into a folder, with Maven.
#
#   scripts/fetch-jars.sh [DIR]
#
# DIR defaults to ~/.cache/labelspark/jars/spark-<major.minor>_<scala>, where `labelspark run
# --engine spark` and scripts/submit.sh look for them; another folder is named to them by
# LABELSPARK_JARS=DIR. Copy the folder to clusters without internet access and pass it the same way.
# Prints the folder. Jars already there are not fetched again.
#
# Environment:
#   LABELSPARK_SPARK_VERSION  the Spark version to fetch for [the installed pyspark's]
#   LABELSPARK_SCALA_VERSION  its Scala version, 2.12 or 2.13 [from pyspark's scala-library jar]
#   PYTHON                    the interpreter that has pyspark [python3]
set -euo pipefail

case "${1:-}" in -h|--help) sed -n '2,16p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;; esac
root=$(cd "$(dirname "$0")/.." && pwd)
python=${PYTHON:-python3}

spark_version=${LABELSPARK_SPARK_VERSION:-}
scala=${LABELSPARK_SCALA_VERSION:-}
if [[ -z "$spark_version" || -z "$scala" ]]; then
  read -r found_spark found_scala < <(PYTHONPATH="$root${PYTHONPATH:+:$PYTHONPATH}" "$python" -c \
    'from labelspark.engine.jars import installed_spark; print(*installed_spark())') \
    || { echo "fetch-jars.sh: no pyspark in $python: set PYTHON, or LABELSPARK_SPARK_VERSION and LABELSPARK_SCALA_VERSION" >&2; exit 2; }
  spark_version=${spark_version:-$found_spark} scala=${scala:-$found_scala}
fi
line=$(sed -n 's/^\([0-9]*\.[0-9]*\).*/\1/p' <<<"$spark_version")
dir=${1:-${XDG_CACHE_HOME:-$HOME/.cache}/labelspark/jars/spark-${line}_${scala}}

# the jars pinned for that Spark, or exit 2 naming the versions labelspark supports
coordinates=$(PYTHONPATH="$root${PYTHONPATH:+:$PYTHONPATH}" "$python" -m labelspark.engine.jars "$spark_version" "$scala") || exit $?
command -v mvn >/dev/null 2>&1 || { echo "fetch-jars.sh: needs Maven (mvn) on PATH" >&2; exit 2; }

mkdir -p "$dir"
for coordinate in $coordinates; do
  IFS=: read -r _ artifact version <<<"$coordinate"
  [[ -f "$dir/$artifact-$version.jar" ]] && continue
  echo "fetch-jars.sh: $coordinate" >&2
  # copy takes the one jar (its Spark and Scala dependencies are the cluster's own); 3.x of the plugin
  # reads -Dartifact without a project
  log=$(mvn -B -Dstyle.color=never org.apache.maven.plugins:maven-dependency-plugin:3.8.1:copy \
    -Dartifact="$coordinate" -DoutputDirectory="$dir" 2>&1) \
    || { grep -E 'ERROR' <<<"$log" | head -n 3 >&2; echo "fetch-jars.sh: Maven could not fetch $coordinate" >&2; exit 1; }
done
echo "$dir"
