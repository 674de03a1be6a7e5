#!/usr/bin/env python3
"""Prints the slot benchmark's medians as a Markdown table (run after `cargo bench --bench slot`)."""
import json
import pathlib

root = pathlib.Path(__file__).resolve().parent.parent / "target" / "criterion" / "slot_read"


def median(name, readers):
    path = root / name / str(readers) / "new" / "estimates.json"
    return json.loads(path.read_text())["median"]["point_estimate"]


print("| readers | `read()` of a stream | arc-swap flat out | mutex flat out | mutex / arc-swap | arc-swap 1 kHz | mutex 1 kHz | mutex / arc-swap |")
print("|---:|---:|---:|---:|---:|---:|---:|---:|")
for n in (1, 4, 8):
    s = median("stream_read", n)
    af, mf = median("arc_swap_flat_out", n), median("mutex_flat_out", n)
    ak, mk = median("arc_swap_1khz", n), median("mutex_1khz", n)
    print(f"| {n} | {s:.0f} ns | {af:.0f} ns | {mf:.0f} ns | {mf / af:.2f} | {ak:.0f} ns | {mk:.0f} ns | {mk / ak:.2f} |")
