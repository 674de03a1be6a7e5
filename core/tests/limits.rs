//! What a stream refuses or caps, whatever it is given: durations up to `Duration::MAX`,
//! pictures larger than `max_frame_pixels`, sources that cannot be connected to as written.

mod common;

use common::{EventLog, PATIENCE, mock_stream, wait_until};
use rtsp_stream_core::mock::MockStep;
use rtsp_stream_core::{
    ErrorKind, Event, ManualClock, MockBackend, MockConfig, MockScript, StreamOptions, VideoStream,
};
use std::time::Duration;

fn gave_up(log: &EventLog) -> std::sync::Arc<rtsp_stream_core::Error> {
    match log
        .wait_for("gave up", |e| matches!(e, Event::GaveUp { .. }))
        .1
    {
        Event::GaveUp { error } => error,
        _ => unreachable!(),
    }
}

#[test]
fn durations_up_to_the_maximum_are_taken_as_a_day_and_never_panic() {
    let script = MockScript::new();
    script.push(MockStep::OpenBlock);
    script
        .open_ok(MockScript::props(16, 8, 30.0))
        .frames(1)
        .stall();
    let (clock, log) = (ManualClock::new(), EventLog::default());
    let stream = mock_stream(&script, &clock, &log)
        .reconnect_delay(Duration::MAX)
        .max_reconnect_delay(Duration::MAX)
        .open_timeout(Duration::MAX)
        .first_frame_timeout(Duration::MAX)
        .stall_timeout(Duration::MAX)
        .cancel_grace(Duration::MAX)
        .stop_timeout(Duration::MAX)
        .start()
        .unwrap();
    let day = StreamOptions::MAX_DURATION;
    assert_eq!(day, Duration::from_secs(24 * 3600));
    // The open waits a day, then times out; the back-off waits a day too.
    assert!(
        clock.wait_for_sleeper_after(day, PATIENCE),
        "{:?}",
        clock.sleepers()
    );
    clock.advance(day);
    assert!(
        clock.wait_for_sleeper_after(day, PATIENCE),
        "{:?}",
        clock.sleepers()
    );
    clock.advance(day);
    let frame = stream.wait_next(0, PATIENCE).expect("a frame after a day");
    assert_eq!(frame.width(), 16);
    // Streaming: the stall deadline is a day after the frame.
    assert!(
        clock.wait_for_sleeper_after(day, PATIENCE),
        "{:?}",
        clock.sleepers()
    );
    assert!(stream.is_running());
    stream.stop();
    assert_eq!(log.count("stalled"), 0);
}

#[test]
fn pictures_larger_than_the_limit_are_a_permanent_error_naming_the_size() {
    let script = MockScript::new();
    script
        .open_ok(MockScript::props(8192, 8192, 30.0))
        .frames(1);
    let (clock, log) = (ManualClock::new(), EventLog::default());
    let stream = mock_stream(&script, &clock, &log).start().unwrap();
    let error = gave_up(&log);
    assert_eq!(error.kind(), ErrorKind::Unsupported);
    assert!(error.message().contains("8192×8192"), "{error}");
    assert!(error.message().contains("max_frame_pixels"), "{error}");
    assert_eq!(stream.stats().frames_decoded, 0);
    assert_eq!(script.open_count(), 1, "retried");

    // The same picture is fine when the limit allows it; a resize beyond it ends the stream.
    let script = MockScript::new();
    script
        .open_ok(MockScript::props(64, 48, 30.0))
        .frames(2)
        .resize(640, 480)
        .frames(1);
    let (clock, log) = (ManualClock::new(), EventLog::default());
    let stream = mock_stream(&script, &clock, &log)
        .max_frame_pixels(64 * 48)
        .start()
        .unwrap();
    let error = gave_up(&log);
    assert!(error.message().contains("640×480"), "{error}");
    assert_eq!(stream.stats().frames_decoded, 2);
    assert!(stream.read().is_none());
}

#[test]
fn sources_that_cannot_be_connected_to_give_up_at_once_without_opening() {
    let dir = std::env::temp_dir();
    for source in [
        "rtsp://".to_owned(),
        "rtsp:///stream".to_owned(),
        "rtsp://cam:99999/x".to_owned(),
        "rtsp://user:a@b#c@cam/x".to_owned(),
        dir.display().to_string(),
    ] {
        let script = MockScript::new();
        let log = EventLog::default();
        let stream = VideoStream::<MockBackend>::builder_with(
            source.as_str(),
            MockConfig::new(script.clone()),
        )
        .clock(ManualClock::new())
        .on_event(log.handler())
        .start()
        .unwrap();
        let error = gave_up(&log);
        assert_eq!(error.kind(), ErrorKind::InvalidSource, "{source}: {error}");
        assert!(!error.is_transient());
        assert_eq!(script.open_count(), 0, "{source} reached the backend");
        assert!(!format!("{error} {:?}", log.events()).contains("a@b#c"));
        wait_until("the stream ends", || !stream.is_running());
    }
}
