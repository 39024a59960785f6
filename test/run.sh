#!/usr/bin/env bash
# `npm test`: installs the real Kafka clients the tests use (when missing),
# then runs the type check, the codegen check, every test, and the build.
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$(pwd)
BUN="$ROOT/node_modules/.bin/bun"
SCHEMAS="${KLITE_SCHEMAS:-$ROOT/../shared/kafka-message-schemas}/4.3"

say() { printf '\n== %s\n' "$*"; }

if [ ! -x "$BUN" ]; then
  echo "Bun is missing: run 'npm install' first (it brings Bun from the npm registry)." >&2
  exit 1
fi

# Debian packages: kcat and confluent-kafka-python (librdkafka 2.0.2), and the
# libraries @confluentinc/kafka-javascript links against when it builds.
APT_PKGS="kcat python3-confluent-kafka libssl-dev zlib1g-dev libzstd-dev liblz4-dev libsasl2-dev libcurl4-openssl-dev librdkafka-dev"
missing=""
for p in $APT_PKGS; do dpkg -s "$p" >/dev/null 2>&1 || missing="$missing $p"; done
if [ -n "$missing" ]; then
  if [ "$(id -u)" = 0 ]; then
    say "installing Debian packages:$missing"
    export DEBIAN_FRONTEND=noninteractive
    apt-get update -qq
    apt-get install -y -qq $missing >/dev/null
  else
    echo "missing Debian packages:$missing — install them (as root: apt-get install -y$missing)" >&2
    exit 1
  fi
fi

# The current librdkafka, built from source against Debian's libraries. Kept
# out of the root install so a user's plain `npm install` can never fail on it.
CLIENTS="$ROOT/test/clients"
if [ ! -f "$CLIENTS/node_modules/.klite-installed" ] || [ "$CLIENTS/package.json" -nt "$CLIENTS/node_modules/.klite-installed" ]; then
  say "installing test clients (@confluentinc/kafka-javascript builds librdkafka: a few minutes)"
  (cd "$CLIENTS" && CKJS_LINKING=dynamic npm install --no-audit --no-fund --loglevel=error)
  node -e "require('$CLIENTS/node_modules/@confluentinc/kafka-javascript')" 
  touch "$CLIENTS/node_modules/.klite-installed"
fi

say "type check"
"$ROOT/node_modules/.bin/tsc" --noEmit -p .

say "codegen check against $SCHEMAS"
"$BUN" codegen/main.ts --check --schemas "$SCHEMAS"

say "build the single executable"
"$BUN" run build >/dev/null
./dist/klite --version

say "tests"
"$BUN" test --timeout 180000 "$@"
