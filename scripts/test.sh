#!/usr/bin/env bash
# Sets up this machine (see setup.sh), checks formatting, lint and types, then runs every test:
# unit and store tests first, then the kernel tests one file at a time. CI runs exactly this.
set -euo pipefail
cd "$(dirname "$0")/.."

./scripts/setup.sh

echo "test: checking formatting, lint and types"
npx prettier --check . >/dev/null || { npx prettier --check . ; exit 1; }
npx eslint .
npx tsc -p tsconfig.json
npx tsc -p apps/web
npm run --workspaces --if-present format:check

echo "test: running the test suite"
npm test
