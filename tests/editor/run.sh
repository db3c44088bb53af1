#!/usr/bin/env bash
# The editor's screenshot test: builds `redance-standalone`, runs it under Xvfb with
# `--backend dummy` (no sound card) in demo mode (REDANCE_EDITOR_DEMO=1: a synthetic capture, takes
# and a render in progress), takes a screenshot with ImageMagick's `import -window root`, stops the
# standalone with SIGTERM, and checks the picture (check.py): the widgets at the places the editor
# reported, lane colours, text rendered as glyphs (not boxes), compared with a reference crop.
#
#   tests/editor/run.sh            build (debug) + test; screenshots go to docs/editor*.png
#   REDANCE_EDITOR_SCALE=1.5 ...   also a screenshot at 150 % (docs/editor-150.png)
#   REDANCE_EDITOR_UPDATE_REF=1    rewrite the reference crops (look at them first!)
#
# Exit 0: PASS; 77 with "SKIP" when Xvfb/ImageMagick cannot be installed (a skip, not a pass); under
# CI=true or REDANCE_TEST_STRICT=1 that is a FAIL (exit 1) instead; any other failure: exit 1.
set -uo pipefail
HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
ROOT="$(cd "$HERE/../.." && pwd)"
cd "$ROOT"

if ! bash "$HERE/setup.sh"; then
    if [ "${CI:-}" = true ] || [ "${REDANCE_TEST_STRICT:-0}" = 1 ]; then
        echo "editor: FAIL: Xvfb/ImageMagick not available (a skip is a failure under CI)"
        exit 1
    fi
    echo "editor: SKIP: Xvfb/ImageMagick not available"
    exit 77
fi
echo "editor: building redance-standalone"
cargo build --quiet --features standalone --bin redance-standalone || exit 1
BIN="${CARGO_TARGET_DIR:-$ROOT/target}/debug/redance-standalone"
OUT="$ROOT/target/editor-test"
# Screenshots land in docs/ only when asked (REDANCE_UPDATE_DOCS=1): a test run leaves the tree clean.
DOCS="$OUT/docs"; [ "${REDANCE_UPDATE_DOCS:-0}" = 1 ] && DOCS="$ROOT/docs"
rm -rf "$OUT" && mkdir -p "$OUT" "$DOCS"

DISPLAY_NUM="${REDANCE_EDITOR_DISPLAY:-:97}"
/usr/bin/Xvfb "$DISPLAY_NUM" -screen 0 1280x900x24 -nolisten tcp >"$OUT/xvfb.log" 2>&1 &
XVFB=$!
cleanup() { [ -n "${APP:-}" ] && kill -TERM "$APP" 2>/dev/null; kill -TERM "$XVFB" 2>/dev/null; wait 2>/dev/null; }
trap cleanup EXIT
export DISPLAY="$DISPLAY_NUM"
for _ in $(seq 50); do [ -e "/tmp/.X11-unix/X${DISPLAY_NUM#:}" ] && break; sleep 0.1; done

# shot NAME [extra env...]: run the standalone, wait for its layout report, screenshot, SIGTERM.
shot() {
    local name="$1"; shift
    local layout="$OUT/$name.layout.json"
    env REDANCE_EDITOR_DEMO=1 REDANCE_EDITOR_LAYOUT="$layout" REDANCE_DATA_DIR="$OUT/data" "$@" \
        "$BIN" --backend dummy >"$OUT/$name.log" 2>&1 &
    APP=$!
    for _ in $(seq 600); do
        [ -s "$layout" ] && break
        kill -0 "$APP" 2>/dev/null || { echo "editor: the standalone exited early:"; tail -20 "$OUT/$name.log"; return 1; }
        sleep 0.1
    done
    [ -s "$layout" ] || { echo "editor: no layout report within 60 s"; tail -20 "$OUT/$name.log"; return 1; }
    sleep 2  # the loader's overviews and spectrograms arrive, a few frames are drawn
    /usr/bin/import -window root "$OUT/$name.png" || return 1
    kill -TERM "$APP"
    for _ in $(seq 50); do kill -0 "$APP" 2>/dev/null || break; sleep 0.1; done
    if kill -0 "$APP" 2>/dev/null; then echo "editor: the standalone ignored SIGTERM"; kill -KILL "$APP"; return 1; fi
    wait "$APP" 2>/dev/null
    APP=
    /usr/bin/convert "$OUT/$name.png" "$OUT/$name.ppm" || return 1
}

rc=0
shot editor || rc=1
if [ "$rc" = 0 ]; then
    python3 "$HERE/check.py" "$OUT/editor.ppm" "$OUT/editor.layout.json" "$HERE/ref" || rc=1
    W=$(python3 -c "import json;w=json.load(open('$OUT/editor.layout.json'))['window'];print(f'{int(w[0])}x{int(w[1])}+0+0')")
    /usr/bin/convert "$OUT/editor.png" -crop "$W" +repage "$DOCS/editor.png"
fi
if [ "$rc" = 0 ] && [ -n "${REDANCE_EDITOR_SCALE:-}" ]; then
    # The same editor at another scale (as set by the Scale menu / host DPI).
    shot editor-scaled REDANCE_EDITOR_ZOOM="$REDANCE_EDITOR_SCALE" || rc=1
    [ "$rc" = 0 ] && python3 "$HERE/check.py" "$OUT/editor-scaled.ppm" "$OUT/editor-scaled.layout.json" "" || rc=1
    [ "$rc" = 0 ] && /usr/bin/convert "$OUT/editor-scaled.png" -crop "$(python3 -c "import json;w=json.load(open('$OUT/editor-scaled.layout.json'))['window'];print(f'{int(w[0])}x{int(w[1])}+0+0')")" +repage "$DOCS/editor-scaled.png"
fi
[ "$rc" = 0 ] && echo "editor: PASS (screenshots in $DOCS)" || echo "editor: FAIL (see $OUT)"
exit "$rc"
