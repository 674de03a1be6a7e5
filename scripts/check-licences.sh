#!/usr/bin/env bash
# Checks the licence of every crate the workspace depends on (every feature, every target)
# against .ci/licences-allowed: a crate passes when its SPDX expression can be satisfied with
# the allowed licences, or when the file names it as an exception with its reason.
# Usage: check-licences.sh [MANIFEST]   (default: the workspace's Cargo.toml)
#        check-licences.sh --self-test  (a scratch manifest with a GPL-only crate must fail)
set -euo pipefail
cd "$(dirname "$0")/.."
allowed=.ci/licences-allowed

if [ "${1:-}" = "--self-test" ]; then
  scratch=target/licence-self-test
  rm -rf "$scratch"
  mkdir -p "$scratch/gpl-only/src" "$scratch/app/src"
  cat > "$scratch/gpl-only/Cargo.toml" <<'TOML'
[package]
name = "gpl-only"
version = "0.1.0"
edition = "2021"
license = "GPL-3.0-only"
TOML
  echo "" > "$scratch/gpl-only/src/lib.rs"
  cat > "$scratch/app/Cargo.toml" <<'TOML'
[package]
name = "scratch-app"
version = "0.1.0"
edition = "2021"
license = "MIT"
[dependencies]
gpl-only = { path = "../gpl-only" }
[workspace]
TOML
  echo "" > "$scratch/app/src/lib.rs"
  if bash "$0" "$scratch/app/Cargo.toml" >/dev/null 2>&1; then
    echo "licence check self-test: a GPL-only dependency passed" >&2
    exit 1
  fi
  echo "licence check self-test: a GPL-only dependency is refused"
  exit 0
fi

manifest=${1:-Cargo.toml}
metadata=$(mktemp)
trap 'rm -f "$metadata"' EXIT
cargo metadata --format-version 1 --all-features --manifest-path "$manifest" > "$metadata"
python3 -c '
import json, re, sys

allowed_file = sys.argv[1]
allowed, exceptions = set(), {}
for line in open(allowed_file):
    line = line.split("#", 1)[0].strip()
    if not line:
        continue
    if line.startswith("exception "):
        crate, licence = line.split()[1:3]
        exceptions[crate] = licence
    else:
        allowed.add(line)

def tokens(expr):
    return re.findall(r"\(|\)|[^\s()]+", expr)

def parse(toks):
    # expr := term (OR term)* ; term := atom (AND atom)* ; atom := ( expr ) | id [WITH id]
    def expr(i):
        ok, i = term(i)
        while i < len(toks) and toks[i] == "OR":
            rhs, i = term(i + 1)
            ok = ok or rhs
        return ok, i
    def term(i):
        ok, i = atom(i)
        while i < len(toks) and toks[i] == "AND":
            rhs, i = atom(i + 1)
            ok = ok and rhs
        return ok, i
    def atom(i):
        if toks[i] == "(":
            ok, i = expr(i + 1)
            return ok, i + 1
        name = toks[i]
        i += 1
        if i < len(toks) and toks[i] == "WITH":
            name = name + " WITH " + toks[i + 1]
            i += 2
        return name in allowed, i
    ok, i = expr(0)
    return ok and i == len(toks)

meta = json.load(sys.stdin)
bad = []
for p in meta["packages"]:
    licence = p.get("license")
    if p["source"] is None and p["name"].startswith("rtsp-stream"):
        continue
    if not licence:
        bad.append(f"{p['name']} {p['version']}: no SPDX licence (file: {p.get('license_file')})")
        continue
    if exceptions.get(p["name"]) == licence:
        continue
    # Old-style separators: "MIT/Apache-2.0" means either.
    expr = licence.replace("/", " OR ")
    if not parse(tokens(expr)):
        bad.append(f"{p['name']} {p['version']}: {licence}")
if bad:
    print("licences not allowed (.ci/licences-allowed):", *bad, sep="\n  ", file=sys.stderr)
    sys.exit(1)
count = len(meta["packages"])
print(f"licences: {count} crates, all allowed")
' "$allowed" < "$metadata"
