//! Testing application code with `MockBackend` and a manual clock: no camera, no network, no
//! sleeping. The application here raises an alarm when the camera has been gone for 5 s
//! (counted on the stream's clock); the script makes the camera drop and the clock jump.
//!
//! `cargo run --example mock_test --features mock` (the same code fits in a `#[test]`)

use rtsp_stream::mock::{EventRecorder, MockStep};
use rtsp_stream::{
    CaptureBackend, ErrorKind, ManualClock, MockBackend, MockConfig, MockScript, State, VideoStream,
};
use std::time::Duration;

/// Real time, generous for a busy machine: only a failing run waits this long.
const PATIENCE: Duration = Duration::from_secs(10);

/// Application code, generic over the decoder: true when the stream has had no frame for
/// `limit` (or none at all) while not streaming.
fn camera_alarm<B: CaptureBackend>(stream: &VideoStream<B>, limit: Duration) -> bool {
    let stats = stream.stats();
    stats.state != State::Streaming && stats.since_last_frame.is_none_or(|d| d >= limit)
}

/// The test: the camera delivers three frames, drops and stays away; after 5 s of camera time
/// without a frame the alarm is raised.
fn camera_gone_for_five_seconds_raises_the_alarm() -> String {
    let script = MockScript::new();
    // Three frames, then the script holds until this test has seen them, then the camera drops.
    script
        .open_ok(MockScript::props(64, 48, 25.0))
        .frames(3)
        .hold()
        .read_error(ErrorKind::ConnectionLost);
    // Every later attempt fails: the camera stays away.
    for _ in 0..10 {
        script.push(MockStep::OpenFail(ErrorKind::ConnectionRefused));
    }
    let clock = ManualClock::new();
    let events = EventRecorder::new();
    let stream =
        VideoStream::<MockBackend>::builder_with("mock://door", MockConfig::new(script.clone()))
            .clock(clock.clone())
            .reconnect_delay(Duration::from_secs(1))
            .on_event(events.handler())
            .start()
            .expect("the stream starts");

    let frame = stream.wait_next(2, PATIENCE).expect("three frames");
    assert_eq!(frame.seq(), 3);
    assert!(!camera_alarm(&stream, Duration::from_secs(5)));
    script.proceed();

    // The camera drops. Each back-off is taken once the stream is parked on it (never another
    // deadline): five waits of 1 s, five seconds of camera time in a few milliseconds.
    for n in 0..5 {
        let waited = events.advance_past_backoff(&clock, n, PATIENCE);
        assert_eq!(waited, Duration::from_secs(1));
    }
    // The sixth attempt failed too and the stream waits again.
    events.wait_nth("backing_off", 5, PATIENCE);
    assert!(
        camera_alarm(&stream, Duration::from_secs(5)),
        "{:?}",
        stream.stats()
    );
    format!(
        "alarm raised after {:?} without a frame, {} reconnection attempts, {:?} of camera time",
        stream.stats().since_last_frame.unwrap(),
        stream.reconnect_count(),
        clock.elapsed()
    )
}

fn main() {
    // `--repeat N` runs the test N times: the recipe is deterministic, whatever the load.
    let args: Vec<String> = std::env::args().collect();
    let runs = args
        .iter()
        .position(|a| a == "--repeat")
        .and_then(|i| args.get(i + 1))
        .map_or(1, |n| n.parse().expect("--repeat takes a number"));
    let mut summary = String::new();
    for _ in 0..runs {
        summary = camera_gone_for_five_seconds_raises_the_alarm();
    }
    println!("{summary}");
    println!("{runs} run(s), all passed");
}
