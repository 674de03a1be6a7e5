#!/usr/bin/env python3
"""The README's compatibility matrix, made from a test run.

The world scenarios (testkit/src/conformance/scenarios/world.rs) print one line per backend and
condition they asserted, `matrix-cell<TAB>index<TAB>condition<TAB>backend<TAB>cell`, and only
once the assertions held. This script collects those lines from a test run's output into a
table (rows: conditions, in the scenarios' order; columns: backends) and compares it with the
README's, between `<!-- compat-matrix:begin -->` and `<!-- compat-matrix:end -->`.

Usage: compat-matrix.py TEST_OUTPUT README [--write]
  without --write: exits 1 when the README's matrix differs from the run (or a cell is missing)
  with --write:    writes the run's matrix into the README
"""

import sys

BEGIN, END = "<!-- compat-matrix:begin -->", "<!-- compat-matrix:end -->"


def cells(path):
    found = {}
    with open(path, encoding="utf-8", errors="replace") as f:
        for line in f:
            parts = line.rstrip("\n").split("\t")
            if len(parts) == 5 and parts[0] == "matrix-cell":
                _, index, row, column, cell = parts
                found[(int(index), row, column)] = cell
    return found


def render(found):
    """The table, with each limit's reason written once under it as a numbered note."""
    rows = sorted({(i, r) for i, r, _ in found})
    columns = sorted({c for _, _, c in found})
    lines = ["| condition | " + " | ".join(columns) + " |", "|---" * (len(columns) + 1) + "|"]
    missing, notes = [], []
    for index, row in rows:
        out = []
        for column in columns:
            cell = found.get((index, row, column))
            if cell is None:
                missing.append(f"{row} / {column}")
                cell = "not run"
            for word, prefix in (("limited", "works, "), ("cannot", "cannot: ")):
                if cell.startswith(prefix):
                    reason = cell[len(prefix):]
                    if reason not in notes:
                        notes.append(reason)
                    cell = f"{word} ({notes.index(reason) + 1})"
            out.append(cell.replace("|", "\\|"))
        lines.append(f"| {row} | " + " | ".join(out) + " |")
    if notes:
        lines.append("")
        lines += [f"{n}. {reason}" for n, reason in enumerate(notes, 1)]
    return "\n".join(lines), missing


def main():
    if len(sys.argv) < 3:
        sys.exit(__doc__)
    output, readme = sys.argv[1], sys.argv[2]
    write = "--write" in sys.argv[3:]
    found = cells(output)
    if not found:
        print(f"compat-matrix: no matrix cell in {output}")
        sys.exit(1)
    table, missing = render(found)
    with open(readme, encoding="utf-8") as f:
        text = f.read()
    start, end = text.find(BEGIN), text.find(END)
    if start < 0 or end < start:
        sys.exit(f"compat-matrix: {readme} has no {BEGIN} … {END} section")
    current = text[start + len(BEGIN):end].strip("\n")
    if write:
        text = text[: start + len(BEGIN)] + "\n" + table + "\n" + text[end:]
        with open(readme, "w", encoding="utf-8") as f:
            f.write(text)
        print(f"compat-matrix: {readme} updated ({len(found)} cells)")
    elif current != table:
        print("compat-matrix: the README's matrix differs from this run's; the run's:\n")
        print(table)
        print("\n(scripts/compat-matrix.py OUTPUT README.md --write puts it in the README)")
        sys.exit(1)
    if missing:
        print("compat-matrix: cells not asserted in this run: " + "; ".join(missing))
        sys.exit(1)
    print(f"compat-matrix: the README's matrix matches the run ({len(found)} cells)")


if __name__ == "__main__":
    main()
