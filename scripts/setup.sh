#!/usr/bin/env bash
# Sets up a fresh Debian 12 + Node 20 machine for Proctrail: system packages, npm packages,
# and the native parts (BPF objects and the libbpf binding). Safe to run again: each step is
# skipped when its result is already there.
set -euo pipefail
cd "$(dirname "$0")/.."

# Debian packages: the BPF toolchain and libbpf for the sensor, Chromium for browser tests,
# PostgreSQL for the shared store and its tests, a JDK for the Log4Shell scenario.
APT_PACKAGES=(
  clang clang-format llvm libbpf-dev bpftool libelf-dev zlib1g-dev pkg-config make g++ python3
  chromium postgresql openjdk-17-jdk-headless time
)

missing=()
for pkg in "${APT_PACKAGES[@]}"; do
  dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q 'install ok installed' || missing+=("$pkg")
done
if ((${#missing[@]})); then
  echo "setup: installing Debian packages: ${missing[*]}"
  if [ "$(id -u)" -ne 0 ]; then
    echo "setup: installing Debian packages needs root (run as root or with sudo)" >&2
    exit 1
  fi
  export DEBIAN_FRONTEND=noninteractive
  apt-get -o DPkg::Lock::Timeout=300 update -qq
  apt-get -o DPkg::Lock::Timeout=300 install -y -qq --no-install-recommends "${missing[@]}"
fi

# Playwright drives Debian's Chromium; it must never try to download a browser of its own.
export PLAYWRIGHT_SKIP_BROWSER_DOWNLOAD=1

# npm ci on a fresh clone; on a machine that already installed this exact lockfile, skip it.
if [ ! -f node_modules/.package-lock.json ] || [ package-lock.json -nt node_modules/.package-lock.json ]; then
  echo "setup: installing npm packages (better-sqlite3 compiles from source: about 2 minutes)"
  # The registry now and then drops a download (ECONNRESET) after npm's own retries: a connection
  # hiccup should not fail a whole set-up, so the install is tried again, three times at most.
  for attempt in 1 2 3; do
    npm ci --no-audit --no-fund && break
    if [ "$attempt" = 3 ]; then
      echo "setup: npm ci failed three times; see the npm errors above" >&2
      exit 1
    fi
    echo "setup: npm ci failed (attempt $attempt of 3); trying again in 10 s" >&2
    sleep 10
  done
fi

# BPF objects and the native binding; workspaces without native parts have no such script.
npm run --workspaces --if-present build:native

# The dashboard's production build (next build, about 15 s), which `proctrail dashboard` serves.
if [ ! -f apps/web/.next/BUILD_ID ] || [ -n "$(find apps/web/app apps/web/components apps/web/graph apps/web/state apps/web/styles -newer apps/web/.next/BUILD_ID -print -quit)" ]; then
  npm run build -w @proctrail/web
fi

# The Java service the Log4Shell demo exploits (`proctrail demo log4shell`), built with javac.
npx tsx -e 'import("./apps/agent/src/demo/log4shell/java-service.ts").then((m) => m.buildJavaService())'

echo "setup: done"
