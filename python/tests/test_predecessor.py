"""The predecessor's own test suite, behaviour by behaviour: once against the scripted mock
backend (as its suite mocked cv2.VideoCapture) and once against a real RTSP server on
loopback. Only the import line differs from a program written for rtsp-stream 0.1.0."""

import pytest

from rtsp_stream_rs import MockScript, VideoStream

from conftest import wait_until


def streaming_mock(fps=25.0):
    return MockScript().open_ok(64, 48, fps).frames_forever(1 / fps)


class Source:
    """A healthy source, one that drops once and comes back, one that never answers."""

    def __init__(self, kind, server=None):
        self.kind = kind
        self.server = server

    def healthy(self, **kw):
        if self.kind == "mock":
            return VideoStream("mock://cam", cap_backend=streaming_mock(), **kw)
        return VideoStream(self.server.url, **kw)

    def dropping(self, **kw):
        if self.kind == "mock":
            script = (
                MockScript().open_ok(64, 48, 25.0).frames(5).read_error()
                .open_ok(64, 48, 25.0).frames_forever(0.04)
            )
            return VideoStream("mock://cam", cap_backend=script, reconnect_delay=0.05, **kw), None
        return VideoStream(self.server.url, reconnect_delay=0.05, stall_timeout=1.0, **kw), self.server

    def dead(self, **kw):
        if self.kind == "mock":
            script = MockScript()
            for _ in range(10):
                script.open_fail("refused")
            return VideoStream("mock://cam", cap_backend=script, **kw)
        return VideoStream("rtsp://127.0.0.1:9/nothing", **kw)

    def fps(self):
        return 25.0 if self.kind == "mock" else 15.0


@pytest.fixture(params=["mock", "server"])
def source(request):
    if request.param == "mock":
        yield Source("mock")
    else:
        server = request.getfixturevalue("server")
        yield Source("server", server)


def test_reads_a_frame_after_start(source):
    stream = source.healthy().start()
    try:
        wait_until("a frame", lambda: stream.read() is not None)
        frame = stream.read()
        assert frame.ndim == 3 and frame.shape[2] == 3 and frame.dtype.name == "uint8"
    finally:
        stream.stop()


def test_works_as_a_context_manager(source):
    with source.healthy().start() as stream:
        wait_until("a frame", lambda: stream.read() is not None)
    assert not stream.is_connected
    assert stream.read() is None


def test_on_connect_is_called(source):
    calls = []
    with source.healthy(on_connect=lambda: calls.append("connect")).start():
        wait_until("on_connect", lambda: calls == ["connect"])


def test_is_connected_after_start(source):
    with source.healthy().start() as stream:
        wait_until("connected", lambda: stream.is_connected)


def test_reconnects_after_a_feed_drop(source):
    drops, connects = [], []
    stream, server = source.dropping(
        on_disconnect=lambda: drops.append(1), on_connect=lambda: connects.append(1)
    )
    with stream.start():
        wait_until("the first connection", lambda: len(connects) == 1)
        if server is not None:
            server.stop()
            wait_until("the drop", lambda: len(drops) >= 1)
            server.start()
        wait_until("the drop", lambda: len(drops) >= 1)
        wait_until("the reconnection", lambda: len(connects) >= 2, timeout=20)
        wait_until("frames again", lambda: stream.read() is not None)


def test_gives_up_after_max_reconnect_attempts(source):
    failures = []
    stream = source.dead(
        max_reconnect_attempts=3,
        reconnect_delay=0.02,
        on_reconnect_failure=lambda: failures.append(1),
    ).start()
    wait_until("giving up", lambda: failures == [1], timeout=20)
    assert stream.state == "gave_up"
    assert not stream.is_connected
    stream.stop()


def test_reconnect_count_increments(source):
    stream = source.dead(max_reconnect_attempts=4, reconnect_delay=0.02).start()
    wait_until("giving up", lambda: stream.state == "gave_up", timeout=20)
    # Counted as each attempt is made: three reconnections after the first attempt.
    assert stream.reconnect_count == 3
    stream.stop()


def test_fps_is_the_sources(source):
    with source.healthy().start() as stream:
        wait_until("connected", lambda: stream.is_connected)
        assert stream.fps == pytest.approx(source.fps(), rel=0.05)


def test_properties_are_zero_when_stopped(source):
    stream = source.healthy()
    assert (stream.fps, stream.frame_width, stream.frame_height) == (0, 0, 0)
    assert not stream.is_connected
    with stream.start():
        wait_until("a frame", lambda: stream.frame_width > 0)
    assert (stream.fps, stream.frame_width, stream.frame_height) == (0, 0, 0)
    assert not stream.is_connected


def test_starting_twice_is_an_error(source):
    with source.healthy().start() as stream:
        with pytest.raises(RuntimeError, match="already running"):
            stream.start()
