#!/usr/bin/env bash
# Installs what the real-host tests need: Debian's Ardour 7 (when root) and a Python venv under
# target/ with pedalboard, numpy and pytest. Idempotent and quiet; prints the venv path's python on stdout.
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
VENV="${REDANCE_HOSTS_VENV:-$ROOT/target/hosts-venv}"

if ! command -v ardour7-lua >/dev/null 2>&1; then
    if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
        echo "setup: installing ardour (apt-get) ..." >&2
        export DEBIAN_FRONTEND=noninteractive
        apt-get update -qq >/dev/null 2>&1 || true
        apt-get install -y -qq --no-install-recommends ardour >/dev/null 2>&1 \
            || echo "setup: apt-get install ardour failed; the Ardour tests will skip" >&2
    else
        echo "setup: ardour7-lua missing and not root; the Ardour tests will skip" >&2
    fi
fi

PY="${PYTHON:-python3}"
if [ ! -x "$VENV/bin/python" ]; then
    echo "setup: creating venv $VENV ..." >&2
    if ! "$PY" -m venv "$VENV" >/dev/null 2>&1; then
        # Debian's python3 needs python3-venv for ensurepip
        if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
            apt-get install -y -qq python3-venv >/dev/null 2>&1 || true
        fi
        rm -rf "$VENV"
        "$PY" -m venv "$VENV"
    fi
fi
STAMP="$VENV/.redance-hosts-deps"
DEPS="pedalboard numpy pytest pytest-timeout"
if [ "$(cat "$STAMP" 2>/dev/null)" != "$DEPS" ]; then
    echo "setup: pip install $DEPS ..." >&2
    "$VENV/bin/python" -m pip install -q --disable-pip-version-check $DEPS >&2
    echo "$DEPS" > "$STAMP"
fi
echo "$VENV/bin/python"
