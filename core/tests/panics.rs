//! Panics never cross a boundary: a backend that panics on its capture thread is a transient
//! error (scrubbed message, back-off, counted); a supervisor that panics ends its stream as
//! given up, wakes every waiter, and `stop()` still returns at once; no name of the
//! application's panics thread creation; no callback starts after `stop()` has returned; the
//! capture thread's messages stay bounded; the scrubbing panic hook removes secrets.

mod common;

use common::{EventLog, PATIENCE, wait_until};
use rtsp_stream_core::raw::WakeSignal;
use rtsp_stream_core::{
    Clock, EndReason, ErrorKind, Event, MockBackend, MockConfig, MockScript, Notice, State,
    SystemClock, VideoStream, WaitError,
};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::time::{Duration, Instant, SystemTime};

const PASSWORD: &str = "Zq-panic-pw-7";

fn builder(script: &MockScript) -> rtsp_stream_core::VideoStreamBuilder<MockBackend> {
    VideoStream::<MockBackend>::builder_with(
        format!("mock://admin:{PASSWORD}@camera/1"),
        MockConfig::new(script.clone()),
    )
    .reconnect_delay(Duration::from_millis(10))
    .max_reconnect_delay(Duration::from_millis(10))
}

#[test]
fn a_backend_that_panics_is_retried_like_a_transient_error() {
    let script = MockScript::new();
    script
        .open_ok(MockScript::props(64, 48, 30.0))
        .frames(1)
        .panic("the decoder choked on {url}")
        .open_ok(MockScript::props(64, 48, 30.0))
        .frames(u64::MAX);
    let log = EventLog::default();
    let stream = builder(&script).on_event(log.handler()).start().unwrap();
    let (_, event) = log.wait_for("the disconnection", |e| {
        matches!(e, Event::Disconnected { .. })
    });
    let Event::Disconnected { reason } = event else {
        unreachable!()
    };
    let text = reason.to_string();
    assert!(
        text.contains("the backend panicked: the decoder choked on"),
        "{text}"
    );
    assert!(!text.contains(PASSWORD), "{text}");
    log.wait_for("a reconnection", |e| {
        matches!(e, Event::Connected { generation: 2, .. })
    });
    let frame = stream.wait_next(1, PATIENCE).expect("frames again");
    assert_eq!(frame.generation(), 2);
    let stats = stream.stats();
    assert_eq!(stats.backend_panics, 1);
    assert!(stats.last_error.unwrap().is_transient());
}

/// The system clock, until `armed`: then `now()` panics on the stream's supervising thread.
struct TrapClock {
    armed: Arc<AtomicBool>,
}

impl Clock for TrapClock {
    fn now(&self) -> Instant {
        let supervisor = std::thread::current()
            .name()
            .is_some_and(|n| n.ends_with("-sup"));
        if supervisor && self.armed.load(Ordering::SeqCst) {
            panic!("clock trap for rtsp://admin:{PASSWORD}@camera/1");
        }
        SystemClock.now()
    }

    fn system_now(&self) -> SystemTime {
        SystemClock.system_now()
    }

    fn sleep_until(&self, deadline: Instant, wake: &WakeSignal, seen: u64) {
        SystemClock.sleep_until(deadline, wake, seen);
    }
}

#[test]
fn a_supervisor_that_panics_gives_up_wakes_every_waiter_and_stops_at_once() {
    let script = MockScript::new();
    script
        .open_ok(MockScript::props(64, 48, 30.0))
        .frames(1)
        .hold()
        .read_error(ErrorKind::ConnectionLost)
        .open_ok(MockScript::props(64, 48, 30.0))
        .frames(u64::MAX);
    let armed = Arc::new(AtomicBool::new(false));
    let log = EventLog::default();
    let stream = Arc::new(
        builder(&script)
            .name("trap")
            .clock(TrapClock {
                armed: Arc::clone(&armed),
            })
            .on_event(log.handler())
            .start()
            .unwrap(),
    );
    stream.wait_next(0, PATIENCE).expect("the first frame");
    // A waiter blocked on a frame the stream will never publish.
    let waiter = {
        let stream = Arc::clone(&stream);
        std::thread::spawn(move || stream.wait_next(u64::MAX - 1, PATIENCE * 3))
    };
    armed.store(true, Ordering::SeqCst);
    script.proceed();
    let ended = waiter.join().unwrap();
    armed.store(false, Ordering::SeqCst);
    let Err(WaitError::Ended(EndReason::GaveUp(error))) = ended else {
        panic!("the waiter got {ended:?}");
    };
    assert!(error.message().contains("supervisor panicked"), "{error}");
    assert!(!error.to_string().contains(PASSWORD), "{error}");
    assert_eq!(stream.state(), State::GaveUp);
    let started = Instant::now();
    stream.stop();
    assert!(
        started.elapsed() < Duration::from_secs(1),
        "{:?}",
        started.elapsed()
    );
    wait_until("the capture thread to end", || {
        stream.stats().live_threads == 0
    });
}

#[test]
fn names_holding_nul_or_line_breaks_do_not_stop_a_stream_from_starting() {
    for name in ["cam\0era", "line\nbreak", "\0", "未\0"] {
        let script = MockScript::new();
        script
            .open_ok(MockScript::props(64, 48, 30.0))
            .frames(u64::MAX);
        let stream = builder(&script).name(name).start().expect("started");
        stream.wait_next(0, PATIENCE).expect("a frame");
    }
}

#[test]
fn no_callback_starts_after_stop_has_returned() {
    for round in 0..100 {
        let script = MockScript::new();
        for _ in 0..1000 {
            script.push(rtsp_stream_core::mock::MockStep::OpenFail(
                ErrorKind::ConnectionRefused,
            ));
        }
        let stopped = Arc::new(AtomicBool::new(false));
        let late = Arc::new(AtomicUsize::new(0));
        let (s, l) = (Arc::clone(&stopped), Arc::clone(&late));
        let stream = VideoStream::<MockBackend>::builder_with(
            "mock://camera/busy",
            MockConfig::new(script.clone()),
        )
        .reconnect_delay(Duration::from_micros(50))
        .max_reconnect_delay(Duration::from_micros(50))
        .on_event(move |_| {
            if s.load(Ordering::SeqCst) {
                l.fetch_add(1, Ordering::SeqCst);
            }
        })
        .start()
        .unwrap();
        std::thread::sleep(Duration::from_micros(200 + round * 37));
        stream.stop();
        stopped.store(true, Ordering::SeqCst);
        // Events of a run keep coming only if a callback could start after stop() returned.
        std::thread::sleep(Duration::from_millis(2));
        assert_eq!(late.load(Ordering::SeqCst), 0, "round {round}");
    }
}

#[test]
fn a_flood_of_picture_size_changes_is_merged_and_state_changes_are_kept() {
    let script = MockScript::new();
    script.open_ok(MockScript::props(64, 48, 30.0)).frames(1);
    for i in 0..400 {
        script.resize(64 + 16 * (i % 2), 48).frames(1);
    }
    script.read_error(ErrorKind::ConnectionLost);
    let log = EventLog::default();
    let slow = log.handler();
    let stream = builder(&script)
        .max_reconnect_attempts(1)
        .on_event(move |e| {
            // A slow consumer of events: the capture thread runs far ahead.
            if matches!(e, Event::ResolutionChanged { .. }) {
                std::thread::sleep(Duration::from_millis(5));
            }
            slow(e);
        })
        .start()
        .unwrap();
    log.wait_for("the disconnection", |e| {
        matches!(e, Event::Disconnected { .. })
    });
    let merged: u64 = log
        .events()
        .iter()
        .filter_map(|e| match e {
            Event::Notice(Notice::Lagged { merged }) => Some(*merged),
            _ => None,
        })
        .sum();
    let changes = log.count("resolution_changed") as u64;
    assert!(merged > 0, "nothing merged: {changes} changes");
    assert!(changes >= 1, "no change announced");
    assert_eq!(stream.stats().messages_coalesced, merged);
    assert!(changes + merged <= 400, "{changes} + {merged}");
    for kept in ["connecting", "connected", "first_frame", "disconnected"] {
        assert!(log.count(kept) >= 1, "{kept} missing: {:?}", log.names());
    }
    drop(stream);
}

const HOOK_CHILD: &str = "RTSP_STREAM_PANIC_HOOK_CHILD";

#[test]
fn the_scrubbing_panic_hook_prints_no_secret_and_chains() {
    if std::env::var_os(HOOK_CHILD).is_some() {
        // The child: a live stream's password, and a panic message that quotes it.
        let script = MockScript::new();
        let _stream = builder(&script).build().unwrap();
        std::panic::set_hook(Box::new(|_| eprintln!("PREVIOUS HOOK RAN")));
        rtsp_stream_core::install_scrubbing_panic_hook();
        let _ = std::panic::catch_unwind(|| panic!("no secret here"));
        let _ = std::panic::catch_unwind(|| {
            panic!("connecting to rtsp://admin:{PASSWORD}@camera failed ({PASSWORD})")
        });
        std::process::exit(0);
    }
    let out = std::process::Command::new(std::env::current_exe().unwrap())
        .args([
            "--exact",
            "the_scrubbing_panic_hook_prints_no_secret_and_chains",
            "--nocapture",
        ])
        .env(HOOK_CHILD, "1")
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "{stderr}");
    assert!(!stderr.contains(PASSWORD), "{stderr}");
    assert!(
        stderr.contains("connecting to rtsp://admin:***@camera failed (***)"),
        "{stderr}"
    );
    assert_eq!(stderr.matches("PREVIOUS HOOK RAN").count(), 1, "{stderr}");
}
