# Process helpers the server scripts share (sourced: scripts/search-node.sh, scripts/clickhouse-node.sh).

# a pid that exists and is no zombie (a container's init may never reap a stopped server); quiet
# when the process goes away while it is read
alive() { local state; state=$(cut -d' ' -f3 "/proc/$1/stat" 2>/dev/null) && [[ $state != Z ]]; }

# stop_pid PIDFILE SECONDS: SIGTERM to the pid in PIDFILE (a clean shutdown), SIGKILL if it is
# still there after SECONDS; returns once it is gone and the pid file removed
stop_pid() {
  local pidfile=$1 seconds=$2 pid
  if [[ -f $pidfile ]] && alive "$(cat "$pidfile")"; then
    pid=$(cat "$pidfile")
    kill "$pid" 2>/dev/null || true
    for _ in $(seq $((seconds * 2))); do alive "$pid" || break; sleep 0.5; done
    if alive "$pid"; then
      kill -9 "$pid" 2>/dev/null || true
      while alive "$pid"; do sleep 0.2; done
    fi
  fi
  rm -f "$pidfile"
}
