#!/usr/bin/env bash
# Fails when a test binary named in the expected list ran no test (or did not run at all):
# a suite that silently stops running is as bad as one that fails.
# Usage: check-test-counts.sh CARGO_TEST_OUTPUT EXPECTED_LIST
set -euo pipefail
output=$1
expected=$2

awk -v expected_file="$expected" '
  /^ *Running / {
    # "Running tests/reconnect.rs (target/debug/deps/reconnect-0123abcd)"
    path = $0; sub(/.*deps\//, "", path); sub(/\).*/, "", path); sub(/-[0-9a-f]+$/, "", path)
    suite = path; next
  }
  /^ *Doc-tests / { suite = "doc:" $2; next }
  /^test result:/ {
    n = $4; f = $6; passed[suite] += n; ran[suite] = 1; total += n; failed += f
  }
  END {
    bad = 0
    while ((getline line < expected_file) > 0) {
      if (line ~ /^#/ || line ~ /^ *$/) continue
      if (!(line in ran)) { print "suite did not run: " line; bad = 1 }
      else if (passed[line] == 0) { print "suite ran 0 tests: " line; bad = 1 }
      else printf "%-28s %4d passed\n", line, passed[line]
    }
    printf "total: %d passed, %d failed\n", total, failed
    exit bad
  }
' "$output"
