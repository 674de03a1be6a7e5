"""What the predecessor lacked, and the run-time safety of the bindings."""

import asyncio
import gc
import logging
import os
import signal
import subprocess
import sys
import threading
import time

import numpy as np
import pytest

from rtsp_stream_rs import Frame, MockScript, StreamEnded, VideoStream

from conftest import wait_until


def mock_stream(script=None, **kw):
    if script is None:
        script = MockScript().open_ok(64, 48, 50.0).frames_forever(0.02)
    return VideoStream("mock://cam", cap_backend=script, **kw)


def test_read_copies_once_per_frame_and_the_copy_is_writable():
    cv2 = pytest.importorskip("cv2")
    script = MockScript().open_ok(64, 48, 25.0).frames(1).stall()
    with mock_stream(script, stall_timeout=30).start() as stream:
        wait_until("a frame", lambda: stream.read() is not None)
        first = stream.read()
        assert first.flags.writeable and first.flags.owndata
        assert stream.read() is first, "the same frame reads as the same array"
        # What programs written for the predecessor do: draw on the frame.
        cv2.rectangle(first, (1, 1), (20, 20), (0, 0, 255), 2)
        assert tuple(first[1, 1]) == (0, 0, 255)
        view = stream.read(copy=False)
        assert not view.flags.writeable
        assert tuple(view[1, 1]) != (0, 0, 255), "drawing on the copy left the frame alone"


def test_the_zero_copy_view_is_the_frames_buffer_and_keeps_it():
    with mock_stream().start() as stream:
        frame = stream.wait_next(0, timeout=10)
        view = frame.array
        assert view.ctypes.data == frame._buffer_address()
        assert not view.flags.writeable
        with pytest.raises(ValueError):
            view[0, 0, 0] = 1
        kept_at, kept, seq = view.ctypes.data, view.copy(), frame.seq
        del frame
        gc.collect()
        for _ in range(20):  # more frames than the pool holds
            f = stream.wait_next(seq, timeout=10)
            seq = f.seq
            assert f._buffer_address() != kept_at, "a held buffer was reused"
        assert np.array_equal(view, kept)


def test_wait_next_returns_none_at_the_timeout_and_raises_at_the_end():
    script = MockScript().open_ok(64, 48, 25.0).frames(3).end_of_stream()
    with mock_stream(script).start() as stream:
        seq = 0
        with pytest.raises(StreamEnded) as ended:
            while True:
                frame = stream.wait_next(seq, timeout=10)
                assert frame is not None
                assert isinstance(frame, Frame) and frame.seq > seq
                assert frame.received_at > 1.6e9
                seq = frame.seq
        assert ended.value.kind == "finished"
        assert seq == 3
    stalled = MockScript().open_ok(64, 48, 25.0).frames(1).stall()
    with mock_stream(stalled, stall_timeout=30).start() as stream:
        first = stream.wait_next(0, timeout=10)
        started = time.monotonic()
        assert stream.wait_next(first.seq, timeout=0.2) is None
        assert time.monotonic() - started < 5
        assert stream.read_new(first.seq) is None
        assert stream.read_new(0).seq == first.seq


def test_frames_iterates_and_ends_with_the_stream():
    script = MockScript().open_ok(64, 48, 25.0).frames(5).end_of_stream()
    with mock_stream(script).start() as stream:
        seqs = [f.seq for f in stream.frames()]
        assert seqs and seqs == sorted(set(seqs)) and seqs[-1] == 5


def test_async_frames_wake_on_frames_and_end_and_cancel():
    script = MockScript().open_ok(64, 48, 25.0).frames(4).end_of_stream()

    async def collect(stream):
        return [f.seq async for f in stream.frames()]

    with mock_stream(script).start() as stream:
        seqs = asyncio.run(asyncio.wait_for(collect(stream), 10))
        assert seqs[-1] == 4

    async def cancelled(stream):
        task = asyncio.ensure_future(collect(stream))
        await asyncio.sleep(0.2)
        task.cancel()
        with pytest.raises(asyncio.CancelledError):
            await task
        return threading.active_count()

    stalled = MockScript().open_ok(64, 48, 25.0).frames(1).stall()
    with mock_stream(stalled, stall_timeout=30).start() as stream:
        before = threading.active_count()
        assert asyncio.run(cancelled(stream)) == before, "no thread per waiter"


def test_state_stats_and_typed_events():
    events = []
    with mock_stream(on_event=events.append).start() as stream:
        wait_until("streaming", lambda: stream.state == "streaming")
        wait_until("a first_frame event", lambda: any(e.kind == "first_frame" for e in events))
        stats = stream.stats
        assert stats["frames_decoded"] >= 1 and stats["state"] == "streaming"
    kinds = [e.kind for e in events]
    assert kinds[:2] == ["connecting", "connected"], kinds
    connected = events[1]
    assert (connected.width, connected.height) == (64, 48)


def test_a_callback_that_raises_is_logged_and_the_stream_goes_on(caplog):
    def boom():
        raise ValueError("callback trouble")

    with caplog.at_level(logging.ERROR, logger="rtsp_stream"):
        with mock_stream(on_connect=boom).start() as stream:
            wait_until("the error is logged", lambda: "callback trouble" in caplog.text)
            seq = stream.wait_next(0, timeout=10).seq
            assert stream.wait_next(seq, timeout=10) is not None


def test_stop_from_a_callback():
    holder = {}

    def on_first(event):
        if event.kind == "first_frame":
            holder["stream"].stop()
            holder["stopped"] = True

    stream = mock_stream(on_event=on_first)
    holder["stream"] = stream
    stream.start()
    wait_until("stopped from the callback", lambda: holder.get("stopped"))
    assert stream.state == "stopped"


def test_ctrl_c_interrupts_a_long_wait():
    stalled = MockScript().open_ok(64, 48, 25.0).frames(1).stall()
    # Python leaves SIGINT ignored when it started ignored (a job started in the background
    # by a non-interactive shell, as CI runners may): Ctrl-C's handler, for this test only.
    previous = signal.signal(signal.SIGINT, signal.default_int_handler)
    with mock_stream(stalled, stall_timeout=30).start() as stream:
        first = stream.wait_next(0, timeout=10)
        timer = threading.Timer(0.3, os.kill, (os.getpid(), signal.SIGINT))
        timer.start()
        started = time.monotonic()
        try:
            with pytest.raises(KeyboardInterrupt):
                stream.wait_next(first.seq, timeout=10)
        finally:
            signal.signal(signal.SIGINT, previous)
        assert time.monotonic() - started < 0.3 + 0.5


def test_log_records_reach_logging_without_the_password(caplog):
    url = "rtsp://viewer:Py-Secret-4@127.0.0.1:9/cam"
    with caplog.at_level(logging.INFO, logger="rtsp_stream"):
        stream = VideoStream(url, max_reconnect_attempts=2, reconnect_delay=0.02).start()
        wait_until("giving up", lambda: stream.state == "gave_up", timeout=20)
        wait_until("the records", lambda: "connecting" in caplog.text)
        stream.stop()
    assert all(r.name.startswith("rtsp_stream") for r in caplog.records)
    assert "Py-Secret-4" not in caplog.text
    assert any(r.levelno == logging.INFO for r in caplog.records)


def test_an_interpreter_with_a_running_stream_exits_cleanly():
    program = """
import time
from rtsp_stream_rs import MockScript, VideoStream
events = []
s = VideoStream("mock://cam", cap_backend=MockScript().open_ok(64, 48, 50.0).frames_forever(0.02),
                on_event=events.append, on_connect=lambda: None).start()
while s.read() is None:
    time.sleep(0.01)
print("streaming", flush=True)
"""
    # The exit, measured from the child's last line (after the stream streamed), within 2 s.
    exiting = subprocess.run(
        [sys.executable, "-c", program + "\nimport time as t; print(t.monotonic(), flush=True)"],
        capture_output=True,
        text=True,
        timeout=30,
    )
    ended = time.monotonic()
    assert exiting.returncode == 0, exiting.stderr
    assert "streaming" in exiting.stdout
    last = float(exiting.stdout.split()[-1])
    assert ended - last < 2.0, f"exit took {ended - last:.2f} s"


def test_cap_backend_takes_opencv_numbers_and_names():
    from rtsp_stream_rs import CAP_ANY, CAP_FFMPEG, available_backends

    assert CAP_ANY == 0 and CAP_FFMPEG == 1900
    VideoStream("rtsp://127.0.0.1:9/x", cap_backend=CAP_ANY)
    VideoStream("rtsp://127.0.0.1:9/x", cap_backend=available_backends()[0])
    with pytest.raises(ValueError):
        VideoStream("rtsp://127.0.0.1:9/x", cap_backend=12345)
    with pytest.raises(ValueError):
        VideoStream("rtsp://127.0.0.1:9/x", cap_backend="no-such-decoder")


def test_a_frozen_camera_is_noticed_and_its_stale_frame_is_not_served(server):
    with VideoStream(server.frozen_url, stall_timeout=1.0, reconnect_delay=0.2).start() as stream:
        first = stream.wait_next(0, timeout=20)
        assert first is not None
        server.freeze()
        # Noticed after the stall timeout (1 s): the stale frame goes, and none comes back.
        wait_until("the freeze is noticed", lambda: stream.read() is None, timeout=5)
        assert not stream.is_connected
        assert stream.wait_next(first.seq, timeout=0.5) is None, "a stale frame served as new"


def test_camera_time_comes_from_the_servers_sender_reports(server):
    """The test server's sender reports carry this machine's clock: once one arrived, a
    frame's camera time is its capture instant, a little before it was received."""
    with VideoStream(server.url).start() as stream:
        first = stream.wait_next(0, timeout=20)
        assert first is not None
        assert first.camera_time is None or first.camera_time_source is not None
        timed = []

        def a_timed_frame():
            frame = stream.wait_next(0, timeout=1)
            if frame is not None and frame.camera_time is not None:
                timed.append(frame)
            return bool(timed)

        # Servers send a report every few seconds: the first may take that long.
        wait_until("a frame with a camera time", a_timed_frame, timeout=15)
        frame = timed[0]
        assert frame.camera_time_source in ("sender_reports", "first_sender_report")
        assert abs(frame.received_at - frame.camera_time) < 1.0
