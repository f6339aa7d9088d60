#!/usr/bin/env bash
# A Spark standalone cluster on 127.0.0.1 from the installed pyspark: one master and two
# workers, each its own JVM, sized for a small machine (workers of 1 core and 1 GB by default).
#
#   scripts/local-cluster.sh start    starts it and prints the master URL (spark://127.0.0.1:PORT)
#   scripts/local-cluster.sh status   prints the master URL and exits 0 while all three run, else 1
#   scripts/local-cluster.sh stop     stops the workers, then the master
#
# Submit to it:
#   SPARK_MASTER=$(scripts/local-cluster.sh status) SPARK_DRIVER_MEMORY=1g SPARK_EXECUTOR_MEMORY=1g \
#     SPARK_EXECUTOR_CORES=1 LABELSPARK_SPARK_CONF=conf/spark-local-cluster.conf \
#     scripts/submit.sh jobs/compute_labels.py CONFIG --date D
#
# Environment:
#   LABELSPARK_CLUSTER_DIR   pid files, logs and worker directories [~/.cache/labelspark/cluster]
#   SPARK_HOME               the Spark to run [the installed pyspark's]
#   PYTHON                   the interpreter that has pyspark [python3]
#   SPARK_WORKER_CORES       cores of each worker [1]
#   SPARK_WORKER_MEMORY      memory of each worker [1g]
set -euo pipefail

usage() { sed -n '2,20p' "$0" | sed 's/^# \{0,1\}//'; }
dir=${LABELSPARK_CLUSTER_DIR:-${XDG_CACHE_HOME:-$HOME/.cache}/labelspark/cluster}
workers=(worker-1 worker-2)

running() { [[ -f "$dir/$1.pid" ]] && kill -0 "$(cat "$dir/$1.pid")" 2>/dev/null; }

spark_home() {
  if [[ -n "${SPARK_HOME:-}" ]]; then echo "$SPARK_HOME"; return; fi
  "${PYTHON:-python3}" -c 'import os, pyspark; print(os.path.dirname(pyspark.__file__))' \
    || { echo "local-cluster.sh: no pyspark in ${PYTHON:-python3}: set PYTHON or SPARK_HOME" >&2; exit 2; }
}

free_port() { "${PYTHON:-python3}" -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'; }

# waits up to 120 s for `pattern` in a log, failing early if the process is gone
await() {
  local name=$1 pattern=$2
  for _ in $(seq 240); do
    grep -q "$pattern" "$dir/$name.log" 2>/dev/null && return 0
    running "$name" || { echo "local-cluster.sh: $name exited; its log:" >&2; tail -n 20 "$dir/$name.log" >&2; return 1; }
    sleep 0.5
  done
  echo "local-cluster.sh: $name did not log '$pattern' within 120 s (see $dir/$name.log)" >&2
  return 1
}

start() {
  if running master; then
    echo "local-cluster.sh: already running (scripts/local-cluster.sh stop first)" >&2
    cat "$dir/master.url"
    return 0
  fi
  local home port url
  home=$(spark_home)
  port=$(free_port)
  url="spark://127.0.0.1:$port"
  mkdir -p "$dir"
  export SPARK_LOCAL_IP=127.0.0.1 SPARK_DAEMON_MEMORY=${SPARK_DAEMON_MEMORY:-256m}
  # each daemon is the JVM itself (spark-class execs java): its pid is the one to stop
  nohup "$home/bin/spark-class" org.apache.spark.deploy.master.Master \
    --host 127.0.0.1 --port "$port" --webui-port 0 >"$dir/master.log" 2>&1 </dev/null &
  echo $! >"$dir/master.pid"
  echo "$url" >"$dir/master.url"
  await master "Starting Spark master at" || { stop >/dev/null; exit 1; }
  for worker in "${workers[@]}"; do
    mkdir -p "$dir/$worker"
    nohup "$home/bin/spark-class" org.apache.spark.deploy.worker.Worker \
      --host 127.0.0.1 --webui-port 0 --work-dir "$dir/$worker" \
      --cores "${SPARK_WORKER_CORES:-1}" --memory "${SPARK_WORKER_MEMORY:-1g}" "$url" \
      >"$dir/$worker.log" 2>&1 </dev/null &
    echo $! >"$dir/$worker.pid"
  done
  for worker in "${workers[@]}"; do
    await "$worker" "Successfully registered with master" || { stop >/dev/null; exit 1; }
  done
  echo "$url"
}

stop() {
  local name pid
  for name in "${workers[@]}" master; do
    [[ -f "$dir/$name.pid" ]] || continue
    pid=$(cat "$dir/$name.pid")
    if kill -0 "$pid" 2>/dev/null; then
      kill "$pid"
      for _ in $(seq 60); do kill -0 "$pid" 2>/dev/null || break; sleep 0.5; done
      kill -0 "$pid" 2>/dev/null && kill -9 "$pid"
    fi
    rm -f "$dir/$name.pid"
  done
  rm -f "$dir/master.url"
  echo "local-cluster.sh: stopped" >&2
}

status() {
  local name down=0
  for name in master "${workers[@]}"; do running "$name" || down=1; done
  if [[ $down -eq 0 ]]; then cat "$dir/master.url"; return 0; fi
  echo "local-cluster.sh: not running" >&2
  return 1
}

case "${1:-}" in
  start) start ;;
  stop) stop ;;
  status) status ;;
  -h|--help) usage ;;
  *) usage >&2; exit 2 ;;
esac
