#!/usr/bin/env bash
# Every test: set up (as the main job does), then formatting and lints, the Rust tests, the CLAP host
# test on a debug bundle built with nice-plug's `assert_process_allocs`, and the real-host tests
# (Ardour, pedalboard) and the editor's screenshot test.
#
# Honest by construction:
#   - every suite below is promised: one that does not run, or runs nothing, is a failure;
#   - the counts come from each runner's own report for this run only (logs in target/test-logs/,
#     emptied at the start): cargo's "test result" lines, pytest's JUnit XML, the editor's exit code;
#     fmt, clippy and the bundle builds count as one check each;
#   - a suite keeps going after another fails, so the closing line covers the whole run;
#   - skipped and ignored tests are counted and printed; under CI (CI=true) or REDANCE_TEST_STRICT=1
#     any skip is a failure (the host tests also fail themselves instead of skipping there).
# Exit status: non-zero when anything failed, a promised suite did not run, or (strict) anything
# was skipped. The last line reads `all: N passed, N failed, N skipped`.
set -uo pipefail
cd "$(dirname "$0")/.."
ROOT="$PWD"
LOGS="$ROOT/target/test-logs"
rm -rf "$LOGS" target/cargo-test.log target/hosts-test.log target/editor-test.log
mkdir -p "$LOGS"
export CARGO_TERM_COLOR=never
STRICT=0
if [ "${CI:-}" = true ] || [ "${REDANCE_TEST_STRICT:-0}" = 1 ]; then
  STRICT=1
  export REDANCE_TEST_STRICT=1
fi

# name|kind for every suite this command promises, in order.
SUITES=(
  "setup|gate"
  "fmt|gate"
  "clippy|gate"
  "cargo test|cargo"
  "triton|cargo"
  "models: checkpoint safety|pytest"
  "model import (tiny checkpoint, end to end)|cargo"
  "bundle debug+assert_process_allocs|gate"
  "bundle release|gate"
  "clap-host (debug bundle)|cargo"
  "model import: in the plugin (clack-host)|cargo"
  "triton: in the plugin (clack-host)|cargo"
  "ardour|pytest"
  "pedalboard|pytest"
  "editor|editor"
)
declare -A P F S T NOTE RAN

slug() { echo "$1" | tr -c 'A-Za-z0-9\n' '-' | tr -s '-'; }

# counts NAME KIND RC LOG: sets P, F, S for a finished suite from its runner's own report.
counts() {
  local name="$1" kind="$2" rc="$3" log="$4" p=0 f=0 s=0 note=""
  case "$kind" in
    gate)
      if [ "$rc" = 0 ]; then p=1; else f=1; fi
      ;;
    cargo)
      # "test result: ok. 5 passed; 0 failed; 1 ignored; 0 measured; 0 filtered out; ..."
      read -r p f s < <(grep -ao "test result: [A-Za-z]*\. [0-9]* passed; [0-9]* failed; [0-9]* ignored" "$log" \
        | awk '{p += $4; f += $6; s += $8} END {print p + 0, f + 0, s + 0}')
      local started finished
      started=$(grep -ac "^running [0-9]* tests\?$" "$log" || true)
      finished=$(grep -ac "test result: " "$log" || true)
      if [ "$started" != "$finished" ]; then
        f=$((f + started - finished)); note="$((started - finished)) test binaries crashed (no result line)"
      fi
      if [ "$rc" != 0 ] && [ "$f" = 0 ]; then f=1; note="exit status $rc with no failed test: build or runner error"; fi
      ;;
    pytest)
      local xml="${log%.log}.xml"
      if [ -s "$xml" ]; then
        read -r p f s < <(python3 - "$xml" <<'EOF'
import sys, xml.etree.ElementTree as ET
root = ET.parse(sys.argv[1]).getroot()
suites = [root] if root.tag == "testsuite" else root.findall("testsuite")
n = lambda k: sum(int(x.get(k, 0)) for x in suites)
failed = n("failures") + n("errors")
print(n("tests") - failed - n("skipped"), failed, n("skipped"))
EOF
        )
      fi
      if [ "$rc" != 0 ] && [ "$f" = 0 ]; then f=1; note="exit status $rc with no failed test (setup, collection or nothing collected)"; fi
      ;;
    editor)
      case "$rc" in 0) p=1 ;; 77) s=1; note="skipped (Xvfb/ImageMagick unavailable)" ;; *) f=1 ;; esac
      ;;
  esac
  if [ $((p + f)) = 0 ]; then
    f=1; note="${note:+$note; }ran no test: a promised suite that did not run"
  fi
  P[$name]=$p F[$name]=$f S[$name]=$s NOTE[$name]=$note
}

# suite NAME CMD...: runs CMD with its output shown and kept in target/test-logs/NAME.log.
suite() {
  local name="$1"; shift
  local kind log t0 rc
  kind=$(for x in "${SUITES[@]}"; do [ "${x%%|*}" = "$name" ] && echo "${x#*|}"; done)
  log="$LOGS/$(slug "$name").log"
  echo "== $name"
  t0=$(date +%s)
  "$@" 2>&1 | tee "$log"
  rc=${PIPESTATUS[0]}
  T[$name]=$(( $(date +%s) - t0 ))
  RAN[$name]=1
  counts "$name" "$kind" "$rc" "$log"
  [ "$rc" = 0 ] || echo "== $name: exit status $rc"
  return "$rc"
}

summary() {
  local tp=0 tf=0 ts=0 missing=0 name
  echo
  echo "== summary of this run (logs: target/test-logs/; skipped includes ignored)"
  printf '  %-36s %7s %7s %8s %7s\n' suite passed failed skipped time
  for x in "${SUITES[@]}"; do
    name="${x%%|*}"
    if [ -z "${RAN[$name]:-}" ]; then
      P[$name]=0 F[$name]=1 S[$name]=0 T[$name]=0 NOTE[$name]="did not run"
      missing=$((missing + 1))
    fi
    printf '  %-36s %7d %7d %8d %6ss%s\n' "$name" "${P[$name]}" "${F[$name]}" "${S[$name]}" "${T[$name]}" \
      "${NOTE[$name]:+  ($(echo "${NOTE[$name]}"))}"
    tp=$((tp + P[$name])) tf=$((tf + F[$name])) ts=$((ts + S[$name]))
  done
  local status=0
  [ "$tf" = 0 ] || status=1
  if [ "$STRICT" = 1 ] && [ "$ts" != 0 ]; then
    echo "  strict (CI=true): $ts skipped or ignored tests count as a failure of this run"
    status=1
  fi
  [ "$missing" = 0 ] || echo "  $missing promised suites did not run"
  echo "all: $tp passed, $tf failed, $ts skipped"
  exit "$status"
}

if ! suite "setup" bash scripts/setup.sh; then
  echo "setup failed: nothing else can run"
  summary
fi
suite "fmt" cargo fmt --all --check
# --all-targets skips the test targets that only run by name (test = false, or behind a feature): named here.
suite "clippy" bash -c 'cargo clippy --workspace --all-targets --quiet -- -D warnings &&
  cargo clippy -p redance-cli --features triton-tests --test import_e2e --test triton --quiet -- -D warnings &&
  cargo clippy -p redance-clap-test --test imported --test triton --quiet -- -D warnings'
# The CLAP host tests need a freshly built bundle: they run once, below, not here.
suite "cargo test" cargo test --workspace --exclude redance-clap-test --no-fail-fast
# A real Triton server on 127.0.0.1 (installs nvidia-pytriton into target/venv-triton first).
suite "triton" bash tests/triton/run.sh
# A user's checkpoint is untrusted: the pickle scan that refuses code needs no torch (the hosts' venv has pytest).
suite "models: checkpoint safety" bash -c 'PY=$(bash tests/hosts/setup.sh) && "$PY" -m pytest -q -p no:cacheprovider \
  models/tests/test_checkpoint_safety.py --junitxml="$0"' "$LOGS/models-checkpoint-safety.xml"
# `redance model import` for real: its own Python environment (torch from PyPI; kept in target/tmp/import-env,
# so only the first run downloads), a tiny original-layout .ckpt converted, installed and rendered against PyTorch.
suite "model import (tiny checkpoint, end to end)" cargo test -p redance-cli --test import_e2e --no-fail-fast
# process() under nice-plug's allocation check: a debug CLAP bundle (kept aside, since the release
# bundle is built into the same place next) in clack-host, on the zero fake model (tests/clap.rs) and
# rendering with the built-in model in one and in eight instances (tests/real.rs).
rm -rf target/alloc-check
if suite "bundle debug+assert_process_allocs" bash -c \
  'cargo xtask bundle redance --features assert_process_allocs >/dev/null && mkdir -p target/alloc-check && cp -r target/bundled/Redance.clap target/alloc-check/'; then
  if suite "bundle release" cargo xtask bundle redance --release; then
    suite "clap-host (debug bundle)" env REDANCE_CLAP="$ROOT/target/alloc-check/Redance.clap" \
      cargo test -p redance-clap-test --no-fail-fast
    # The checkpoint the import suite installed, rendered by the plugin and compared with the CLI's render.
    suite "model import: in the plugin (clack-host)" env REDANCE_CLAP="$ROOT/target/alloc-check/Redance.clap" \
      REDANCE_IMPORTED_MODEL="$ROOT/target/tmp/imported-tiny-dd" REDANCE_CLI="$ROOT/target/release/redance" \
      cargo test -p redance-clap-test --test imported --no-fail-fast
    # The plugin rendering on a real Triton server on loopback (started and stopped by the test).
    suite "triton: in the plugin (clack-host)" bash -c 'bash tests/triton/setup.sh >/dev/null && \
      REDANCE_CLAP="$0/target/alloc-check/Redance.clap" REDANCE_CLI="$0/target/release/redance" \
      cargo test -p redance-clap-test --test triton --no-fail-fast' "$ROOT"
    suite "ardour" bash tests/hosts/run.sh test_ardour.py --junitxml="$LOGS/ardour.xml"
    suite "pedalboard" bash tests/hosts/run.sh test_pedalboard.py --junitxml="$LOGS/pedalboard.xml"
  fi
fi
suite "editor" bash tests/editor/run.sh
summary
