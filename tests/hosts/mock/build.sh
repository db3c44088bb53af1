#!/usr/bin/env bash
# Builds the stand-in plugin and bundles it as target/hosts-mock/RedanceMock.vst3. Then:
#   REDANCE_HOSTS_PLUGIN=RedanceMock REDANCE_VST3=$PWD/target/hosts-mock/RedanceMock.vst3 tests/hosts/run.sh
set -euo pipefail
HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
ROOT="$(cd "$HERE/../../.." && pwd)"
OUT="$ROOT/target/hosts-mock"
CARGO_TARGET_DIR="$OUT/cargo" cargo build --quiet --release --manifest-path "$HERE/Cargo.toml"
B="$OUT/RedanceMock.vst3/Contents/x86_64-linux"
mkdir -p "$B"
cp "$OUT/cargo/release/libredance_mock.so" "$B/RedanceMock.so"
echo "$OUT/RedanceMock.vst3"
