#!/usr/bin/env bash
# The real-host suite: Ardour 7 headless (test_ardour.py) and pedalboard (test_pedalboard.py).
# Installs what it needs (setup.sh), then runs pytest. Without a bundle or Ardour the tests skip with
# the reason printed (pytest's own exit status; nothing collected is exit 5, a failure); under CI=true
# or REDANCE_TEST_STRICT=1 a skip is reported as a failure (conftest.py). Extra arguments go to pytest.
#
#   REDANCE_VST3=path/Name.vst3        bundle to test (default target/bundled/Redance.vst3)
#   REDANCE_HOSTS_RENDER_TIMEOUT=300   seconds a render may take
#   REDANCE_HOSTS_STEPS=4              diffusion steps for the renders
set -uo pipefail
HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
ROOT="$(cd "$HERE/../.." && pwd)"

if ! PY="$("$HERE/setup.sh")"; then
    echo "hosts: setup failed (see above)" >&2
    exit 1
fi
BUNDLE="${REDANCE_VST3:-$ROOT/target/bundled/${REDANCE_HOSTS_PLUGIN:-Redance}.vst3}"
if [ ! -d "$BUNDLE/Contents/x86_64-linux" ]; then
    echo "hosts: SKIP: no VST3 bundle at $BUNDLE (build it with: cargo xtask bundle redance --release)"
fi
if ! command -v ardour7-lua >/dev/null 2>&1; then
    echo "hosts: SKIP (Ardour tests): ardour7-lua not installed"
fi
cd "$HERE"
exec "$PY" -m pytest "$@"
