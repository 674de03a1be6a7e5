#!/usr/bin/env bash
# The whole test suite, exactly as CI runs it: installs missing system packages (Debian/Ubuntu),
# checks formatting, lints, portability and licences, lints the facade with each decoder alone
# and with none, runs every test of every crate with every feature (and the facade's with none
# and with the mock alone), fails if a test binary that should run tests ran none, packages the
# crates, builds and tests the Python package, and runs the end-to-end benchmark in its short
# mode so that the harness keeps working. Ends with a table of each step's duration.
#
# Where the time goes: the tests mostly wait (deadlines, back-offs, servers restarting), the
# lints and builds mostly compute. So once the test binaries are built they run in the
# background, one package per lane (scripts/run-tests.py), while the steps that only compile or
# run short checks go on in the foreground; the steps that rebuild the examples with other
# features (which the examples' test runs) come after the tests.
set -euo pipefail
cd "$(dirname "$0")/.."

if ! command -v cargo >/dev/null 2>&1; then
  echo "cargo not found: install Rust 1.92 or newer with rustup (https://rustup.rs)" >&2
  exit 1
fi
bash scripts/install-system-packages.sh
mkdir -p target

steps=()
step_started=0
step_name=""
finish_step() {
  if [ -n "$step_name" ]; then
    steps+=("$(( $(date +%s) - step_started ))|$step_name")
  fi
}
step() {
  finish_step
  step_name=$1
  step_started=$(date +%s)
  printf '\n== %s (%s)\n' "$1" "$(date +%T)"
}
table() {
  finish_step
  step_name=""
  printf '\n== step durations\n'
  local total=0
  for entry in "${steps[@]}"; do
    local seconds=${entry%%|*}
    printf '%5d:%02d  %s\n' $((seconds / 60)) $((seconds % 60)) "${entry#*|}"
  done
  total=$(( $(date +%s) - script_started ))
  printf '%5d:%02d  total (wall clock)\n' $((total / 60)) $((total % 60))
}
script_started=$(date +%s)

# The Python packages download while Rust compiles.
bash scripts/test-python.sh --prepare > target/python-prepare.log 2>&1 &
python_prepare=$!

step "format, lints, portability"
cargo fmt --all -- --check
cargo clippy --workspace --all-targets --all-features -- -D warnings
bash scripts/check-portability.sh

step "licences of every dependency against .ci/licences-allowed"
bash scripts/check-licences.sh
bash scripts/check-licences.sh --self-test

step "tests, every crate with every feature: build, doc tests"
# --all-features: tests behind `required-features` are otherwise skipped without a word.
# Libraries, programs, tests and examples in one build, with the features the tests unify (the
# Python extension and the test server are among them, so nothing is compiled twice).
cargo build --workspace --all-features --lib --bins --tests --examples \
  --message-format=json-render-diagnostics > target/test-binaries.json
cargo test --workspace --all-features --no-fail-fast --doc 2>&1 | tee target/doc-test-output.txt

step "tests, every crate with every feature: started in the background"
python3 scripts/run-tests.py target/test-binaries.json target/lane-output.txt \
  > target/test-run.log 2>&1 &
tests=$!
echo "test lanes running (pid $tests); their output follows once they end"
# The benchmark harness in its short mode, to keep it working: one 2 s window per reader at
# 320x240 (figures not quoted), mostly waiting, so it runs beside the lanes too. The test
# build made it, with the workspace's features.
target/debug/examples/benchmark --quick > target/benchmark-quick.log 2>&1 &
benchmark=$!

step "the small reader with retina alone links no system decoder library"
# The tests do not run this example: its retina-only build may replace the one the test build
# made.
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

step "feature matrix: the facade with each decoder alone and with none"
for features in "" mock retina ffmpeg gstreamer opencv webcam image,ndarray; do
  echo "-- features: ${features:-none}"
  cargo clippy -q -p rtsp-stream --no-default-features ${features:+--features "$features"} \
    --all-targets -- -D warnings
done
echo "-- the Python extension with its default features"
cargo clippy -q -p rtsp-stream-python --all-targets -- -D warnings

step "the automatic choice of a backend, per source, with each decoder alone"
for features in retina ffmpeg gstreamer opencv webcam; do
  echo "-- features: mock,$features"
  cargo test -q -p rtsp-stream --no-default-features --features "mock,$features" \
    --test any_backend auto_chooses_per_source
done

step "the Python package"
# Built with every feature (the link of each backend into the extension), then pytest runs
# against it in a virtual environment.
wait "$python_prepare" || { cat target/python-prepare.log; exit 1; }
bash scripts/test-python.sh

step "packaging"
cargo package --workspace --exclude rtsp-stream-python --no-verify --allow-dirty
cargo package -p rtsp-stream-core --allow-dirty


step "the benchmark harness, short: results"
benchmark_status=0
wait "$benchmark" || benchmark_status=$?
cat target/benchmark-quick.log
if [ "$benchmark_status" -ne 0 ]; then
  echo "the benchmark's short run failed (above)" >&2
  exit "$benchmark_status"
fi

step "tests, every crate with every feature: results"
tests_status=0
wait "$tests" || tests_status=$?
cat target/test-run.log
cat target/doc-test-output.txt target/lane-output.txt > target/test-output.txt
if [ "$tests_status" -ne 0 ]; then
  echo "tests failed (above)" >&2
  exit "$tests_status"
fi
bash scripts/check-test-counts.sh target/test-output.txt .ci/expected-suites
python3 scripts/compat-matrix.py target/test-output.txt README.md

step "the facade's tests with no decoder and with the mock alone"
# After the tests: these rebuild the examples with other features.
cargo test -p rtsp-stream --no-default-features
cargo test -p rtsp-stream --no-default-features --features mock

table
