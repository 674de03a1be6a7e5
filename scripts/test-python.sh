#!/usr/bin/env bash
# The Python package: builds its extension (debug, every feature, so that each backend links
# into it) with the workspace's features, the test suite's build, so nothing is compiled twice;
# installs it into a virtual environment of its own as `maturin develop` would (the extension
# beside the package's Python files, a .pth pointing at them), and runs the pytest suite
# against the mock backend and the testkit's RTSP server (a child process). Called by
# scripts/test-all.sh. `--prepare`: only make the environment and install the Python packages
# (test-all.sh does it while Rust compiles). `pip install ./python` (maturin) stays the way
# users build it.
set -euo pipefail
cd "$(dirname "$0")/.."

venv=target/python-venv
if [ ! -x "$venv/bin/python" ]; then
  python3 -m venv "$venv"
fi
"$venv/bin/python" -m pip install -q --disable-pip-version-check \
  "pytest>=7" "numpy>=1.21" "opencv-python-headless>=4.5"
if [ "${1:-}" = "--prepare" ]; then
  exit 0
fi

# The extension and the test server, built as scripts/test-all.sh builds the tests (the same
# targets, so the same features): nothing new to compile after it.
cargo build -q --workspace --all-features --lib --bins --tests --examples
cp target/debug/lib_native.so python/rtsp_stream_rs/_native.abi3.so
site=$("$venv/bin/python" -c 'import sysconfig; print(sysconfig.get_paths()["purelib"])')
echo "$PWD/python" > "$site/rtsp_stream_rs.pth"
RTSP_STREAM_TEST_SERVER="$PWD/target/debug/rtsp-test-server" \
  "$venv/bin/python" -m pytest -q -p no:cacheprovider python/tests
