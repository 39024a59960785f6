#!/usr/bin/env bash
# `npm test` (and CI, through .ci/run): installs the real Kafka clients the
# interop tests use when they are missing, then runs, stopping at the first
# failure: type check, codegen check, every test (`bun test`), the build, and
# a smoke test of the built binary (test/smoke/binary.ts). The last line is
# always `N passed, N failed`.
# Arguments go to `bun test` (e.g. `npm test -- test/unit`).
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$(pwd)
BUN="$ROOT/node_modules/.bin/bun"
TSC="$ROOT/node_modules/.bin/tsc"
SCHEMAS="${KLITE_SCHEMAS:-$ROOT/../shared/kafka-message-schemas}/4.3"
CLIENTS="$ROOT/test/clients"
PY=/usr/bin/python3

say() { printf '\n== %s\n' "$*"; }
note() { printf '   %s\n' "$*"; }

# The final line for CI. Tests counted by bun test; a failed step other than
# the tests counts as one failure.
PASSED=0
FAILED=0
STEP="setup"
TESTS_LOG=$(mktemp "${TMPDIR:-/tmp}/klite-test-XXXXXX.log")
finish() {
  local rc=$?
  rm -f "$TESTS_LOG"
  if [ "$rc" -ne 0 ]; then
    [ "$STEP" != "tests" ] && FAILED=$((FAILED + 1))
    printf '\n== FAILED: %s (exit %s)\n' "$STEP" "$rc"
  fi
  echo "$PASSED passed, $FAILED failed"
  exit "$rc"
}
trap finish EXIT

if [ ! -x "$BUN" ] || [ ! -x "$TSC" ]; then
  echo "Bun or TypeScript is missing: run 'npm install' first (it brings Bun from the npm registry)." >&2
  exit 1
fi

# --- Debian packages: kcat and confluent-kafka-python (librdkafka 2.0.2); the
# toolchain (node-gyp: make, g++, python3; librdkafka's configure: pkg-config)
# and libraries @confluentinc/kafka-javascript builds its librdkafka with; and
# librdkafka-dev for the C benchmark; openssl for the TLS tests' certificates.
# Installed when missing and root.
STEP="Debian packages"
missing=()
command -v kcat >/dev/null 2>&1 || missing+=(kcat)
# openssl makes the CA and certificates of the TLS tests at test time.
command -v openssl >/dev/null 2>&1 || missing+=(openssl)
{ [ -x "$PY" ] && "$PY" -c 'import confluent_kafka' >/dev/null 2>&1; } || missing+=(python3-confluent-kafka)
if command -v dpkg >/dev/null 2>&1; then
  for p in build-essential pkg-config python3 libssl-dev zlib1g-dev libzstd-dev liblz4-dev libsasl2-dev libcurl4-openssl-dev librdkafka-dev; do
    dpkg -s "$p" >/dev/null 2>&1 || missing+=("$p")
  done
fi
if [ ${#missing[@]} -gt 0 ]; then
  if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
    say "installing Debian packages: ${missing[*]}"
    export DEBIAN_FRONTEND=noninteractive
    apt-get update -qq
    apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
  else
    say "skipping the Debian packages the real-client tests need: ${missing[*]}"
    note "not root (or no apt-get), so not installing them. To install: sudo apt-get install -y ${missing[*]}"
    note "tests that need a missing client are skipped (under CI=true they fail instead)"
  fi
fi

# --- test/clients: KafkaJS and @confluentinc/kafka-javascript (the current
# librdkafka, built from source against Debian's libraries). Its own
# package.json keeps it out of the root install, so a user's plain
# `npm install` never fails on it. Reinstalled when its lockfile or the node
# ABI (the addon is native) changes.
STEP="test clients"
stamp="$(cat "$CLIENTS/package.json" "$CLIENTS/package-lock.json" | cksum | cut -d' ' -f1) node-abi-$(node -p process.versions.modules)"
marker="$CLIENTS/node_modules/.klite-installed"
if [ ! -f "$marker" ] || [ "$(cat "$marker")" != "$stamp" ]; then
  say "installing test/clients (npm ci; @confluentinc/kafka-javascript builds librdkafka: a few minutes)"
  if (cd "$CLIENTS" && CKJS_LINKING=dynamic npm ci --no-audit --no-fund --loglevel=error); then
    echo "$stamp" >"$marker"
  elif [ "${CI:-}" = true ]; then
    exit 1
  else
    note "test/clients did not install: the KafkaJS and current-librdkafka tests will be skipped"
  fi
fi
if [ -f "$marker" ]; then
  (cd "$CLIENTS" && node -e 'const k = require("@confluentinc/kafka-javascript"); console.log(`   test clients: librdkafka ${k.librdkafkaVersion} (@confluentinc/kafka-javascript), kafkajs ${require("kafkajs/package.json").version}`)') ||
    note "test/clients is installed but @confluentinc/kafka-javascript does not load under node"
fi

STEP="type check"
say "$STEP"
"$TSC" --noEmit -p .

STEP="codegen check"
say "$STEP against $SCHEMAS"
"$BUN" run codegen --check --schemas "$SCHEMAS"

STEP="tests"
say "tests"
# bun test's own summary goes to the terminal as usual; a copy is kept to
# count passes and failures for the final line.
set +e
"$BUN" test --timeout 180000 "$@" 2>&1 | tee "$TESTS_LOG"
rc=${PIPESTATUS[0]}
set -e
PASSED=$(sed -n 's/^ *\([0-9][0-9]*\) pass$/\1/p' "$TESTS_LOG" | tail -1)
FAILED=$(sed -n 's/^ *\([0-9][0-9]*\) fail$/\1/p' "$TESTS_LOG" | tail -1)
PASSED=${PASSED:-0}
FAILED=${FAILED:-0}
if [ "$rc" -ne 0 ]; then
  # A crash or an error outside any test can fail the run with no failed test counted.
  [ "$FAILED" -eq 0 ] && FAILED=1
  exit "$rc"
fi

STEP="build"
say "build the single executable"
"$BUN" run build
STEP="dist/klite --version"
./dist/klite --version
STEP="dist/klite smoke test"
say "$STEP (kcat and its own subcommands against it, then SIGTERM)"
"$BUN" test/smoke/binary.ts ./dist/klite
STEP="done"
