#!/usr/bin/env bash
# The demo: installs the system packages it needs (Debian/Ubuntu, only those missing), then runs
# `watch` against an RTSP server it starts in-process — or against the URL you pass. Every
# argument goes to `watch` (see `bash scripts/demo.sh --help`).
set -euo pipefail
cd "$(dirname "$0")/.."

if ! command -v cargo >/dev/null 2>&1; then
  echo "cargo not found: install Rust 1.92 or newer with rustup (https://rustup.rs)" >&2
  exit 1
fi
bash scripts/install-system-packages.sh
exec cargo run --release --example watch --features gstreamer,ffmpeg,opencv,image -- "$@"
