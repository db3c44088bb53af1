# Sourced by the set-up scripts: ensure_debian_packages WHO PACKAGE... installs the missing ones with
# apt-get when run as root, else prints the exact line to run and exits 1.
ensure_debian_packages() {
  local who="$1" p missing=()
  shift
  for p in "$@"; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
  done
  ((${#missing[@]})) || return 0
  if [ "$(id -u)" = 0 ]; then
    echo "$who: installing ${missing[*]}"
    apt-get update -qq
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
  else
    echo "$who: these Debian packages are missing; install them and run again:"
    echo "  sudo apt-get install ${missing[*]}"
    exit 1
  fi
}
