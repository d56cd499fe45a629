#!/usr/bin/env bash
# Install everything the test suite needs (Debian packages, a .venv with the test extra) and run the whole suite.
set -euo pipefail
cd "$(dirname "$0")/.."
APT_PACKAGES=(fluidsynth fluid-soundfont-gm musescore-general-soundfont-small libsndfile1
              libgl1 libegl1 libxkbcommon0 libdbus-1-3 libfontconfig1)
missing=()
for pkg in "${APT_PACKAGES[@]}"; do
  dpkg -s "$pkg" >/dev/null 2>&1 || missing+=("$pkg")
done
if [ ${#missing[@]} -gt 0 ]; then
  SUDO=$([ "$(id -u)" -eq 0 ] && echo "" || echo "sudo")
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}"
fi
PYTHON=${PYTHON:-python3.11}
[ -x .venv/bin/python ] || "$PYTHON" -m venv .venv
.venv/bin/python -m pip install -q --upgrade pip
.venv/bin/python -m pip install -q -e ".[test]"
# basic-pitch only for its ONNX note model (datasets/guitar_transcribe.py): its TensorFlow dependencies are not wanted
.venv/bin/python -m pip install -q --no-deps basic-pitch==0.4.0
bash tests/typecheck.sh
export QT_QPA_PLATFORM=offscreen
exec .venv/bin/python -m pytest -q "$@"
