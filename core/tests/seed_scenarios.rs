//! The ten test scenarios of the Python package `rtsp-stream` 0.1.0, in Rust.

mod common;

use common::{EventLog, PATIENCE, mock_stream, take_backoff, wait_until};
use mockall::automock;
use rtsp_stream_core::{ErrorKind, Event, ManualClock, MockScript, State};
use std::sync::Arc;

fn props() -> rtsp_stream_core::StreamProps {
    MockScript::props(640, 480, 25.0)
}

#[automock]
trait SeedCallbacks {
    fn on_connect(&self);
    fn on_disconnect(&self);
    fn on_reconnect_failure(&self);
}

/// Drops the stream (and with it the callbacks) so the mock verifies its expectations.
fn verify(stream: impl Sized, callbacks: Arc<MockSeedCallbacks>) {
    drop(stream);
    let callbacks = Arc::try_unwrap(callbacks).unwrap_or_else(|_| panic!("callbacks still shared"));
    drop(callbacks);
}

#[test]
fn reads_a_frame_after_start() {
    let script = MockScript::new();
    script.open_ok(props()).frames(1).stall();
    let (clock, log) = (ManualClock::new(), EventLog::default());
    let stream = mock_stream(&script, &clock, &log).start().unwrap();
    let frame = stream.wait_next(0, PATIENCE).expect("a frame");
    assert_eq!((frame.width(), frame.height()), (640, 480));
    assert_eq!(stream.read().unwrap().seq(), frame.seq());
}

#[test]
fn stops_on_scope_exit() {
    // The Python context manager; here, Drop.
    let script = MockScript::new();
    script.open_ok(props()).frames(1).stall();
    let (clock, log) = (ManualClock::new(), EventLog::default());
    {
        let stream = mock_stream(&script, &clock, &log).start().unwrap();
        assert!(stream.wait_next(0, PATIENCE).is_ok());
    }
    assert_eq!(script.close_count(), 1);
    assert_eq!(log.names().last(), Some(&"stopped"));
}

#[test]
fn calls_on_connect() {
    let script = MockScript::new();
    script.open_ok(props()).frames(1).stall();
    let mut callbacks = MockSeedCallbacks::new();
    callbacks.expect_on_connect().times(1).return_const(());
    callbacks.expect_on_disconnect().times(0);
    let callbacks = Arc::new(callbacks);
    let (clock, log) = (ManualClock::new(), EventLog::default());
    let c = callbacks.clone();
    let stream = mock_stream(&script, &clock, &log)
        .on_connect(move || c.on_connect())
        .start()
        .unwrap();
    log.wait_for("first frame", |e| matches!(e, Event::FirstFrame { .. }));
    verify(stream, callbacks);
}

#[test]
fn is_connected_after_start() {
    let script = MockScript::new();
    script.open_ok(props()).frames(1).stall();
    let (clock, log) = (ManualClock::new(), EventLog::default());
    let stream = mock_stream(&script, &clock, &log).start().unwrap();
    wait_until("connected", || stream.is_connected());
    assert_eq!(stream.state(), State::Streaming);
}

#[test]
fn reconnects_after_a_feed_drop() {
    let script = MockScript::new();
    script
        .open_ok(props())
        .frames(2)
        .read_error(ErrorKind::ConnectionLost)
        .open_ok(props())
        .frames(1)
        .stall();
    let mut callbacks = MockSeedCallbacks::new();
    callbacks.expect_on_connect().times(2).return_const(());
    callbacks.expect_on_disconnect().times(1).return_const(());
    let callbacks = Arc::new(callbacks);
    let (clock, log) = (ManualClock::new(), EventLog::default());
    let (c1, c2) = (callbacks.clone(), callbacks.clone());
    let stream = mock_stream(&script, &clock, &log)
        .on_connect(move || c1.on_connect())
        .on_disconnect(move || c2.on_disconnect())
        .start()
        .unwrap();
    take_backoff(&log, &clock, 0);
    wait_until("a frame of the second connection", || {
        stream.read().is_some_and(|f| f.generation() == 2)
    });
    log.wait_nth("first_frame", 1);
    assert_eq!(script.open_count(), 2);
    verify(stream, callbacks);
}

#[test]
fn gives_up_after_max_reconnect_attempts() {
    let script = MockScript::new();
    let mut callbacks = MockSeedCallbacks::new();
    callbacks
        .expect_on_reconnect_failure()
        .times(1)
        .return_const(());
    callbacks.expect_on_connect().times(0);
    let callbacks = Arc::new(callbacks);
    let (clock, log) = (ManualClock::new(), EventLog::default());
    let c = callbacks.clone();
    let stream = mock_stream(&script, &clock, &log)
        .max_reconnect_attempts(2)
        .on_reconnect_failure(move || c.on_reconnect_failure())
        .start()
        .unwrap();
    take_backoff(&log, &clock, 0);
    log.wait_for("gave up", |e| matches!(e, Event::GaveUp { .. }));
    wait_until("worker ends", || !stream.is_running());
    assert_eq!(script.open_count(), 2);
    assert_eq!(stream.state(), State::GaveUp);
    verify(stream, callbacks);
}

#[test]
fn reconnect_count_increments() {
    let script = MockScript::new();
    script
        .open_ok(props())
        .frames(1)
        .read_error(ErrorKind::ConnectionLost)
        .open_ok(props())
        .frames(1)
        .stall();
    let (clock, log) = (ManualClock::new(), EventLog::default());
    let stream = mock_stream(&script, &clock, &log).start().unwrap();
    assert_eq!(stream.reconnect_count(), 0);
    take_backoff(&log, &clock, 0);
    wait_until("one reconnect", || stream.reconnect_count() == 1);
}

#[test]
fn fps_is_the_capture_value() {
    let script = MockScript::new();
    script
        .open_ok(MockScript::props(320, 240, 12.5))
        .frames(1)
        .stall();
    let (clock, log) = (ManualClock::new(), EventLog::default());
    let stream = mock_stream(&script, &clock, &log).start().unwrap();
    wait_until("connected", || stream.is_connected());
    assert_eq!(stream.fps(), 12.5);
    assert_eq!((stream.frame_width(), stream.frame_height()), (320, 240));
}

#[test]
fn properties_are_zero_when_stopped() {
    let script = MockScript::new();
    script.open_ok(props()).frames(1).stall();
    let (clock, log) = (ManualClock::new(), EventLog::default());
    let stream = mock_stream(&script, &clock, &log).build().unwrap();
    let zero = |s: &rtsp_stream_core::VideoStream<_>| {
        assert_eq!(s.fps(), 0.0);
        assert_eq!(s.frame_width(), 0);
        assert_eq!(s.frame_height(), 0);
        assert!(!s.is_connected());
    };
    zero(&stream);
    stream.start().unwrap();
    wait_until("connected", || stream.frame_width() == 640);
    stream.stop();
    zero(&stream);
}

#[test]
fn starting_twice_is_an_error() {
    let script = MockScript::new();
    script.open_ok(props()).frames(1).stall();
    let (clock, log) = (ManualClock::new(), EventLog::default());
    let stream = mock_stream(&script, &clock, &log).start().unwrap();
    let err = stream.start().unwrap_err();
    assert_eq!(err.kind(), ErrorKind::AlreadyStarted);
    assert!(stream.is_running());
}
