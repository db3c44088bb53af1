#!/usr/bin/env bash
# Runs Triton Inference Server (installed by tests/triton/setup.sh) on a model repository, HTTP only,
# on 127.0.0.1:PORT, in the foreground: it execs, so the caller's child pid is the server's and the
# caller stops (SIGTERM) or kills (SIGKILL) it. No gRPC, no metrics port, nothing off loopback.
# Usage: tests/triton/server.sh REPO PORT
set -euo pipefail
REPO="$1"
PORT="$2"
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
VENV="${REDANCE_TRITON_VENV:-$ROOT/target/venv-triton}"
if [ ! -x "$VENV/triton-backends/python/triton_python_backend_stub" ]; then
    echo "server.sh: Triton is not installed; run tests/triton/setup.sh" >&2
    exit 2
fi
SITE="$("$VENV/bin/python" -c 'import sysconfig; print(sysconfig.get_paths()["purelib"])')"
# The server's own shared libraries ship beside it in the wheel.
export LD_LIBRARY_PATH="$SITE/nvidia_pytriton.libs${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}"
# The backend's embedded Python ignores PYTHONPATH; it finds its packages from the first `python3`
# on PATH, so the venv's comes first (as nvidia-pytriton does).
export PATH="$VENV/bin:$PATH"
exec "$SITE/pytriton/tritonserver/bin/tritonserver" \
    --model-repository="$REPO" \
    --backend-directory="$VENV/triton-backends" \
    --http-address=127.0.0.1 --http-port="$PORT" \
    --allow-grpc=false --allow-metrics=false \
    --exit-timeout-secs=5 --log-info=false
