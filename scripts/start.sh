#!/usr/bin/env bash
# Sets up this machine (see setup.sh), then records this host: the agent loads its eBPF hooks,
# writes every exec, fork, exit, TCP connection and watched-file access into SQLite
# (data/proctrail.db) and serves the API on 127.0.0.1:7070 until Ctrl-C.
set -euo pipefail
cd "$(dirname "$0")/.."

./scripts/setup.sh

cat <<'USAGE'

Starting the Proctrail agent (Ctrl-C stops it; everything received is written first).
In another terminal:
  npx proctrail tail                     # events as they happen
  npx proctrail search --binary curl     # processes in the database
  npx proctrail tree <exec_id>           # ancestry, descendants, connections, files
  npx proctrail export > events.jsonl    # Tetragon JSON lines

USAGE
exec node apps/agent/bin/proctrail.js agent "$@"
