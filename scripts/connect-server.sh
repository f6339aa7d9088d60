#!/usr/bin/env bash
# A Spark Connect server on 127.0.0.1 from the installed pyspark (4.x), with the Delta Lake jars
# labelspark/engine/jars.txt pins for it: the server `labelspark run --engine connect --remote URL` talks
# to, as a team's shared Spark Connect endpoint would be.
#
#   scripts/connect-server.sh start    starts it and prints its URL (sc://127.0.0.1:PORT)
#   scripts/connect-server.sh status   prints the URL and exits 0 while it runs, else 1
#   scripts/connect-server.sh stop     stops it
#
# Environment:
#   LABELSPARK_CONNECT_DIR   pid file and log [~/.cache/labelspark/connect]
#   PYTHON                   the interpreter that has pyspark [python3]
#   SPARK_DRIVER_MEMORY      the server's memory [1g]
set -euo pipefail

usage() { sed -n '2,13p' "$0" | sed 's/^# \{0,1\}//'; }
root=$(cd "$(dirname "$0")/.." && pwd)
dir=${LABELSPARK_CONNECT_DIR:-${XDG_CACHE_HOME:-$HOME/.cache}/labelspark/connect}
python=${PYTHON:-python3}

running() { [[ -f "$dir/server.pid" ]] && kill -0 "$(cat "$dir/server.pid")" 2>/dev/null; }

start() {
  if running; then
    echo "connect-server.sh: already running (scripts/connect-server.sh stop first)" >&2
    cat "$dir/server.url"
    return 0
  fi
  local home port folder coordinate artifact version jars=()
  home=$("$python" -c 'import os, pyspark; print(os.path.dirname(pyspark.__file__))') \
    || { echo "connect-server.sh: no pyspark in $python: set PYTHON" >&2; exit 2; }
  # the pinned jars, fetched when missing (exit 2 for a Spark they do not support), and only
  # those: the folder may still hold a release pinned before, built for another Spark patch
  folder=$(PYTHON=$python "$root/scripts/fetch-jars.sh")
  for coordinate in $(cd "$root" && "$python" -m labelspark.engine.jars $("$python" -c 'from labelspark.engine.jars import installed_spark; print(*installed_spark())')); do
    IFS=: read -r _ artifact version <<<"$coordinate"
    jars+=("$folder/$artifact-$version.jar")
  done
  port=$("$python" -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
  mkdir -p "$dir"
  SPARK_LOCAL_IP=127.0.0.1 nohup "$home/bin/spark-submit" --master "local[*]" \
    --class org.apache.spark.sql.connect.service.SparkConnectServer \
    --driver-memory "${SPARK_DRIVER_MEMORY:-1g}" \
    --jars "$(IFS=,; echo "${jars[*]}")" \
    --conf spark.connect.grpc.binding.address=127.0.0.1 --conf spark.connect.grpc.binding.port="$port" \
    --conf spark.sql.extensions=io.delta.sql.DeltaSparkSessionExtension \
    --conf spark.sql.catalog.spark_catalog=org.apache.spark.sql.delta.catalog.DeltaCatalog \
    --conf spark.ui.enabled=false --conf spark.sql.shuffle.partitions=4 \
    --conf spark.databricks.delta.snapshotPartitions=2 \
    >"$dir/server.log" 2>&1 </dev/null &
  echo $! >"$dir/server.pid"
  echo "sc://127.0.0.1:$port" >"$dir/server.url"
  for _ in $(seq 240); do  # up to 120 s for the JVM to listen
    if "$python" -c "import socket, sys; socket.create_connection(('127.0.0.1', $port), 1)" 2>/dev/null; then
      cat "$dir/server.url"
      return 0
    fi
    running || { echo "connect-server.sh: the server exited; its log:" >&2; tail -n 20 "$dir/server.log" >&2; exit 1; }
    sleep 0.5
  done
  echo "connect-server.sh: no answer on port $port within 120 s (see $dir/server.log)" >&2
  stop
  exit 1
}

stop() {
  if [[ -f "$dir/server.pid" ]]; then
    local pid
    pid=$(cat "$dir/server.pid")
    # spark-submit runs the JVM as its child: stop the JVM, then the wrapper
    pkill -TERM -P "$pid" 2>/dev/null || true
    kill "$pid" 2>/dev/null || true
    for _ in $(seq 60); do kill -0 "$pid" 2>/dev/null || break; sleep 0.5; done
    kill -0 "$pid" 2>/dev/null && { pkill -KILL -P "$pid" 2>/dev/null || true; kill -9 "$pid"; }
    rm -f "$dir/server.pid"
  fi
  rm -f "$dir/server.url"
  echo "connect-server.sh: stopped" >&2
}

status() {
  if running; then cat "$dir/server.url"; return 0; fi
  echo "connect-server.sh: not running" >&2
  return 1
}

case "${1:-}" in
  start) start ;;
  stop) stop ;;
  status) status ;;
  -h|--help) usage ;;
  *) usage >&2; exit 2 ;;
esac
