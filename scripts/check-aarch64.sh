#!/usr/bin/env bash
# Cross-checks the code for aarch64 Linux (not part of CI: it downloads a target and Debian's
# arm64 development packages):
#   1. the core and the facade with `mock`, which need no system library;
#   2. the FFmpeg backend against Debian's arm64 FFmpeg headers and pkg-config files, which is
#      where a platform-specific type (va_list) or constant (errno) would not compile.
# Run as root (or with sudo) on Debian/Ubuntu x86-64.
set -euo pipefail
cd "$(dirname "$0")/.."
target=aarch64-unknown-linux-gnu
sudo=""
[ "$(id -u)" -eq 0 ] || sudo="sudo"

echo "== rustup target add $target"
rustup target add "$target"

echo "== cargo check: core, facade with mock"
cargo check --target "$target" -p rtsp-stream-core --features mock
cargo check --target "$target" -p rtsp-stream --no-default-features --features mock

echo "== arm64 FFmpeg development packages"
if ! dpkg --print-foreign-architectures | grep -qx arm64; then
  $sudo dpkg --add-architecture arm64
  $sudo apt-get update -q
fi
DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -q --no-install-recommends \
  libavcodec-dev:arm64 libavformat-dev:arm64 libavutil-dev:arm64 libswscale-dev:arm64 \
  libswresample-dev:arm64 libavdevice-dev:arm64 libavfilter-dev:arm64 libc6-dev:arm64

echo "== cargo check: FFmpeg backend for $target"
# bindgen (in ffmpeg-sys-next's build script) parses the arm64 headers with clang for the
# target; pkg-config finds the arm64 libraries.
export PKG_CONFIG_ALLOW_CROSS=1
export PKG_CONFIG_PATH=/usr/lib/aarch64-linux-gnu/pkgconfig
export PKG_CONFIG_LIBDIR=/usr/lib/aarch64-linux-gnu/pkgconfig
export BINDGEN_EXTRA_CLANG_ARGS="--target=aarch64-linux-gnu -I/usr/include/aarch64-linux-gnu"
cargo check --target "$target" -p rtsp-stream-ffmpeg
echo "== aarch64: all checks passed"
