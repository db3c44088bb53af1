#!/usr/bin/env bash
# Sets up the Python side of models/ (training, corpus, evaluation, export): the Debian packages the
# training corpus is rendered from (FluidR3 GM sound font, FluidSynth, Hydrogen's recorded drum kits)
# and a venv at target/venv-models with models/requirements.txt. Idempotent. Not needed to build or
# test the Rust project.   Usage: bash models/setup.sh
set -euo pipefail
cd "$(dirname "$0")/.."
packages=(fluidsynth fluid-soundfont-gm hydrogen-drumkits)
. scripts/debian-packages.sh
ensure_debian_packages models/setup "${packages[@]}"
VENV=target/venv-models
[ -x "$VENV/bin/python" ] || python3 -m venv "$VENV"
if ! "$VENV/bin/python" -c "import torch, diffusers, onnx, music21, mido, soundfile, matplotlib" 2>/dev/null; then
  echo "models/setup: installing models/requirements.txt into $VENV"
  "$VENV/bin/pip" install -q -r models/requirements.txt
fi
echo "models/setup: done ($VENV)"
