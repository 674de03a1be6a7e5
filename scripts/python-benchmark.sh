#!/usr/bin/env bash
# The predecessor (rtsp-stream 0.1.0 from PyPI, in a throw-away venv) and this package (a
# release build, in another) side by side on one stream; `--write` updates BENCHMARKS.md.
# Not part of CI: it downloads the predecessor and OpenCV, and takes a few minutes.
set -euo pipefail
cd "$(dirname "$0")/.."

theirs=target/predecessor-venv
ours=target/python-bench-venv
rm -rf "$theirs"
python3 -m venv "$theirs"
# opencv-python-headless stands in for the opencv-python it asks for (same cv2, no GUI libs).
"$theirs/bin/python" -m pip install -q --disable-pip-version-check \
  "numpy>=1.21" "opencv-python-headless>=4.5"
"$theirs/bin/python" -m pip install -q --disable-pip-version-check --no-deps "rtsp-stream==0.1.0"

[ -x "$ours/bin/python" ] || python3 -m venv "$ours"
"$ours/bin/python" -m pip install -q --disable-pip-version-check "maturin>=1.8,<2" "numpy>=1.21"
(
  # shellcheck disable=SC1091
  source "$ours/bin/activate"
  cd python
  maturin develop -q --release
)
cargo build -q --release -p rtsp-stream-testkit --bin rtsp-test-server
"$ours/bin/python" python/bench/side_by_side.py "$theirs/bin/python" "$ours/bin/python" \
  "$PWD/target/release/rtsp-test-server" "$@"
