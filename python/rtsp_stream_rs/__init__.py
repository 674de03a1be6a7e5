"""Live video from RTSP cameras, HTTP and file URLs on a background thread that keeps the
newest frame and reconnects by itself -- the API of the Python package ``rtsp-stream`` 0.1.0,
over the Rust library ``rtsp-stream``.

Migrating is one line::

    from rtsp_stream import VideoStream       # before
    from rtsp_stream_rs import VideoStream    # after

Log records go to the logger ``rtsp_stream`` (INFO: connections, drops, reconnections; no
password ever). Streams still running at interpreter exit are stopped.
"""

from __future__ import annotations

import asyncio
import atexit
import logging
import threading

from . import _native
from ._native import (
    CAP_ANY,
    CAP_FFMPEG,
    CAP_GSTREAMER,
    CAP_V4L2,
    Event,
    Frame,
    MockScript,
    StreamEnded,
    available_backends,
)

__all__ = [
    "VideoStream",
    "Frame",
    "Frames",
    "Event",
    "StreamEnded",
    "MockScript",
    "available_backends",
    "CAP_ANY",
    "CAP_FFMPEG",
    "CAP_GSTREAMER",
    "CAP_V4L2",
]

__version__ = "0.1.0"


class Frames:
    """The frames of a stream, one after another, each new frame once: ``for`` blocks for
    each (Ctrl-C works), ``async for`` waits without blocking the event loop. Both end when the
    stream ends (stopped, gave up, end of the source); ``end_reason`` then says why."""

    def __init__(self, native: "_native.FrameIter") -> None:
        self._native = native

    @property
    def end_reason(self):
        return self._native.end_reason

    def __iter__(self) -> "Frames":
        return self

    def __next__(self) -> Frame:
        return next(self._native)

    def __aiter__(self) -> "Frames":
        return self

    async def __anext__(self) -> Frame:
        loop = asyncio.get_running_loop()
        while True:
            frame = self._native._poll()  # raises StopAsyncIteration at the end
            if frame is not None:
                return frame
            woken = loop.create_future()
            fd = self._native._fileno()
            loop.add_reader(fd, _settle, woken)
            try:
                await woken
            except asyncio.CancelledError:
                self._native._cancel()
                raise
            finally:
                loop.remove_reader(fd)
                self._native._drain()


def _settle(future: "asyncio.Future") -> None:
    if not future.done():
        future.set_result(None)


class VideoStream(_native.VideoStream):
    """A live source read on a background thread that keeps the newest frame and reconnects
    by itself, with the predecessor's signature::

        VideoStream(rtsp_url, reconnect_delay=1.0, max_reconnect_attempts=None,
                    reconnect_backoff=1.0, max_reconnect_delay=30.0, on_connect=None,
                    on_disconnect=None, on_reconnect_failure=None, cap_backend=CAP_ANY,
                    cap_buffer_size=None, *, stall_timeout=None, open_timeout=None,
                    transport=None, pixel_format=None, on_event=None, name=None)

    ``cap_backend`` takes OpenCV's ``CAP_*`` numbers (``CAP_ANY``: the best compiled-in
    decoder for the source, ``CAP_FFMPEG``, ``CAP_GSTREAMER``, ``CAP_V4L2``: webcam), a
    backend name (``available_backends()``) or a ``MockScript``.
    """

    def frames(self) -> Frames:
        return Frames(super().frames())


def _drain_logs() -> None:
    loggers = {}
    while True:
        for level, name, message in _native.take_log_records(0.5):
            logger = loggers.get(name)
            if logger is None:
                logger = loggers[name] = logging.getLogger(name)
            logger.log(level, "%s", message)


# One thread hands the library's log records to `logging`; no library thread takes the GIL
# for it.
threading.Thread(target=_drain_logs, name="rtsp-stream-logs", daemon=True).start()
# Streams still running at exit are stopped while the interpreter is whole.
atexit.register(_native.stop_all)
