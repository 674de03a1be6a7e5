#!/usr/bin/env python3
"""Runs the test binaries `cargo test --workspace --all-features --no-fail-fast --no-run
--message-format=json-render-diagnostics` built (its output is the first argument), as
`cargo test` would run them, but one package per lane and several lanes at once. Doc tests are
not run here (`cargo test --doc`).

Most of the suite waits (deadlines, back-offs, servers restarting) rather than computes, so the
packages overlap well even on two cores. Inside a package the test binaries run one after the
other, as cargo runs them, in the package's directory, and each binary keeps its own threads
and locks: the conformance scenarios of one backend still run one at a time. Packages start
longest first, in the order of .ci/test-lane-order (measured); others after them.

A backend's world scenarios (`*_world` binaries) are a lane of their own.

The combined output keeps cargo's shape ("Running … (target/debug/deps/NAME-HASH)" before each
binary's own output), one package after the other, so scripts/check-test-counts.sh reads it.

Usage: run-tests.py BUILD_JSON OUTPUT_FILE [LANES]   (LANES: packages at once, default 4)
Exit status: non-zero when any test binary failed.
"""

import json
import os
import subprocess
import sys
import threading
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
ORDER_FILE = os.path.join(ROOT, ".ci", "test-lane-order")


def built(json_path):
    """The test binaries of a build; [(package, label, executable, package_dir)]."""
    binaries = []
    with open(json_path, encoding="utf-8", errors="replace") as messages:
        lines = messages.read().splitlines()
    for line in lines:
        try:
            message = json.loads(line)
        except json.JSONDecodeError:
            continue
        if message.get("reason") != "compiler-artifact" or not message.get("executable"):
            continue
        if not message["profile"]["test"]:
            continue
        target = message["target"]
        package = message["package_id"]
        manifest_dir = os.path.dirname(message["manifest_path"])
        src = os.path.relpath(target["src_path"], manifest_dir)
        kind = "unittests " if "lib" in target["kind"] or "bin" in target["kind"] else ""
        exe = os.path.relpath(message["executable"], ROOT)
        binaries.append((package, f"{kind}{src} ({exe})", message["executable"], manifest_dir))
    return binaries


def package_name(package_id):
    # "path+file:///…/core#rtsp-stream-core@0.1.0" or "…#0.1.0" (then the directory names it)
    tail = package_id.rsplit("#", 1)[-1]
    if "@" in tail:
        return tail.split("@", 1)[0]
    return package_id.rsplit("#", 1)[0].rstrip("/").rsplit("/", 1)[-1]


def run_lane(name, jobs, results):
    """Runs `jobs` one after the other; stores (output, failed, seconds)."""
    started = time.monotonic()
    chunks, failed = [], False
    for label, command, cwd, env in jobs:
        chunks.append(f"     Running {label}\n")
        proc = subprocess.run(
            command, cwd=cwd, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
            check=False,
        )
        chunks.append(proc.stdout.decode("utf-8", "replace"))
        if proc.returncode != 0:
            failed = True
            chunks.append(f"error: test failed: {label} (exit status {proc.returncode})\n")
    results[name] = ("".join(chunks), failed, time.monotonic() - started)


def lane_order():
    try:
        with open(ORDER_FILE, encoding="utf-8") as f:
            names = [l.strip() for l in f if l.strip() and not l.startswith("#")]
    except OSError:
        names = []
    return {name: i for i, name in enumerate(names)}


def main():
    json_path, output_path = sys.argv[1], sys.argv[2]
    lanes = int(sys.argv[3]) if len(sys.argv) > 3 else 4
    binaries = built(json_path)
    if not binaries:
        print(f"no test binary in {json_path}")
        sys.exit(1)
    by_package = {}
    for package, label, exe, cwd in binaries:
        env = dict(os.environ, CARGO_MANIFEST_DIR=cwd, CARGO_PKG_NAME=package_name(package))
        lane = package_name(package)
        # A backend's world scenarios (one camera each, mostly waiting) get a lane of their
        # own beside its conformance suite: separate processes, no lock shared.
        if os.path.basename(exe).split("-")[0].endswith("_world"):
            lane += " world"
        by_package.setdefault(lane, []).append((label, [exe], cwd, env))
    for jobs in by_package.values():
        jobs.sort(key=lambda job: job[0])
    order = lane_order()
    work = sorted(by_package.items(), key=lambda item: (order.get(item[0], len(order)), item[0]))

    results, queue, lock = {}, list(work), threading.Lock()

    def worker():
        while True:
            with lock:
                if not queue:
                    return
                name, jobs = queue.pop(0)
            run_lane(name, jobs, results)

    threads = [threading.Thread(target=worker) for _ in range(lanes)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()

    failed = []
    with open(output_path, "w", encoding="utf-8") as out:
        for name, _ in work:
            text, lane_failed, seconds = results[name]
            out.write(text)
            sys.stdout.write(text)
            if lane_failed:
                failed.append(name)
    print("\nlane durations:")
    for name, _ in work:
        print(f"  {results[name][2]:7.1f} s  {name}")
    if failed:
        print(f"failed: {', '.join(failed)}")
        sys.exit(1)


if __name__ == "__main__":
    main()
