#!/usr/bin/env bash
# Run a command (default: `make test`) on another Debian's QGIS, in a cached chroot:
#   scripts/chroot.sh trixie [COMMAND...]   QGIS 3.40 LTR (Debian 13)
#   scripts/chroot.sh sid    [COMMAND...]   QGIS 3.44 LTR (Debian sid)
# Needs root, mmdebstrap and unshare. The chroot is built once under $DEEPUNMIX_CHROOTS
# (default /var/cache/deepunmix/<suite>) from setup.sh's Debian packages, and rebuilt only when
# that list or the build options change. The checkout (git's tracked and unignored files) is
# copied to /work/deepunmix inside; its .venv stays in the chroot, so a rerun does not download
# torch again (pip's cache stays there too, where the index's answers may be cached).
# <checkout>/../shared is mounted read-only at /work/shared when present (the reference data).
# /dev, /proc and /sys are mounted in a private mount namespace, so they go away when the
# command ends, whatever its exit status.
set -euo pipefail
SUITE=${1:?usage: scripts/chroot.sh trixie|sid [COMMAND...]}
shift
[ $# -gt 0 ] || set -- make test
SRC=$(cd "$(dirname "$0")/.." && pwd)
CACHE=${DEEPUNMIX_CHROOTS:-/var/cache/deepunmix}
ROOT=$CACHE/$SUITE
MIRROR=${DEEPUNMIX_MIRROR:-http://deb.debian.org/debian}

packages="$(bash "$SRC/scripts/setup.sh" --apt-packages) make mount"  # make runs the tests; mount: the full-disk tests
# sid's Release file may be past Valid-Until when a mirror lags
opts=(--variant=apt "--aptopt=Acquire::Check-Valid-Until \"false\"" "--include=${packages// /,}")
key=$(printf '%s\n' "$SUITE" "${opts[@]}" | sha256sum | cut -d' ' -f1)

if ! command -v mmdebstrap >/dev/null; then  # a fresh machine: the host's tool that builds the chroot
  [ "$(id -u)" -eq 0 ] || { echo "chroot: mmdebstrap is missing: apt-get install mmdebstrap" >&2; exit 1; }
  apt-get update -q >/dev/null && DEBIAN_FRONTEND=noninteractive apt-get install -y -q mmdebstrap >/dev/null
fi
mkdir -p "$CACHE"
exec 9>"$ROOT.lock"
flock 9  # one build and one run per chroot at a time

if [ "$(cat "$ROOT/.deepunmix-chroot" 2>/dev/null)" != "$key" ]; then
  echo "chroot: building $ROOT ($SUITE: $packages)"
  rm -rf "$ROOT.new"
  mmdebstrap "${opts[@]}" "$SUITE" "$ROOT.new" "$MIRROR"
  echo "$key" > "$ROOT.new/.deepunmix-chroot"
  rm -rf "$ROOT"
  mv "$ROOT.new" "$ROOT"
fi

# the checkout as git sees it; the old copy goes, except its venv (setup.sh keeps that up to date)
DEST=$ROOT/work/deepunmix
mkdir -p "$DEST" "$ROOT/work/shared"
find "$DEST" -mindepth 1 -maxdepth 1 ! -name .venv -exec rm -rf {} +
git -C "$SRC" ls-files -z -co --exclude-standard \
  | (cd "$SRC" && while IFS= read -r -d '' f; do [ -e "$f" ] && printf '%s\0' "$f"; done) \
  | tar -C "$SRC" --null -T - -cf - | tar -C "$DEST" -mxf -  # -m: new mtimes, so setup.sh sees a changed requirements file
cp /etc/resolv.conf "$ROOT/etc/resolv.conf"
# pip inside uses this machine's certificate authority (a TLS proxy's) when pip here is told of one
pipenv=()
if [ -n "${PIP_CERT:-}" ]; then
  cp "$PIP_CERT" "$ROOT/etc/deepunmix-pip-cert.pem"
  pipenv+=(PIP_CERT=/etc/deepunmix-pip-cert.pem)
fi
# DEEPUNMIX_WHEELS: a folder of wheels pip may take before downloading (e.g. a torch wheel already here)
mkdir -p "$ROOT/wheels"
[ -z "${DEEPUNMIX_WHEELS:-}" ] || pipenv+=(PIP_FIND_LINKS=/wheels)

SHARED=""
[ -d "$SRC/../shared" ] && SHARED=$(cd "$SRC/../shared" && pwd)
printf -v cmd '%q ' "$@"
# shellcheck disable=SC2016  # expanded by the inner shell
unshare --mount --propagation private -- bash -euc '
  root=$1 shared=$2 wheels=$3 cmd=$4
  shift 4
  mount --rbind /dev "$root/dev"
  mount -t proc proc "$root/proc"
  mount --rbind /sys "$root/sys"
  [ -z "$shared" ] || mount --bind -o ro "$shared" "$root/work/shared"
  [ -z "$wheels" ] || mount --bind -o ro "$wheels" "$root/wheels"
  exec chroot "$root" /usr/bin/env -i HOME=/root LANG=C.UTF-8 TERM="${TERM:-dumb}" \
    PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin "$@" \
    bash -euc "cd /work/deepunmix && bash scripts/setup.sh && $cmd"
' chroot "$ROOT" "$SHARED" "${DEEPUNMIX_WHEELS:-}" "$cmd" "${pipenv[@]}"
