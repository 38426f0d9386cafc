#!/usr/bin/env bash
# One-time set-up, safe to run again: Debian packages (QGIS, GDAL, rasterio, scikit-learn),
# then a venv on QGIS's Python with torch and the test tools. Running it twice is quick and
# changes nothing. `setup.sh --apt-packages` prints the Debian packages (scripts/chroot.sh reads them).
set -euo pipefail
cd "$(dirname "$0")/.."
VENV=.venv
STAMP=$VENV/.deepunmix-setup-v2

apt_packages=(qgis python3-qgis qgis-providers gdal-bin python3-rasterio python3-sklearn
              python3-matplotlib python3-pandas python3-venv python3-pip xvfb xauth xdotool imagemagick zip fonts-dejavu-core)
if [ "${1:-}" = --apt-packages ]; then echo "${apt_packages[*]}"; exit 0; fi
missing=()
for p in "${apt_packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [ ${#missing[@]} -gt 0 ]; then
  if [ "$(id -u)" -eq 0 ]; then
    echo "setup: installing Debian packages: ${missing[*]}"
    export DEBIAN_FRONTEND=noninteractive
    apt-get update -q >/dev/null
    # Once on a fresh machine the first install exited non-zero after installing everything; a second
    # try is quick and shows apt's output if it really fails.
    apt-get install -y -q --no-install-recommends "${missing[@]}" >/dev/null \
      || apt-get install -y -q --no-install-recommends "${missing[@]}"
  else
    echo "setup: these Debian packages are missing: ${missing[*]}" >&2
    echo "setup: install them as root: sudo apt-get install ${missing[*]}" >&2
    exit 1
  fi
fi

if [ -f "$STAMP" ] && [ "$STAMP" -nt requirements-dev.txt ]; then
  exit 0
fi
if [ ! -x $VENV/bin/python ]; then
  echo "setup: creating $VENV on /usr/bin/python3 (system site packages: QGIS, GDAL, numpy)"
  /usr/bin/python3 -m venv --system-site-packages $VENV
fi
# Pin the system numpy (and friends) so pip never upgrades what GDAL and QGIS are built against.
/usr/bin/python3 - > $VENV/constraints.txt <<'PY'
import numpy, scipy, sklearn
print(f"numpy=={numpy.__version__}\nscipy=={scipy.__version__}\nscikit-learn=={sklearn.__version__}")
PY
echo "setup: installing Python packages into $VENV (torch CPU build, test tools)"
$VENV/bin/python -m pip install -q --disable-pip-version-check -c $VENV/constraints.txt -r requirements-dev.txt
# this checkout as the package `deepunmix` (pyproject.toml): tests, benchmarks and scripts import deepunmix.engine
$VENV/bin/python -m pip install -q --disable-pip-version-check --no-deps --no-build-isolation -e .
touch "$STAMP"
echo "setup: done"
