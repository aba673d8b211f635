#!/usr/bin/env bash
# Sets up this machine (see setup.sh) and gets Proctrail ready on this host with SQLite.
# Today Proctrail reads Tetragon exports; the live agent and the dashboard are not built yet,
# so this prints how to load and query an export.
set -euo pipefail
cd "$(dirname "$0")/.."

./scripts/setup.sh

cat <<'USAGE'

Proctrail is set up. The database is data/proctrail.db (change it with --db or PROCTRAIL_DB).

Load a Tetragon export (JSON lines, a JSON object or array, .gz, or - for standard input):
  npx proctrail import /path/to/tetragon.log

Find processes, then look at one's tree (ancestry, descendants, connections, files):
  npx proctrail search --binary nc
  npx proctrail tree <exec_id>

Write events back out as Tetragon JSON lines:
  npx proctrail export --binary curl > curl-events.jsonl

USAGE
