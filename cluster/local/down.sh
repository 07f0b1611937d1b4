#!/usr/bin/env bash
# Stops everything cluster/local/up.sh (or another script via start_bg) started, by recorded PID,
# then removes the state under _output/run. Safe to run repeatedly and after a crashed or killed up.sh.
# Logs are kept in _output/run/logs for inspection (KEEP_STATE=1 keeps everything).
set -euo pipefail
# shellcheck source=SCRIPTDIR/lib.sh
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

# An up.sh still in progress would keep starting processes: stop it first (only if it is really up.sh).
if [ -f "$RUN/up.pid" ]; then
  pid=$(cat "$RUN/up.pid")
  if kill -0 "$pid" 2>/dev/null && tr '\0' ' ' < "/proc/$pid/cmdline" 2>/dev/null | grep -q 'up\.sh'; then
    kill -TERM "$pid" 2>/dev/null || true
    for ((i = 0; i < 50; i++)); do kill -0 "$pid" 2>/dev/null || break; sleep 0.2; done
    kill -KILL "$pid" 2>/dev/null || true
    log "stopped running up.sh (pid $pid)"
  fi
  rm -f "$RUN/up.pid"
fi

# The node's pods outlive its processes (each container has its own shim): stop them first.
[ ! -d "$RUN/node" ] || "$LOCAL_DIR/node.sh" down || log "WARNING: the node did not stop cleanly"
stop_all

[ "${KEEP_STATE:-}" = 1 ] || clean_state --keep-logs
log "down"
