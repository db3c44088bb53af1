#!/usr/bin/env bash
# Installs the Triton Inference Server the remote-backend tests run against: a Python venv under
# target/ with PyPI's nvidia-pytriton (it ships Triton's `tritonserver` binary with the Python backend)
# and onnxruntime (the same version as the engine's runtime, so the server computes what local
# rendering computes). PyPI's `tritonserver` package is a placeholder that refuses to install, and no
# pip-installable Triton build has the onnxruntime backend, so the model runs in a Python callable.
# Idempotent and quiet; prints the venv's python on stdout.
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
VENV="${REDANCE_TRITON_VENV:-$ROOT/target/venv-triton}"
PY="${PYTHON:-python3}"
# The backend's stub embeds the system's libpython of the same version as the venv's Python.
# shellcheck source=../../scripts/debian-packages.sh
. "$ROOT/scripts/debian-packages.sh"
PYVER_SYS="$("$PY" -c 'import sys; print(f"{sys.version_info[0]}.{sys.version_info[1]}")')"
ensure_debian_packages "triton setup" "libpython$PYVER_SYS" >&2

if [ ! -x "$VENV/bin/python" ]; then
    echo "setup: creating venv $VENV ..." >&2
    if ! "$PY" -m venv "$VENV" >/dev/null 2>&1; then
        # Debian's python3 needs python3-venv for ensurepip.
        ensure_debian_packages "triton setup" python3-venv >&2
        rm -rf "$VENV"
        "$PY" -m venv "$VENV"
    fi
fi
# The engine's runtime version (scripts/setup.sh fetches it from the same PyPI wheel).
ORT_VERSION="$(ls "$ROOT"/target/onnxruntime/cpu/libonnxruntime.so.1.* 2>/dev/null | sed 's/.*\.so\.//' | head -1)"
DEPS="nvidia-pytriton==0.7.0 onnxruntime${ORT_VERSION:+==$ORT_VERSION} numpy<2"
STAMP="$VENV/.redance-triton-deps"
if [ "$(cat "$STAMP" 2>/dev/null)" != "$DEPS" ]; then
    echo "setup: pip install $DEPS ..." >&2
    # shellcheck disable=SC2086 # DEPS is a list of requirement words
    "$VENV/bin/python" -m pip install -q --disable-pip-version-check $DEPS >&2
    echo "$DEPS" > "$STAMP"
fi
# Triton's Python backend with the stub built for this Python, as nvidia-pytriton lays it out when it
# starts a server itself (tests/triton/server.sh passes this folder as --backend-directory).
SITE="$("$VENV/bin/python" -c 'import sysconfig; print(sysconfig.get_paths()["purelib"])')"
PYVER="$("$VENV/bin/python" -c 'import sys; print(f"{sys.version_info[0]}.{sys.version_info[1]}")')"
BACKENDS="$VENV/triton-backends"
if [ ! -x "$BACKENDS/python/triton_python_backend_stub" ]; then
    mkdir -p "$BACKENDS"
    cp -r "$SITE/pytriton/tritonserver/backends/python" "$BACKENDS/"
    cp "$SITE/pytriton/tritonserver/python_backend_stubs/$PYVER/triton_python_backend_stub" "$BACKENDS/python/"
fi
echo "$VENV/bin/python"
