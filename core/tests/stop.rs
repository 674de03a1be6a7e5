//! `stop()` returns within its bound in every state, never waits on a blocked backend, and
//! nothing of a stopped run is heard of again.

mod common;

use common::{EventLog, PATIENCE, mock_stream, wait_until};
use rtsp_stream_core::mock::MockStep;
use rtsp_stream_core::{
    Event, ManualClock, MockBackend, MockScript, State, StopHandle, VideoStream,
};
use std::sync::{Arc, OnceLock};
use std::time::{Duration, Instant};

/// The goal is 100 ms; the assertion leaves room for a noisy two-core machine.
const STOP_BOUND: Duration = Duration::from_millis(500);

fn props() -> rtsp_stream_core::StreamProps {
    MockScript::props(32, 24, 25.0)
}

fn timed_stop(stream: &VideoStream<MockBackend>) -> Duration {
    let t = Instant::now();
    stream.stop();
    let took = t.elapsed();
    assert!(took <= STOP_BOUND, "stop took {took:?}");
    took
}

/// After stop: no event is delivered any more, even once every thread has ended.
fn assert_silent_after_stop(
    stream: &VideoStream<MockBackend>,
    log: &EventLog,
    script: &MockScript,
) {
    let events = log.len();
    let seq = stream.stats().last_seq;
    assert_eq!(stream.state(), State::Stopped);
    assert!(stream.read().is_none());
    script.release();
    wait_until("every thread ended", || stream.stats().live_threads == 0);
    assert_eq!(
        log.len(),
        events,
        "events after stop: {:?}",
        &log.names()[events..]
    );
    assert_eq!(
        stream.stats().last_seq,
        seq,
        "a frame was published after stop"
    );
    assert!(stream.read().is_none());
}

#[test]
fn stop_while_connecting() {
    let script = MockScript::new();
    script.push(MockStep::OpenBlock);
    let (clock, log) = (ManualClock::new(), EventLog::default());
    let stream = mock_stream(&script, &clock, &log).start().unwrap();
    assert!(script.wait_for_opens(1, PATIENCE));
    timed_stop(&stream);
    assert_eq!(
        stream.stats().live_threads,
        0,
        "a cooperative backend is joined"
    );
    assert_eq!(stream.stats().detached_threads, 0);
    assert_eq!(log.names().last(), Some(&"stopped"));
    assert_silent_after_stop(&stream, &log, &script);
}

#[test]
fn stop_while_streaming() {
    let script = MockScript::new();
    script
        .open_ok(props())
        .frames_forever(Duration::from_millis(1));
    let (clock, log) = (ManualClock::new(), EventLog::default());
    let stream = mock_stream(&script, &clock, &log).start().unwrap();
    assert!(stream.wait_next(10, PATIENCE).is_ok());
    timed_stop(&stream);
    assert_eq!(stream.stats().live_threads, 0);
    assert_eq!(script.close_count(), 1, "the capture was closed");
    assert_silent_after_stop(&stream, &log, &script);
}

#[test]
fn stop_while_backing_off() {
    let script = MockScript::new();
    let (clock, log) = (ManualClock::new(), EventLog::default());
    let stream = mock_stream(&script, &clock, &log)
        .reconnect_delay(Duration::from_secs(3600))
        .max_reconnect_delay(Duration::from_secs(3600))
        .start()
        .unwrap();
    log.wait_nth("backing_off", 0);
    assert!(clock.wait_for_sleeper_after(Duration::from_secs(3600), PATIENCE));
    timed_stop(&stream);
    assert_eq!(stream.stats().live_threads, 0);
    assert_eq!(script.open_count(), 1);
    assert_silent_after_stop(&stream, &log, &script);
}

#[test]
fn stop_while_a_read_ignores_cancellation() {
    let script = MockScript::new();
    script.open_ok(props()).frames(1).hang();
    let (clock, log) = (ManualClock::new(), EventLog::default());
    let stream = mock_stream(&script, &clock, &log).start().unwrap();
    assert!(stream.wait_next(0, PATIENCE).is_ok());
    wait_until("the read hangs", || script.read_count() >= 2);
    timed_stop(&stream);
    // The documented exception: the blocked capture thread is left behind, muted.
    let stats = stream.stats();
    assert_eq!(stats.detached_threads, 1);
    assert_eq!(stats.live_threads, 1);
    assert_silent_after_stop(&stream, &log, &script);
    assert_eq!(stream.stats().detached_threads, 0);
}

#[test]
fn stop_while_open_ignores_cancellation() {
    let script = MockScript::new();
    script.push(MockStep::OpenHang);
    let (clock, log) = (ManualClock::new(), EventLog::default());
    let stream = mock_stream(&script, &clock, &log).start().unwrap();
    assert!(script.wait_for_opens(1, PATIENCE));
    timed_stop(&stream);
    assert_eq!(stream.stats().detached_threads, 1);
    assert_silent_after_stop(&stream, &log, &script);
}

#[test]
fn stop_from_inside_a_callback_does_not_deadlock() {
    let script = MockScript::new();
    script
        .open_ok(props())
        .frames_forever(Duration::from_millis(1));
    let (clock, log) = (ManualClock::new(), EventLog::default());
    let handle: Arc<OnceLock<StopHandle>> = Arc::default();
    let stop_took: Arc<OnceLock<Duration>> = Arc::default();
    let stream = mock_stream(&script, &clock, &log)
        .on_event({
            let (handle, stop_took) = (handle.clone(), stop_took.clone());
            move |e| {
                if matches!(e, Event::FirstFrame { .. }) {
                    let t = Instant::now();
                    handle.get().expect("handle set before start").stop();
                    let _ = stop_took.set(t.elapsed());
                }
            }
        })
        .build()
        .unwrap();
    handle.set(stream.stop_handle()).unwrap();
    stream.start().unwrap();
    wait_until("the callback stopped the stream", || {
        stop_took.get().is_some()
    });
    assert!(*stop_took.get().unwrap() <= STOP_BOUND);
    assert_eq!(stream.state(), State::Stopped);
    assert!(!stream.is_running());
    assert_silent_after_stop(&stream, &log, &script);
    assert_eq!(log.names().last(), Some(&"first_frame"));
}

#[test]
fn a_stopped_stream_starts_again_and_seq_keeps_growing() {
    let script = MockScript::new();
    script
        .open_ok(props())
        .frames(3)
        .stall()
        .open_ok(props())
        .frames(2)
        .stall();
    let (clock, log) = (ManualClock::new(), EventLog::default());
    let stream = mock_stream(&script, &clock, &log).start().unwrap();
    let first = stream.wait_next(2, PATIENCE).unwrap();
    assert_eq!(first.seq(), 3);
    timed_stop(&stream);
    assert!(stream.read().is_none());
    stream.start().unwrap();
    let again = stream.wait_next(0, PATIENCE).unwrap();
    assert!(
        again.seq() > first.seq(),
        "{} after {}",
        again.seq(),
        first.seq()
    );
    assert!(again.generation() > first.generation());
    // The first frame we held is untouched by everything published since.
    assert_eq!(first.seq(), 3);
    timed_stop(&stream);
}

#[test]
fn drop_stops_the_stream() {
    let script = MockScript::new();
    script
        .open_ok(props())
        .frames_forever(Duration::from_millis(1));
    let (clock, log) = (ManualClock::new(), EventLog::default());
    let stream = mock_stream(&script, &clock, &log).start().unwrap();
    assert!(stream.wait_next(0, PATIENCE).is_ok());
    let t = Instant::now();
    drop(stream);
    assert!(t.elapsed() <= STOP_BOUND);
    assert_eq!(script.close_count(), 1);
    assert_eq!(log.names().last(), Some(&"stopped"));
}

#[test]
fn stopping_twice_or_before_start_is_harmless() {
    let script = MockScript::new();
    let (clock, log) = (ManualClock::new(), EventLog::default());
    let stream = mock_stream(&script, &clock, &log).build().unwrap();
    stream.stop();
    stream.start().unwrap();
    stream.stop();
    stream.stop();
    assert_eq!(stream.state(), State::Stopped);
}
