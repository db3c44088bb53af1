#!/usr/bin/env bash
# The main job on a fresh machine: set up, build, and render a variation of the example clip with the
# built-in model. Prints where the WAV went.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
mkdir -p target/demo
out=target/demo/clip-variation.wav
./target/release/redance render --input examples/clip.wav --output "$out" \
  --strength 0.5 --steps 50 --seed 1 --plot target/demo/clip-variation.png
echo "Variation written to $(pwd)/$out"
