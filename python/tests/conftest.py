"""Fixtures: the loopback RTSP test server as a child process, and waits with deadlines."""

import os
import subprocess
import time

import pytest


def wait_until(what, condition, timeout=10.0):
    """Polls `condition` until true; fails naming `what` after `timeout` seconds."""
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            pytest.fail(f"timed out waiting for {what}")
        time.sleep(0.01)


class Server:
    """The testkit's `rtsp-test-server`: `url` direct, `frozen_url` through a proxy that
    `freeze()` blackholes; `stop()` / `start()` take the server down and up."""

    def __init__(self, *args):
        binary = os.environ.get("RTSP_STREAM_TEST_SERVER")
        if not binary:
            pytest.skip("RTSP_STREAM_TEST_SERVER is not set (scripts/test-all.sh sets it)")
        self.process = subprocess.Popen(
            [binary, *args],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            text=True,
            bufsize=1,
        )
        self.url = self.process.stdout.readline().strip()
        self.frozen_url = self.process.stdout.readline().strip()
        assert self.url.startswith("rtsp://"), self.url

    def command(self, line):
        self.process.stdin.write(line + "\n")
        self.process.stdin.flush()
        assert self.process.stdout.readline().strip() == f"ok {line}"

    def stop(self):
        self.command("stop")

    def start(self):
        self.command("start")

    def freeze(self):
        self.command("freeze")

    def close(self):
        self.process.stdin.close()
        try:
            self.process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.process.kill()


@pytest.fixture
def server():
    s = Server("--fps", "15")
    yield s
    s.close()
