#!/usr/bin/env bash
# The Triton suite: installs the server (tests/triton/setup.sh), then runs cli/tests/triton.rs, which
# starts and stops its own servers on 127.0.0.1. Extra arguments go to the test binary.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/../.."
bash tests/triton/setup.sh >/dev/null
exec cargo test -p redance-cli --features triton-tests --test triton --no-fail-fast -- "$@"
