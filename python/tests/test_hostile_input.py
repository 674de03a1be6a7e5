"""What an application or a camera may hand the bindings: callbacks that stop and start the
stream while another thread does the same, absurd timeouts, names that no thread can carry,
callbacks that fall behind."""

import subprocess
import sys
import textwrap
import threading
import time

import pytest

from rtsp_stream_rs import MockScript, StreamEnded, VideoStream

from conftest import wait_until


def test_callbacks_that_stop_and_start_while_the_main_thread_does_never_deadlock():
    # In a child with a timeout: a deadlock would hold the GIL and freeze the interpreter
    # that runs pytest.
    program = textwrap.dedent(
        """
        import threading, time
        from rtsp_stream_rs import MockScript, VideoStream

        def script():
            s = MockScript()
            for _ in range(200):
                s.open_ok(64, 48, 50.0).frames(2).read_error("lost")
            return s

        holder = {}

        def on_event(event):
            stream = holder["stream"]
            if event.kind == "connected":
                stream.stop()
            elif event.kind in ("backing_off", "stopped"):
                try:
                    stream.start()
                except RuntimeError:
                    pass

        stream = VideoStream("mock://cam", cap_backend=script(), reconnect_delay=0.001,
                             max_reconnect_delay=0.001, on_event=on_event,
                             on_connect=lambda: None)
        holder["stream"] = stream
        deadline = time.monotonic() + 4
        while time.monotonic() < deadline:
            try:
                stream.start()
            except RuntimeError:
                pass
            stream.stop()
        stream.stop()
        print("NO-DEADLOCK")
        """
    )
    done = subprocess.run(
        [sys.executable, "-c", program], capture_output=True, text=True, timeout=60
    )
    assert done.returncode == 0, done.stderr
    assert "NO-DEADLOCK" in done.stdout


@pytest.mark.parametrize("timeout", [1e300, float("inf"), 2.0**63])
def test_a_huge_timeout_waits_without_limit_never_a_panic(timeout):
    script = MockScript().open_ok(64, 48, 25.0).frames(1).stall()
    stream = VideoStream("mock://cam", cap_backend=script, stall_timeout=30).start()
    frame = stream.wait_next(0, timeout=timeout)
    assert frame.seq == 1
    stopper = threading.Timer(0.3, stream.stop)
    stopper.start()
    with pytest.raises(StreamEnded):
        stream.wait_next(frame.seq, timeout=timeout)
    stopper.join()


@pytest.mark.parametrize("timeout", [-1.0, float("nan"), float("-inf")])
def test_a_negative_or_nan_timeout_is_a_value_error(timeout):
    stream = VideoStream("mock://cam", cap_backend=MockScript().open_ok().frames_forever(0.02))
    with pytest.raises(ValueError, match="timeout"):
        stream.wait_next(0, timeout=timeout)


def test_a_name_with_nul_starts_like_any_other():
    script = MockScript().open_ok(64, 48, 25.0).frames_forever(0.02)
    seen = []
    with VideoStream(
        "mock://cam", cap_backend=script, name="cam\x00era\n", on_connect=lambda: seen.append(1)
    ).start() as stream:
        assert stream.wait_next(0, timeout=10).seq >= 1
        wait_until("on_connect", lambda: seen)


def test_callbacks_that_fall_behind_get_a_lagged_event_and_every_state_change():
    script = MockScript()
    for _ in range(400):
        script.open_ok(64, 48, 50.0).frames(1).read_error("lost")
    kinds = []
    lagged = []
    release = threading.Event()

    def on_event(event):
        if not release.is_set():
            release.wait(10)
        kinds.append(event.kind)
        if event.kind == "lagged":
            lagged.append(event.dropped)

    stream = VideoStream(
        "mock://cam", cap_backend=script, reconnect_delay=0.0005, max_reconnect_delay=0.0005,
        max_reconnect_attempts=1, on_event=on_event,
    ).start()
    # The callback thread is stuck while hundreds of connections come and go.
    wait_until("the run to end", lambda: stream.state == "gave_up", timeout=30)
    release.set()
    wait_until("the last event", lambda: "gave_up" in kinds, timeout=30)
    stream.stop()
    assert lagged and sum(lagged) == stream.stats["callbacks_lagged"], (lagged, stream.stats)
    assert kinds.count("connected") == kinds.count("disconnected") + (
        1 if kinds.count("connected") > kinds.count("disconnected") else 0
    )
    assert kinds[-1] == "gave_up" or "gave_up" in kinds
