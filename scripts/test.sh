#!/usr/bin/env bash
# Every test: set up (as the main job does), then the Rust tests, formatting and lints, and the
# real-host tests (Ardour, pedalboard, clack-host).
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
export CARGO_TERM_COLOR=never
echo "== cargo fmt --check"
cargo fmt --all --check
echo "== cargo clippy"
cargo clippy --workspace --all-targets --quiet -- -D warnings
echo "== cargo test"
cargo test --workspace --quiet 2>&1 | tee target/cargo-test.log
if [ -x tests/hosts/run.sh ]; then
  echo "== real hosts"
  bash tests/hosts/run.sh
fi
