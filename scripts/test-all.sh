#!/usr/bin/env bash
# The whole test suite, exactly as CI runs it: installs missing system packages (Debian/Ubuntu),
# checks formatting, lints and portability, lints the facade with each decoder alone and with
# none, runs every test of every crate with every feature (and the facade's with none and with
# the mock alone), fails if a test binary that should run tests ran none, packages the crates,
# builds and tests the Python package, and runs the end-to-end benchmark in its short mode so
# that the harness keeps working.
set -euo pipefail
cd "$(dirname "$0")/.."

if ! command -v cargo >/dev/null 2>&1; then
  echo "cargo not found: install Rust 1.92 or newer with rustup (https://rustup.rs)" >&2
  exit 1
fi
bash scripts/install-system-packages.sh

step() { printf '\n== %s (%s)\n' "$1" "$(date +%T)"; }

step "format, lints, portability"
cargo fmt --all -- --check
cargo clippy --workspace --all-targets --all-features -- -D warnings
bash scripts/check-portability.sh

step "feature matrix: the facade with each decoder alone and with none"
for features in "" mock retina ffmpeg gstreamer opencv webcam image,ndarray; do
  echo "-- features: ${features:-none}"
  cargo clippy -q -p rtsp-stream --no-default-features ${features:+--features "$features"} \
    --all-targets -- -D warnings
done

step "the small reader with retina alone links no system decoder library"
cargo build -q -p rtsp-stream --no-default-features --features retina --example reader
if command -v ldd >/dev/null 2>&1; then
  if ldd target/debug/examples/reader | grep -E 'libav|libgst|libopencv'; then
    echo "the retina-only reader links a system decoder library (above)" >&2
    exit 1
  fi
  echo "reader: no libav*, libgst* or libopencv* linked"
else
  echo "ldd not found: the reader's libraries are not checked"
fi

mkdir -p target
step "tests, every crate with every feature"
# --all-features: tests behind `required-features` are otherwise skipped without a word.
cargo test --workspace --all-features --no-fail-fast 2>&1 | tee target/test-output.txt
bash scripts/check-test-counts.sh target/test-output.txt .ci/expected-suites

step "the facade's tests with no decoder and with the mock alone"
cargo test -p rtsp-stream --no-default-features
cargo test -p rtsp-stream --no-default-features --features mock

step "the automatic choice of a backend, per source, with each decoder alone"
for features in retina ffmpeg gstreamer opencv webcam; do
  echo "-- features: mock,$features"
  cargo test -q -p rtsp-stream --no-default-features --features "mock,$features" \
    --test any_backend auto_chooses_per_source
done

step "the Python package"
# Its extension crate links with every feature (it has no Rust tests of its own to make cargo
# test build it), then pytest runs against a debug build in a virtual environment.
cargo build -q -p rtsp-stream-python --all-features
bash scripts/test-python.sh

step "packaging"
cargo package --workspace --exclude rtsp-stream-python --no-verify --allow-dirty
cargo package -p rtsp-stream-core --allow-dirty

step "the benchmark harness, short"
# One 2 s window per reader at 320x240 (figures not quoted).
cargo run --all-features --example benchmark -- --quick
step "done"
