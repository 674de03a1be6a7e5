"""The predecessor (rtsp-stream 0.1.0 from PyPI) and this package on one stream, in one run.

Each package is measured in a fresh process of its own venv (`--measure MODULE`), against its
own test server (the testkit's `rtsp-test-server`, 640x480 H.264 at 30 fps), with the same
program: the predecessor's documented usage, a loop around `read()` that takes each new frame.
Latency is glass to read, from the time stamp drawn in every picture. `scripts/python-benchmark.sh`
makes the venvs and runs this; `--write` puts the table into BENCHMARKS.md.
"""

import json
import os
import resource
import subprocess
import sys
import time

WINDOW = 10.0
POLL = 0.002
# The test server's stamp: 40 bits, two rows of 20 blocks in the bottom 32 lines (testkit/src/pattern.rs).
BITS, COLUMNS, ROW_HEIGHT = 40, 20, 16


def stamp_age_ms(frame):
    height, width = frame.shape[:2]
    top, block = height - 2 * ROW_HEIGHT, width // COLUMNS
    value = 0
    for bit in range(BITS):
        row, col = divmod(bit, COLUMNS)
        x = col * block + block // 2
        y = top + row * ROW_HEIGHT + ROW_HEIGHT // 2
        if int(frame[y, x].astype(int).sum()) // 3 > 128:
            value |= 1 << bit
    now = int(time.time() * 1e6) & ((1 << BITS) - 1)
    return ((now - value) & ((1 << BITS) - 1)) / 1000.0


def rss_mib():
    with open("/proc/self/status") as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024.0
    return 0.0


def cpu_seconds():
    r = resource.getrusage(resource.RUSAGE_SELF)
    return r.ru_utime + r.ru_stime


def percentile(values, q):
    values = sorted(values)
    return values[round((len(values) - 1) * q)] if values else None


def measure(module_name, server_binary):
    started = time.perf_counter()
    module = __import__(module_name)
    result = {"import_s": time.perf_counter() - started}
    server = subprocess.Popen(
        [server_binary, "--width", "640", "--height", "480", "--fps", "30", "--key-interval", "30"],
        stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True, bufsize=1,
    )
    url, frozen_url = server.stdout.readline().strip(), server.stdout.readline().strip()

    def command(line):
        server.stdin.write(line + "\n")
        server.stdin.flush()
        server.stdout.readline()

    t = time.perf_counter()
    stream = module.VideoStream(url).start()
    while stream.read() is None:
        time.sleep(POLL)
    result["first_frame_s"] = time.perf_counter() - t
    warm = time.perf_counter() + 2
    while time.perf_counter() < warm:
        time.sleep(POLL)
    ages, last, frames = [], None, 0
    cpu, t = cpu_seconds(), time.perf_counter()
    while time.perf_counter() - t < WINDOW:
        frame = stream.read()
        if frame is not None and frame is not last:
            last, frames = frame, frames + 1
            ages.append(stamp_age_ms(frame))
        time.sleep(POLL)
    elapsed, cpu = time.perf_counter() - t, cpu_seconds() - cpu
    result.update(
        frames_per_s=frames / elapsed,
        latency_p50_ms=percentile(ages, 0.5),
        latency_p95_ms=percentile(ages, 0.95),
        cpu_ms_per_frame_polling=cpu * 1000 / max(frames, 1),
        rss_mib=rss_mib(),
    )
    # Decoding alone: the program sleeps while both decode every frame (30 per second).
    cpu, t = cpu_seconds(), time.perf_counter()
    time.sleep(WINDOW)
    result["cpu_ms_per_frame"] = (cpu_seconds() - cpu) * 1000 / (30 * (time.perf_counter() - t))
    if hasattr(stream, "wait_next"):
        # What read() spends copying a new frame into the caller's array (copy=False skips it).
        frame, costs = stream.wait_next(0, timeout=5), []
        for _ in range(200):
            c = time.perf_counter()
            frame.copy()
            costs.append(time.perf_counter() - c)
        result["copy_ms"] = percentile(costs, 0.5) * 1000
    stream.stop()
    # stop() while streaming: five streams, the median.
    stops = []
    for _ in range(5):
        stream = module.VideoStream(url).start()
        while stream.read() is None:
            time.sleep(POLL)
        time.sleep(0.5)
        t = time.perf_counter()
        stream.stop()
        stops.append(time.perf_counter() - t)
    result["stop_streaming_s"] = percentile(stops, 0.5)

    # A frozen camera: the proxy in front of the server holds every byte.
    stream = module.VideoStream(frozen_url).start()
    while stream.read() is None:
        time.sleep(POLL)
    command("freeze")
    frozen, noticed = time.perf_counter(), None
    while time.perf_counter() - frozen < 120:
        if stream.read() is None or not stream.is_connected:
            noticed = time.perf_counter() - frozen
            break
        time.sleep(0.01)
    result["freeze_noticed_s"] = noticed
    stream.stop()
    # stop() while the feed is frozen and not noticed yet (2 s in).
    command("thaw")
    stream = module.VideoStream(frozen_url).start()
    while stream.read() is None:
        time.sleep(POLL)
    command("freeze")
    time.sleep(2)
    t = time.perf_counter()
    stream.stop()
    result["stop_frozen_s"] = time.perf_counter() - t
    server.stdin.close()
    server.wait(timeout=10)
    print("RESULT " + json.dumps(result), flush=True)
    os._exit(0)  # the predecessor's thread may still be blocked in OpenCV after stop()


def import_time(python, module_name):
    """The median of five imports, each in a fresh interpreter."""
    program = (
        "import time; t = time.perf_counter(); import " + module_name
        + "; print(time.perf_counter() - t)"
    )
    times = [
        float(subprocess.run([python, "-c", program], capture_output=True, text=True,
                             check=True).stdout.split()[-1])
        for _ in range(5)
    ]
    return percentile(times, 0.5)


def run(python, module_name, server_binary):
    out = subprocess.run(
        [python, __file__, "--measure", module_name, server_binary],
        capture_output=True, text=True, timeout=600,
    )
    for line in out.stdout.splitlines():
        if line.startswith("RESULT "):
            result = json.loads(line[len("RESULT "):])
            result["import_s"] = import_time(python, module_name)
            return result
    raise SystemExit(f"{module_name}: no result\n{out.stdout}\n{out.stderr}")


def fmt(v, unit=""):
    if v is None:
        return "not within 120 s"
    return f"{v:.3g}{unit}" if abs(v) < 100 else f"{v:.0f}{unit}"


def render(theirs, ours):
    rows = [
        ("latency p50 (glass to read)", "latency_p50_ms", " ms", "lower"),
        ("latency p95", "latency_p95_ms", " ms", "lower"),
        ("CPU per frame, decoding (the program asleep)", "cpu_ms_per_frame", " ms", "lower"),
        ("CPU per frame, with the read() loop", "cpu_ms_per_frame_polling", " ms", "lower"),
        ("frames read per second", "frames_per_s", "", "higher"),
        ("RSS", "rss_mib", " MiB", "lower"),
        ("import (median of 5 fresh interpreters)", "import_s", " s", "lower"),
        ("first frame", "first_frame_s", " s", "lower"),
        ("stop() while streaming (median of 5)", "stop_streaming_s", " s", "lower"),
        ("stop() while frozen (2 s in)", "stop_frozen_s", " s", "lower"),
        ("a frozen feed noticed after", "freeze_noticed_s", " s", "lower"),
    ]
    out = [
        "One 640×480 H.264 stream at 30 fps over TCP, the same program for both (a loop around "
        "`read()` taking each new frame, polling every 2 ms), each package in a process of its "
        "own with its default decoder (the predecessor: OpenCV's FFmpeg; this package: "
        "retina + openh264), in one run.",
        "",
        "| | rtsp-stream 0.1.0 | rtsp-stream-rs | ratio |",
        "|---|---|---|---|",
    ]
    for label, key, unit, better in rows:
        a, b = theirs.get(key), ours.get(key)
        if a is None or b is None or b == 0 or a == 0:
            ratio = "–"
        elif better == "lower":
            ratio = f"{a / b:.1f}× better" if a >= b else f"{b / a:.2f}× worse"
        else:
            ratio = f"{b / a:.2f}×"
        out.append(f"| {label} | {fmt(a, unit)} | {fmt(b, unit)} | {ratio} |")
    if ours.get("copy_ms") is not None:
        out.append(
            f"\n`read()` copies each new frame once into an array the caller owns: "
            f"{ours['copy_ms']:.2f} ms per 640×480 frame here (median of 200), included in "
            "the CPU with the read() loop; `read(copy=False)` and `Frame.array` are views without the copy."
        )
    return "\n".join(out)


def write_into_benchmarks_md(text):
    path = os.path.join(os.path.dirname(__file__), "..", "..", "BENCHMARKS.md")
    begin, end = "<!-- python:begin -->", "<!-- python:end -->"
    with open(path) as f:
        old = f.read()
    section = f"{begin}\n{text}\n{end}"
    if begin in old and end in old:
        new = old[: old.index(begin)] + section + old[old.index(end) + len(end):]
    else:
        new = old.rstrip() + "\n\n" + section + "\n"
    with open(path, "w") as f:
        f.write(new)


if __name__ == "__main__":
    if sys.argv[1] == "--measure":
        measure(sys.argv[2], sys.argv[3])
    else:
        theirs_python, ours_python, server_binary = sys.argv[1:4]
        theirs = run(theirs_python, "rtsp_stream", server_binary)
        print("rtsp-stream 0.1.0:", theirs, file=sys.stderr)
        ours = run(ours_python, "rtsp_stream_rs", server_binary)
        print("rtsp-stream-rs:", ours, file=sys.stderr)
        text = render(theirs, ours)
        print(text)
        if "--write" in sys.argv:
            write_into_benchmarks_md(text)
