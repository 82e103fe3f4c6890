#!/usr/bin/env bash
# Installs everything Lattice needs on a Debian machine: the Debian packages the tests and
# benchmarks use, then the npm dependencies (npm ci also builds the command line, see `prepare`).
# Usage: bash scripts/install.sh [--bench]   (--bench adds the registration peers plastimatch and elastix)
set -euo pipefail
cd "$(dirname "$0")/.."

export DEBIAN_FRONTEND=noninteractive
# Electron's postinstall downloads its binary; where that is unreachable it makes npm roll back
# the whole install. Without the binary `npm start` runs the browser host instead.
export ELECTRON_SKIP_BINARY_DOWNLOAD="${ELECTRON_SKIP_BINARY_DOWNLOAD:-1}"

SUDO=""
if [ "$(id -u)" != "0" ]; then SUDO="sudo"; fi

# chromium          end-to-end tests (playwright-core drives /usr/bin/chromium; nothing is downloaded)
# python3-nibabel   checks that nibabel reads the NIfTI files we write
# python3-scipy     cross-checks the processing operations on real data (scipy.ndimage)
# python3-skimage   cross-checks the analysis operations (equalisation, Chan–Vese: scikit-image)
# dcm2niix, pigz    the converter we compare against (tests and bench) and the gzip it uses
# fonts-dejavu-core text in the UI and screenshots
pkgs=(chromium python3-nibabel python3-numpy python3-scipy python3-skimage dcm2niix pigz fonts-dejavu-core)
if [ "${1:-}" = "--bench" ]; then
  # ../shared/bench/registration harness and its peers
  pkgs+=(plastimatch elastix time python3-skimage python3-pydicom)
fi
if command -v apt-get >/dev/null 2>&1; then
  $SUDO apt-get update -qq
  $SUDO apt-get install -y -qq --no-install-recommends "${pkgs[@]}" >/dev/null
else
  echo "install.sh: apt-get not found; install these yourself: ${pkgs[*]}" >&2
fi

npm ci --no-audit --no-fund
