#!/usr/bin/env bash
# Fails when a test binary named in the expected list ran no test (or did not run at all):
# a suite that silently stops running is as bad as one that fails.
# Usage: check-test-counts.sh CARGO_TEST_OUTPUT EXPECTED_LIST
#
# The output mixes cargo's stderr, the test binaries' stdout and whatever decoders print to
# stderr, so a "test result:" line may be split by foreign lines: its counts are taken from
# the first line at or after it that carries them.
set -euo pipefail
output=$1
expected=$2

awk -v expected_file="$expected" '
  /Running .*deps\// {
    # "Running tests/reconnect.rs (target/debug/deps/reconnect-0123abcd)"
    path = $0; sub(/.*deps\//, "", path); sub(/\).*/, "", path); sub(/-[0-9a-f]+$/, "", path)
    suite = path; next
  }
  /Doc-tests / { s = $0; sub(/.*Doc-tests /, "", s); split(s, words, " "); suite = "doc:" words[1]; next }
  /test result:/ { pending = 1 }
  pending && /[0-9]+ passed;/ {
    match($0, /[0-9]+ passed;/); n = substr($0, RSTART, RLENGTH) + 0
    f = 0
    if (match($0, /[0-9]+ failed;/)) f = substr($0, RSTART, RLENGTH) + 0
    passed[suite] += n; ran[suite] = 1; total += n; failed += f; pending = 0
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
