//! What `stats()` and `fps()` say through an outage: the measured rate falls to 0, the stream
//! says since when it is offline and when its last error happened.

mod common;

use common::{EventLog, PATIENCE, mock_stream, wait_until};
use rtsp_stream_core::{Clock, ErrorKind, ManualClock, MockScript, State};
use std::time::Duration;

/// A stream without a nominal rate: `fps()` is the measured one.
fn props_without_fps() -> rtsp_stream_core::StreamProps {
    let mut props = MockScript::props(64, 48, 30.0);
    props.fps = None;
    props
}

#[test]
fn the_measured_rate_falls_to_zero_when_frames_stop() {
    let script = MockScript::new();
    script.open_ok(props_without_fps()).frames(1);
    for _ in 0..3 {
        script.hold().frames(1);
    }
    script.stall();
    let clock = ManualClock::new();
    let log = EventLog::default();
    let stream = mock_stream(&script, &clock, &log)
        .stall_timeout(Duration::from_secs(60))
        .start()
        .unwrap();
    let mut seq = stream.wait_next(0, PATIENCE).unwrap().seq();
    for _ in 0..3 {
        assert!(script.wait_for_holds(seq, PATIENCE));
        clock.advance(Duration::from_millis(100));
        script.proceed();
        seq = stream.wait_next(seq, PATIENCE).unwrap().seq();
    }
    let measured = stream.stats().measured_fps;
    assert!((measured - 10.0).abs() < 0.01, "{measured}");
    assert!((stream.fps() - 10.0).abs() < 0.01, "{}", stream.fps());
    // Silent for 2 s (more than 3 intervals): the rate is 0, not the last one.
    clock.advance(Duration::from_millis(1900));
    assert!(stream.stats().measured_fps > 0.0);
    clock.advance(Duration::from_millis(200));
    assert_eq!(stream.stats().measured_fps, 0.0);
    assert_eq!(stream.fps(), 0.0);
    assert_eq!(stream.state(), State::Streaming);
}

#[test]
fn offline_since_and_last_error_at_follow_the_outage() {
    let script = MockScript::new();
    script
        .open_ok(MockScript::props(64, 48, 30.0))
        .frames(1)
        .hold()
        .read_error(ErrorKind::ConnectionLost);
    let clock = ManualClock::new();
    let log = EventLog::default();
    let stream = mock_stream(&script, &clock, &log).build().unwrap();
    let stats = stream.stats();
    assert_eq!((stats.offline_since, stats.last_error_at), (None, None));
    stream.start().unwrap();
    stream.wait_next(0, PATIENCE).unwrap();
    assert_eq!(stream.stats().offline_since, None, "streaming");
    assert!(script.wait_for_holds(1, PATIENCE));
    clock.advance(Duration::from_secs(5));
    let dropped = clock.system_now();
    script.proceed();
    log.wait_nth("disconnected", 0);
    let stats = stream.stats();
    assert_eq!(stats.offline_since, Some(dropped));
    assert_eq!(stats.last_error_at, Some(dropped));
    // Stopping keeps the moment the stream went offline.
    clock.advance(Duration::from_secs(3));
    stream.stop();
    assert_eq!(stream.stats().offline_since, Some(dropped));
    wait_until("the stop", || stream.state() == State::Stopped);
}

/// Names of this process's threads (Linux keeps 15 bytes of each).
#[cfg(target_os = "linux")]
fn thread_names() -> Vec<String> {
    std::fs::read_dir("/proc/self/task")
        .unwrap()
        .filter_map(|task| std::fs::read_to_string(task.ok()?.path().join("comm")).ok())
        .map(|name| name.trim_end().to_owned())
        .collect()
}

#[cfg(target_os = "linux")]
#[test]
fn a_named_stream_names_its_threads_and_its_log_lines() {
    common::install_log_capture();
    let script = MockScript::new();
    script
        .open_ok(MockScript::props(64, 48, 30.0))
        .frames(1)
        .stall();
    let clock = ManualClock::new();
    let log = EventLog::default();
    let stream = mock_stream(&script, &clock, &log)
        .name("front-door-camera")
        .start()
        .unwrap();
    stream.wait_next(0, PATIENCE).unwrap();
    assert_eq!(stream.name(), Some("front-door-camera"));
    let names = thread_names();
    for want in ["rs-front-do-sup", "rs-front-do-cap"] {
        assert!(names.iter().any(|n| n == want), "{want} not in {names:?}");
    }
    stream.stop();
    let lines = common::captured_logs();
    assert!(
        lines
            .iter()
            .any(|l| l.contains("stream front-door-camera (mock://camera/1): connecting")),
        "{lines:#?}"
    );
}

/// One configured builder, cloned per camera: each stream runs with the template's options and
/// callbacks; its `Debug` shows the options, never the password.
#[test]
fn a_builder_is_a_template_for_many_cameras() {
    let log = EventLog::default();
    let template = rtsp_stream_core::VideoStream::<rtsp_stream_core::MockBackend>::builder_with(
        "mock://viewer:Hunter2@camera/1",
        rtsp_stream_core::MockConfig::new(MockScript::new()),
    )
    .stall_timeout(Duration::from_secs(7))
    .on_event(log.handler());
    let printed = format!("{template:?}");
    assert!(printed.contains("stall_timeout: 7s"), "{printed}");
    assert!(!printed.contains("Hunter2"), "{printed}");
    let streams: Vec<_> = ["a", "b"]
        .into_iter()
        .map(|name| {
            let script = MockScript::new();
            script
                .open_ok(MockScript::props(64, 48, 30.0))
                .frames(1)
                .stall();
            template
                .clone()
                .name(name)
                .config(rtsp_stream_core::MockConfig::new(script))
                .start()
                .unwrap()
        })
        .collect();
    for stream in &streams {
        stream.wait_next(0, PATIENCE).unwrap();
    }
    log.wait_nth("first_frame", 1);
    assert_eq!(
        log.count("first_frame"),
        2,
        "both streams share the callback"
    );
    assert_eq!(streams[1].name(), Some("b"));
}
