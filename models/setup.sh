#!/usr/bin/env bash
# Sets up the Python side of models/ (training, corpus, evaluation, export): the Debian packages the
# training corpus is rendered from (FluidR3 GM sound font, FluidSynth, Hydrogen's recorded drum kits)
# and a venv at target/venv-models with models/requirements.txt. Idempotent. Not needed to build or
# test the Rust project.   Usage: bash models/setup.sh
set -euo pipefail
cd "$(dirname "$0")/.."
packages=(fluidsynth fluid-soundfont-gm hydrogen-drumkits)
missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if ((${#missing[@]})); then
  if [ "$(id -u)" = 0 ]; then
    echo "models/setup: installing ${missing[*]}"
    apt-get update -qq
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
  else
    echo "models/setup: install these Debian packages, then run again: sudo apt-get install ${missing[*]}"
    exit 1
  fi
fi
VENV=target/venv-models
[ -x "$VENV/bin/python" ] || python3 -m venv "$VENV"
if ! "$VENV/bin/python" -c "import torch, diffusers, onnx, music21, mido, soundfile, matplotlib" 2>/dev/null; then
  echo "models/setup: installing models/requirements.txt into $VENV"
  "$VENV/bin/pip" install -q -r models/requirements.txt
fi
echo "models/setup: done ($VENV)"
