#!/usr/bin/env bash
# Fails on code that compiles only on Linux x86-64: the x86-64 name of C's va_list
# (`__va_list_tag`) and errno values written as numbers under backends/ (they differ between
# platforms; use the constants ffmpeg-next and libc export). The real check is
# scripts/check-aarch64.sh, which needs a downloaded target and arm64 packages; this one runs
# everywhere, in CI.
set -euo pipefail
cd "$(dirname "$0")/.."

bad=0
if grep -rn --include='*.rs' '__va_list_tag' backends/; then
  echo "check-portability: __va_list_tag is the x86-64 System V type; let the bindings' va_list type be inferred" >&2
  bad=1
fi
# `errno: 11`, `errno == 11`, `-> 11` in a function named after an errno …
if grep -rnE --include='*.rs' '(errno[^a-z_]*[:=]=?\s*[0-9]+|fn [a-z_]*e(again|connrefused|connreset|pipe|timedout|io|noent|acces|inval)\(\)|const E[A-Z]+: *(i32|c_int) *= *[0-9]+)' backends/; then
  echo "check-portability: errno values written as numbers; use ffmpeg_next::util::error / libc constants" >&2
  bad=1
fi
exit $bad
