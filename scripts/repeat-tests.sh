#!/usr/bin/env bash
# Runs test binaries many times under load, to find tests that fail once in a while (not part
# of CI: it takes long). Two busy loops keep both cores of a small machine loaded meanwhile.
#
#   bash scripts/repeat-tests.sh core 200          # every core test binary, 200 runs each
#   bash scripts/repeat-tests.sh conformance 20    # each backend's conformance binary
#   bash scripts/repeat-tests.sh retina 50         # the retina backend's own tests
#   bash scripts/repeat-tests.sh BINARY-NAME N [TEST-FILTER]
#
# Prints one line per binary (runs, failures) and keeps the output of every failed run under
# target/repeat/. Exits non-zero if any run failed.
set -euo pipefail
cd "$(dirname "$0")/.."

what=${1:?usage: repeat-tests.sh core|conformance|BINARY RUNS [FILTER]}
runs=${2:-20}
filter=${3:-}

case "$what" in
  core) names="rtsp_stream_core reconnect stop slot group seed_scenarios alloc_free_publish redaction limits waiting stats" ;;
  conformance) names="ffmpeg_conformance gstreamer_conformance opencv_conformance retina_conformance" ;;
  retina) names="retina retina_stop" ;;
  *) names="$what" ;;
esac

# Build once and find the binaries cargo made.
listing=$(cargo test --workspace --all-features --no-run --message-format=json 2>/dev/null)
binary_of() {
  printf '%s\n' "$listing" | python3 -c '
import json, sys
name = sys.argv[1]
for line in sys.stdin:
    try:
        m = json.loads(line)
    except ValueError:
        continue
    if (m.get("reason") == "compiler-artifact" and m.get("executable")
            and m.get("profile", {}).get("test") and m["target"]["name"] == name):
        print(m["executable"])
        break
' "$1"
}

load_pids=()
stop_load() { for p in "${load_pids[@]}"; do kill "$p" 2>/dev/null || true; done; }
trap stop_load EXIT
for _ in 1 2; do
  (while :; do :; done) &
  load_pids+=($!)
done

mkdir -p target/repeat
failed_total=0
for name in $names; do
  bin=$(binary_of "$name")
  if [ -z "$bin" ]; then
    echo "$name: no such test binary" >&2
    failed_total=$((failed_total + 1))
    continue
  fi
  failures=0
  started=$(date +%s)
  for i in $(seq 1 "$runs"); do
    out="target/repeat/$name-$i.log"
    # shellcheck disable=SC2086
    if "$bin" $filter >"$out" 2>&1; then
      rm -f "$out"
    else
      failures=$((failures + 1))
      echo "  $name run $i failed: $(grep -m1 -E 'panicked at|FAILED' "$out" || echo 'see log') ($out)"
    fi
  done
  echo "$name: $runs runs, $failures failed ($(( $(date +%s) - started )) s)"
  failed_total=$((failed_total + failures))
done
[ "$failed_total" -eq 0 ]
