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
echo "== process() under nice-plug's allocation check (debug CLAP bundle, clack-host)"
cargo xtask bundle redance --features assert_process_allocs >/dev/null
mkdir -p target/alloc-check && cp target/bundled/Redance.clap target/alloc-check/
cargo xtask bundle redance --release >/dev/null
REDANCE_CLAP="$PWD/target/alloc-check/Redance.clap" cargo test --quiet -p redance-clap-test 2>&1 | tee -a target/cargo-test.log
if [ -x tests/hosts/run.sh ]; then
  echo "== real hosts"
  bash tests/hosts/run.sh 2>&1 | tee target/hosts-test.log
fi
if [ -x tests/editor/run.sh ]; then
  echo "== editor screenshot (Xvfb)"
  bash tests/editor/run.sh 2>&1 | tee target/editor-test.log
fi
# One closing line for the whole run (every step above stops the run on failure).
passed=$(( $(grep -ho "[0-9]* passed" target/cargo-test.log target/hosts-test.log 2>/dev/null | awk '{s += $1} END {print s + 0}') \
  + $(grep -c "editor: PASS" target/editor-test.log 2>/dev/null || true) ))
echo "all: $passed passed, 0 failed"
