#!/usr/bin/env bash
# Installs what the editor's screenshot test needs: Xvfb and ImageMagick (Debian), when root.
# Not part of the build set-up (scripts/setup.sh). Exit 0: ready; exit 1: not available (the test
# then skips, saying why).
set -uo pipefail
need=()
[ -x /usr/bin/Xvfb ] || need+=(xvfb)
[ -x /usr/bin/import ] && [ -x /usr/bin/convert ] || need+=(imagemagick)
if ((${#need[@]})); then
    if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
        echo "editor-test setup: installing ${need[*]} (apt-get) ..." >&2
        export DEBIAN_FRONTEND=noninteractive
        apt-get update -qq >/dev/null 2>&1 || true
        apt-get install -y -qq --no-install-recommends "${need[@]}" xauth >/dev/null 2>&1 || true
    fi
fi
[ -x /usr/bin/Xvfb ] && [ -x /usr/bin/import ] && [ -x /usr/bin/convert ] && exit 0
echo "editor-test setup: Xvfb or ImageMagick is missing and cannot be installed here (need root and apt-get):" >&2
echo "  sudo apt-get install xvfb imagemagick" >&2
exit 1
