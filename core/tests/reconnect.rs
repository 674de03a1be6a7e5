//! The reconnect loop on the manual clock: back-off to the millisecond, attempt limits, the
//! watchdog, and what resets what.

mod common;

use common::{EventLog, PATIENCE, mock_stream, take_backoff, wait_until};
use rtsp_stream_core::{DisconnectReason, ErrorKind, Event, ManualClock, MockScript, State};
use std::time::Duration;

const SECOND: Duration = Duration::from_secs(1);

fn props() -> rtsp_stream_core::StreamProps {
    MockScript::props(32, 24, 25.0)
}

#[test]
fn backoff_doubles_to_the_cap_exactly() {
    let script = MockScript::new(); // every open fails: the source is down from the start
    let clock = ManualClock::new();
    let log = EventLog::default();
    let stream = mock_stream(&script, &clock, &log)
        .reconnect_delay(SECOND)
        .reconnect_backoff(2.0)
        .max_reconnect_delay(30 * SECOND)
        .open_timeout(Duration::from_secs(7))
        .start()
        .unwrap();
    let delays: Vec<u64> = (0..7)
        .map(|n| take_backoff(&log, &clock, n).as_secs())
        .collect();
    assert_eq!(delays, [1, 2, 4, 8, 16, 30, 30]);
    assert!(script.wait_for_opens(8, PATIENCE));
    // The seed only counted reconnections that succeeded; here every attempt counts.
    wait_until("7 reconnects counted", || stream.reconnect_count() == 7);
    assert_eq!(stream.state(), State::Connecting.max_state_after(&stream));
    stream.stop();
}

trait StateAfter {
    fn max_state_after<B: rtsp_stream_core::CaptureBackend>(
        self,
        s: &rtsp_stream_core::VideoStream<B>,
    ) -> State;
}
impl StateAfter for State {
    /// The state is either still `Connecting` or already backing off again: both are right.
    fn max_state_after<B: rtsp_stream_core::CaptureBackend>(
        self,
        s: &rtsp_stream_core::VideoStream<B>,
    ) -> State {
        let now = s.state();
        assert!(
            matches!(
                now,
                State::Connecting | State::Disconnected | State::BackingOff
            ),
            "{now:?}"
        );
        now
    }
}

#[test]
fn backoff_starts_over_after_a_connection_that_delivered_frames() {
    let script = MockScript::new();
    script
        .open_fail(ErrorKind::ConnectionRefused)
        .open_fail(ErrorKind::ConnectionRefused)
        .open_ok(props())
        .frames(2)
        .read_error(ErrorKind::ConnectionLost)
        .open_fail(ErrorKind::ConnectionRefused)
        .open_fail(ErrorKind::ConnectionRefused);
    let clock = ManualClock::new();
    let log = EventLog::default();
    let stream = mock_stream(&script, &clock, &log)
        .reconnect_backoff(2.0)
        .start()
        .unwrap();
    let delays: Vec<u64> = (0..5)
        .map(|n| take_backoff(&log, &clock, n).as_secs())
        .collect();
    // fail, fail, (connect, frames, drop), fail, fail
    assert_eq!(delays, [1, 2, 1, 2, 4]);
    let failures: Vec<u32> = log
        .events()
        .iter()
        .filter_map(|e| match e {
            Event::BackingOff { failures, .. } => Some(*failures),
            _ => None,
        })
        // The script is exhausted by now: a sixth failure may already be logged.
        .take(5)
        .collect();
    assert_eq!(failures, [1, 2, 0, 1, 2]);
    stream.stop();
}

#[test]
fn a_connection_that_drops_before_its_first_frame_does_not_reset_the_backoff() {
    let script = MockScript::new();
    script
        .open_fail(ErrorKind::ConnectionRefused)
        .open_ok(props())
        .read_error(ErrorKind::ConnectionLost) // accepted, then dropped at once
        .open_ok(props())
        .read_error(ErrorKind::ConnectionLost);
    let clock = ManualClock::new();
    let log = EventLog::default();
    let stream = mock_stream(&script, &clock, &log)
        .reconnect_backoff(2.0)
        .start()
        .unwrap();
    let delays: Vec<u64> = (0..4)
        .map(|n| take_backoff(&log, &clock, n).as_secs())
        .collect();
    assert_eq!(delays, [1, 2, 4, 8]);
    assert_eq!(log.count("first_frame"), 0);
    assert_eq!(log.count("connected"), 2);
    assert_eq!(log.count("disconnected"), 2);
    stream.stop();
}

#[test]
fn jitter_keeps_every_delay_within_its_bounds() {
    let script = MockScript::new();
    let clock = ManualClock::new();
    let log = EventLog::default();
    let stream = mock_stream(&script, &clock, &log)
        .reconnect_backoff(2.0)
        .max_reconnect_delay(8 * SECOND)
        .reconnect_jitter(0.5)
        .start()
        .unwrap();
    let mut below_full = 0;
    for n in 0..12 {
        let full = SECOND * 2u32.pow(n.min(3) as u32);
        let d = take_backoff(&log, &clock, n);
        assert!(d <= full && d >= full / 2, "attempt {n}: {d:?} vs {full:?}");
        if d < full {
            below_full += 1;
        }
    }
    assert!(below_full > 6, "jitter took nothing off");
    stream.stop();
}

#[test]
fn gives_up_after_exactly_max_attempts() {
    let script = MockScript::new();
    let clock = ManualClock::new();
    let log = EventLog::default();
    let failures = std::sync::Arc::new(std::sync::atomic::AtomicUsize::new(0));
    let f = failures.clone();
    let stream = mock_stream(&script, &clock, &log)
        .max_reconnect_attempts(3)
        .on_reconnect_failure(move || {
            f.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
        })
        .start()
        .unwrap();
    take_backoff(&log, &clock, 0);
    take_backoff(&log, &clock, 1);
    log.wait_for("gave up", |e| matches!(e, Event::GaveUp { .. }));
    wait_until("the worker ends", || !stream.is_running());
    assert_eq!(script.open_count(), 3);
    assert_eq!(failures.load(std::sync::atomic::Ordering::SeqCst), 1);
    assert_eq!(stream.state(), State::GaveUp);
    assert_eq!(log.count("backing_off"), 2);
    assert_eq!(stream.stats().live_threads, 0);
    assert_eq!(
        stream.stats().last_error.unwrap().kind(),
        ErrorKind::ConnectionRefused
    );
    // Nothing sleeps on the clock any more, so no later attempt can come.
    assert!(clock.sleepers().is_empty());
}

#[test]
fn permanent_errors_give_up_at_once() {
    for kind in [
        ErrorKind::Authentication,
        ErrorKind::InvalidSource,
        ErrorKind::NotFound,
        ErrorKind::Unsupported,
    ] {
        let script = MockScript::new();
        script.open_fail(kind);
        let clock = ManualClock::new();
        let log = EventLog::default();
        let stream = mock_stream(&script, &clock, &log).start().unwrap();
        let (_, e) = log.wait_for("gave up", |e| matches!(e, Event::GaveUp { .. }));
        let Event::GaveUp { error } = e else {
            unreachable!()
        };
        assert_eq!(error.kind(), kind);
        assert!(!error.is_transient());
        wait_until("worker ends", || !stream.is_running());
        assert_eq!(script.open_count(), 1, "{kind:?} was retried");
        assert_eq!(stream.stats().last_error.unwrap().kind(), kind);
        assert_eq!(log.count("backing_off"), 0);
    }
}

#[test]
fn a_stalled_feed_is_dropped_after_stall_timeout_and_reconnected() {
    let script = MockScript::new();
    script
        .open_ok(props())
        .frames(3)
        .stall()
        .open_ok(props())
        .frames(1);
    let clock = ManualClock::new();
    let log = EventLog::default();
    let stream = mock_stream(&script, &clock, &log)
        .stall_timeout(Duration::from_secs(5))
        .start()
        .unwrap();
    log.wait_for("first frame", |e| matches!(e, Event::FirstFrame { .. }));
    wait_until("3 frames", || stream.stats().frames_decoded == 3);
    assert!(clock.wait_for_sleeper_after(Duration::from_secs(5), PATIENCE));
    clock.advance(Duration::from_secs(4));
    assert_eq!(log.count("stalled"), 0, "stalled before the deadline");
    clock.advance(Duration::from_secs(1));
    let (i, e) = log.wait_for("stalled", |e| matches!(e, Event::Stalled { .. }));
    let Event::Stalled { after } = e else {
        unreachable!()
    };
    assert_eq!(after, Duration::from_secs(5));
    let (j, e) = log.wait_for_from(i, "disconnected", |e| {
        matches!(e, Event::Disconnected { .. })
    });
    assert!(matches!(
        e,
        Event::Disconnected {
            reason: DisconnectReason::Stalled
        }
    ));
    assert!(
        stream.read().is_none(),
        "a dropped feed still shows a frame"
    );
    take_backoff(&log, &clock, 0);
    log.wait_for_from(j, "second first frame", |e| {
        matches!(e, Event::FirstFrame { .. })
    });
    let frame = stream.read().unwrap();
    assert_eq!(frame.seq(), 4);
    assert_eq!(frame.generation(), 2);
    stream.stop();
}

#[test]
fn open_and_first_frame_deadlines_are_enforced() {
    let script = MockScript::new();
    script
        .push(rtsp_stream_core::mock::MockStep::OpenBlock)
        .open_ok(props())
        .stall();
    let clock = ManualClock::new();
    let log = EventLog::default();
    let stream = mock_stream(&script, &clock, &log)
        .open_timeout(Duration::from_secs(3))
        .first_frame_timeout(Duration::from_secs(4))
        .start()
        .unwrap();
    assert!(clock.wait_for_sleeper_after(Duration::from_secs(3), PATIENCE));
    clock.advance(Duration::from_secs(3));
    take_backoff(&log, &clock, 0);
    log.wait_for("connected", |e| matches!(e, Event::Connected { .. }));
    assert!(clock.wait_for_sleeper_after(Duration::from_secs(4), PATIENCE));
    clock.advance(Duration::from_secs(4));
    let (_, e) = log.wait_for("disconnected", |e| matches!(e, Event::Disconnected { .. }));
    assert!(matches!(
        e,
        Event::Disconnected {
            reason: DisconnectReason::Stalled
        }
    ));
    let err = stream.stats().last_error.unwrap();
    assert_eq!(err.kind(), ErrorKind::Timeout);
    assert!(err.to_string().contains("first frame"), "{err}");
    // Both were failed attempts: the back-off keeps growing.
    let e = log.wait_nth("backing_off", 1);
    assert!(matches!(e, Event::BackingOff { failures: 2, .. }));
    stream.stop();
}

#[test]
fn the_watchdog_does_not_depend_on_read_returning() {
    let script = MockScript::new();
    script
        .open_ok(props())
        .frames(1)
        .hang()
        .open_ok(props())
        .frames(1);
    let clock = ManualClock::new();
    let log = EventLog::default();
    let stream = mock_stream(&script, &clock, &log)
        .stall_timeout(Duration::from_secs(2))
        .cancel_grace(Duration::from_millis(50))
        .start()
        .unwrap();
    log.wait_for("first frame", |e| matches!(e, Event::FirstFrame { .. }));
    assert!(clock.wait_for_sleeper_after(Duration::from_secs(2), PATIENCE));
    clock.advance(Duration::from_secs(2));
    log.wait_for("stalled", |e| matches!(e, Event::Stalled { .. }));
    take_backoff(&log, &clock, 0);
    let (_, e) = log.wait_for("reconnected", |e| {
        matches!(e, Event::Connected { generation: 2, .. })
    });
    assert!(matches!(e, Event::Connected { .. }));
    wait_until("second frame", || {
        stream.read().is_some_and(|f| f.generation() == 2)
    });
    let stats = stream.stats();
    assert_eq!(
        stats.detached_threads, 1,
        "the hung capture thread is accounted for"
    );
    script.release();
    wait_until("the hung thread ends", || {
        stream.stats().detached_threads == 0
    });
    // The released thread is muted: its late frame or error changes nothing.
    assert_eq!(stream.read().unwrap().generation(), 2);
    stream.stop();
    assert_eq!(stream.stats().live_threads, 0);
}

#[test]
fn reconnect_count_grows_while_the_source_stays_down() {
    let script = MockScript::new();
    let clock = ManualClock::new();
    let log = EventLog::default();
    let stream = mock_stream(&script, &clock, &log).start().unwrap();
    for n in 0..5 {
        take_backoff(&log, &clock, n);
        wait_until("count", || stream.reconnect_count() == n as u64 + 1);
    }
    assert_eq!(log.count("connected"), 0);
    stream.stop();
}

#[test]
fn resolution_change_updates_props_and_emits_an_event() {
    let script = MockScript::new();
    script
        .open_ok(props())
        .frames(2)
        .resize(64, 48)
        .frames(2)
        .stall();
    let clock = ManualClock::new();
    let log = EventLog::default();
    let stream = mock_stream(&script, &clock, &log).start().unwrap();
    let (_, e) = log.wait_for("resize", |e| matches!(e, Event::ResolutionChanged { .. }));
    let Event::ResolutionChanged { props } = e else {
        unreachable!()
    };
    assert_eq!((props.width, props.height), (64, 48));
    wait_until("4 frames", || stream.stats().frames_decoded == 4);
    assert_eq!((stream.frame_width(), stream.frame_height()), (64, 48));
    let f = stream.read().unwrap();
    assert_eq!((f.width(), f.height(), f.stride()), (64, 48, 64 * 3));
    stream.stop();
}

#[test]
fn end_of_stream_finishes_without_retrying() {
    let script = MockScript::new();
    script.open_ok(props()).frames(3).end_of_stream();
    let clock = ManualClock::new();
    let log = EventLog::default();
    let stream = mock_stream(&script, &clock, &log).start().unwrap();
    log.wait_for("end", |e| matches!(e, Event::EndOfStream));
    wait_until("worker ends", || !stream.is_running());
    assert_eq!(stream.state(), State::Finished);
    assert_eq!(script.open_count(), 1);
    assert_eq!(script.close_count(), 1);
    assert_eq!(stream.stats().frames_decoded, 3);
}

#[test]
fn events_come_in_order() {
    let script = MockScript::new();
    script
        .open_fail(ErrorKind::ConnectionRefused)
        .open_ok(props())
        .frames(1)
        .read_error(ErrorKind::ConnectionLost)
        .open_ok(props())
        .frames(1)
        .stall();
    let clock = ManualClock::new();
    let log = EventLog::default();
    let stream = mock_stream(&script, &clock, &log).start().unwrap();
    take_backoff(&log, &clock, 0);
    take_backoff(&log, &clock, 1);
    // The failed first attempt takes no generation: the second connection is generation 2.
    wait_until("frame of generation 2", || {
        stream.read().is_some_and(|f| f.generation() == 2)
    });
    log.wait_nth("first_frame", 1);
    stream.stop();
    let names = log.names();
    assert_eq!(
        names,
        [
            "connecting",
            "backing_off",
            "connecting",
            "connected",
            "first_frame",
            "disconnected",
            "backing_off",
            "connecting",
            "connected",
            "first_frame",
            "stopped"
        ]
    );
}

#[test]
fn a_panicking_callback_is_logged_and_the_stream_keeps_running() {
    common::install_log_capture();
    let script = MockScript::new();
    script
        .open_ok(props())
        .frames(1)
        .read_error(ErrorKind::ConnectionLost)
        .open_ok(props())
        .frames(1)
        .stall();
    let clock = ManualClock::new();
    let log = EventLog::default();
    let stream = mock_stream(&script, &clock, &log)
        .on_connect(|| panic!("callback bug"))
        .on_event(|e| {
            if matches!(e, Event::FirstFrame { .. }) {
                panic!("event handler bug")
            }
        })
        .start()
        .unwrap();
    log.wait_for("disconnected", |e| matches!(e, Event::Disconnected { .. }));
    take_backoff(&log, &clock, 0);
    wait_until("generation 2 frame", || {
        stream.read().is_some_and(|f| f.generation() == 2)
    });
    assert!(stream.is_running());
    let logs = common::captured_logs();
    assert!(
        logs.iter().any(|l| l.contains("panicked: callback bug")),
        "{logs:?}"
    );
    assert!(
        logs.iter()
            .any(|l| l.contains("panicked: event handler bug")),
        "{logs:#?}"
    );
    stream.stop();
}

#[test]
fn a_new_size_after_a_reconnect_is_a_resolution_change() {
    let script = MockScript::new();
    script
        .open_ok(props())
        .frames(1)
        .read_error(ErrorKind::ConnectionLost)
        .open_ok(MockScript::props(64, 48, 25.0))
        .frames(1)
        .stall();
    let clock = ManualClock::new();
    let log = EventLog::default();
    let stream = mock_stream(&script, &clock, &log).start().unwrap();
    take_backoff(&log, &clock, 0);
    let e = log.wait_nth("resolution_changed", 0);
    let Event::ResolutionChanged { props } = e else {
        unreachable!()
    };
    assert_eq!((props.width, props.height), (64, 48));
    log.wait_nth("first_frame", 1);
    assert_eq!(log.count("resolution_changed"), 1);
    assert_eq!((stream.frame_width(), stream.frame_height()), (64, 48));
    stream.stop();
}
