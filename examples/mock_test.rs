//! Testing application code with `MockBackend` and a manual clock: no camera, no network, no
//! sleeping. The application here raises an alarm when the camera has been gone for 5 s
//! (counted on the stream's clock); the script makes the camera drop and the clock jump.
//!
//! `cargo run --example mock_test --features mock` (the same code fits in a `#[test]`)

use rtsp_stream::mock::MockStep;
use rtsp_stream::{
    CaptureBackend, ErrorKind, ManualClock, MockBackend, MockConfig, MockScript, State, VideoStream,
};
use std::time::Duration;

/// Application code, generic over the decoder: true when the stream has had no frame for
/// `limit` (or none at all) while not streaming.
fn camera_alarm<B: CaptureBackend>(stream: &VideoStream<B>, limit: Duration) -> bool {
    let stats = stream.stats();
    stats.state != State::Streaming && stats.since_last_frame.is_none_or(|d| d >= limit)
}

fn main() {
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
    let stream =
        VideoStream::<MockBackend>::builder_with("mock://door", MockConfig::new(script.clone()))
            .clock(clock.clone())
            .reconnect_delay(Duration::from_secs(1))
            .start()
            .expect("the stream starts");

    let frame = stream
        .wait_next(2, Duration::from_secs(5))
        .expect("three frames");
    assert_eq!(frame.seq(), 3);
    script.proceed();

    // The camera drops. Whenever the stream waits on the clock (back-off, deadlines), jump
    // to the end of that wait: minutes of camera time pass in milliseconds.
    while stream.reconnect_count() < 5 {
        clock
            .advance_to_next_sleeper(Duration::from_secs(5))
            .expect("the stream waits on the clock");
    }
    assert!(
        camera_alarm(&stream, Duration::from_secs(5)),
        "{:?}",
        stream.stats()
    );
    println!(
        "alarm raised after {:?} without a frame, {} reconnection attempts, {:?} of camera time",
        stream.stats().since_last_frame.unwrap(),
        stream.reconnect_count(),
        clock.elapsed()
    );
}
