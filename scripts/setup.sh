#!/usr/bin/env bash
# Installs what building Redance needs on Debian 12 (only Rust and Python assumed), fetches ONNX
# Runtime from PyPI, and builds the plugin bundles and the command-line renderer. Idempotent: a
# second run only checks. Usage: scripts/setup.sh [--gpu]
set -euo pipefail
cd "$(dirname "$0")/.."

# Debian packages: X11/GL for the editor (nice-plug-egui, baseview), ALSA/JACK for the standalone.
packages=(pkg-config libasound2-dev libjack-jackd2-dev libx11-xcb-dev libxcb1-dev libxcb-icccm4-dev
  libxcb-dri2-0-dev libxcursor-dev libgl-dev libgl1-mesa-dev libxrandr-dev libxkbcommon-dev
  libxkbcommon-x11-dev
  # `redance model import` makes its own Python environment (venv + ensurepip); so do its tests.
  python3-venv)
. scripts/debian-packages.sh
ensure_debian_packages setup "${packages[@]}"

command -v cargo >/dev/null || { echo "setup: Rust (cargo) is required: https://rustup.rs"; exit 1; }
python3 -m pip --version >/dev/null 2>&1 || { echo "setup: Python 3 with pip is required"; exit 1; }

cargo xtask fetch-ort "$@"
echo "setup: building the plugin bundles (CLAP + VST3) and the redance CLI"
cargo xtask bundle redance --release
cargo build --release --quiet -p redance-cli
echo "setup: done. Bundles: target/bundled/Redance.clap, target/bundled/Redance.vst3; CLI: target/release/redance"
