#!/usr/bin/env bash
# Sets up this machine (see setup.sh), then records this host: the agent loads its eBPF hooks,
# writes every exec, fork, exit, TCP connection and watched-file access into SQLite
# (data/proctrail.db) and serves the API on 127.0.0.1:7070, and the dashboard serves on
# http://127.0.0.1:3000, until Ctrl-C.
set -euo pipefail
cd "$(dirname "$0")/.."

./scripts/setup.sh

cat <<'USAGE'

Starting the Proctrail agent and its dashboard (Ctrl-C stops both; everything received is
written first). Dashboard: http://127.0.0.1:3000 (the agent's API: http://127.0.0.1:7070).
In another terminal:
  npx proctrail tail                     # events as they happen
  npx proctrail search --binary curl     # processes in the database
  npx proctrail tree <exec_id>           # ancestry, descendants, connections, files
  npx proctrail export > events.jsonl    # Tetragon JSON lines
  npx proctrail demo log4shell           # stage the Log4Shell story, then open the link it prints

USAGE
# The dashboard serves on 127.0.0.1:3000 for the agent's default API address; it prints its
# URL once it answers. Both stop together: Ctrl-C or the end of either one stops the other.
node apps/agent/bin/proctrail.js agent "$@" &
agent_pid=$!
node apps/agent/bin/proctrail.js dashboard &
dashboard_pid=$!
stop_both() {
  kill -TERM "$dashboard_pid" "$agent_pid" 2>/dev/null || true
}
trap stop_both INT TERM
status=0
wait -n "$agent_pid" "$dashboard_pid" || status=$?
stop_both
wait "$agent_pid" "$dashboard_pid" 2>/dev/null || true
exit "$status"
