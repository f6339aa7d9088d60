#!/usr/bin/env bash
# A real single-node ClickHouse on 127.0.0.1, from Debian's package, no root, no systemd.
#
#   scripts/clickhouse-node.sh start    starts the server (or finds it running) and prints its URL
#   scripts/clickhouse-node.sh status   prints the URL and exits 0 while it answers, else exits 1
#   scripts/clickhouse-node.sh stop     stops it and waits until its process is gone
#   scripts/clickhouse-node.sh wipe     stops it and deletes its data (the next start is empty)
#
# Runs Debian 12's clickhouse-server (18.16.1, /usr/sbin/clickhouse-server; apt-get install
# clickhouse-server) with a config.xml of its own in the state folder: HTTP and native TCP on
# 127.0.0.1 only, the package's users (user `default`, no password). A restart keeps the
# databases (as a restarted server does).
#
# Environment:
#   LABELSPARK_CLICKHOUSE_DIR   config, data, pid file and logs [~/.cache/labelspark/clickhouse]
#   CLICKHOUSE_NODE_PORT        HTTP port [8323]
#   CLICKHOUSE_NODE_TCP_PORT    native TCP port [9323]
set -euo pipefail

usage() { sed -n '2,17p' "$0" | sed 's/^# \{0,1\}//'; }
[[ $# -eq 1 ]] || { usage >&2; exit 2; }
command=$1
root=${LABELSPARK_CLICKHOUSE_DIR:-${XDG_CACHE_HOME:-$HOME/.cache}/labelspark/clickhouse}
port=${CLICKHOUSE_NODE_PORT:-8323}
tcp_port=${CLICKHOUSE_NODE_TCP_PORT:-9323}
url="http://127.0.0.1:$port"
server=/usr/sbin/clickhouse-server

. "$(dirname "$0")/lib/pids.sh"  # alive, stop_pid
running() { [[ -f "$root/server.pid" ]] && alive "$(cat "$root/server.pid")"; }
answers() { [[ $(curl -fsS --max-time 5 "$url/?query=SELECT%201" 2>/dev/null) == 1 ]]; }

# written on every start, so that a changed port or folder takes effect
write_config() {
  mkdir -p "$root/data/user_files" "$root/tmp" "$root/logs"
  cat > "$root/config.xml" <<EOF
<yandex>
  <logger><level>warning</level><log>$root/logs/server.log</log><errorlog>$root/logs/error.log</errorlog></logger>
  <http_port>$port</http_port>
  <tcp_port>$tcp_port</tcp_port>
  <listen_host>127.0.0.1</listen_host>
  <path>$root/data/</path>
  <tmp_path>$root/tmp/</tmp_path>
  <user_files_path>$root/data/user_files/</user_files_path>
  <users_config>/etc/clickhouse-server/users.xml</users_config>
  <default_profile>default</default_profile>
  <default_database>default</default_database>
  <mark_cache_size>5368709120</mark_cache_size>
</yandex>
EOF
}

start() {
  if running; then
    answers || { echo "clickhouse-node.sh: clickhouse runs (pid $(cat "$root/server.pid")) but $url does not answer" >&2; exit 1; }
    echo "$url"
    return 0
  fi
  if curl -fsS -o /dev/null --max-time 2 "$url/" 2>/dev/null; then
    echo "clickhouse-node.sh: something else answers on $url: set CLICKHOUSE_NODE_PORT" >&2
    exit 1
  fi
  [[ -x $server ]] || { echo "clickhouse-node.sh: $server is not installed (apt-get install -y clickhouse-server)" >&2; exit 2; }
  command -v curl >/dev/null || { echo "clickhouse-node.sh: curl is not installed (apt-get install curl)" >&2; exit 2; }
  write_config
  # its own session, so that a Ctrl-C in the shell that started it does not stop it
  setsid nohup "$server" --config-file="$root/config.xml" > "$root/logs/stdout.log" 2>&1 < /dev/null &
  echo $! > "$root/server.pid"
  for _ in $(seq 120); do
    answers && { echo "$url"; return 0; }
    running || {
      echo "clickhouse-node.sh: clickhouse exited; its logs ($root/logs):" >&2
      tail -n 20 "$root/logs/stdout.log" "$root/logs/error.log" >&2 2>/dev/null || true
      rm -f "$root/server.pid"
      exit 1
    }
    sleep 0.5
  done
  echo "clickhouse-node.sh: clickhouse did not answer on $url within 60 s (see $root/logs)" >&2
  stop
  exit 1
}

# SIGTERM lets the server finish its merges and flush its logs; SIGKILL after 20 s
stop() { stop_pid "$root/server.pid" 20; }

case $command in
  start) start ;;
  stop) stop ;;
  status) running && answers && echo "$url" ;;
  wipe) stop; rm -rf "$root/data" "$root/tmp" ;;
  *) usage >&2; exit 2 ;;
esac
