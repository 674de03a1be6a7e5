#!/usr/bin/env bash
# The whole test suite, exactly as CI runs it: installs missing system packages (Debian/Ubuntu),
# checks formatting and lints, runs every test of every crate with every feature, fails if a
# test binary that should run tests ran none, and runs the end-to-end benchmark in its short
# mode so that the harness keeps working.
set -euo pipefail
cd "$(dirname "$0")/.."

if ! command -v cargo >/dev/null 2>&1; then
  echo "cargo not found: install Rust 1.92 or newer with rustup (https://rustup.rs)" >&2
  exit 1
fi
bash scripts/install-system-packages.sh

cargo fmt --all -- --check
cargo clippy --workspace --all-targets --all-features -- -D warnings

mkdir -p target
# --all-features: tests behind `required-features` are otherwise skipped without a word.
cargo test --workspace --all-features --no-fail-fast 2>&1 | tee target/test-output.txt
bash scripts/check-test-counts.sh target/test-output.txt .ci/expected-suites

# The benchmark harness, short: one 2 s window per reader at 320x240 (figures not quoted).
cargo run --all-features --example benchmark -- --quick
