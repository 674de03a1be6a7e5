//! Decode modes against the mock's scripted units: what reaches the "decoder", what is
//! published, what the switch back to `All` waits for, what is counted, and what is refused.

mod common;

use common::{EventLog, PATIENCE};
use rtsp_stream_core::mock::frames_for;
use rtsp_stream_core::{
    DecodeMode, ErrorKind, Event, Frame, MockBackend, MockConfig, MockScript, Notice, StreamGroup,
    VideoStream,
};
use std::time::{Duration, Instant};

/// A unit every 10 ms, a key frame every `gop` units.
fn stream(
    gop: u64,
    b_frames: bool,
    log: &EventLog,
) -> rtsp_stream_core::VideoStreamBuilder<MockBackend> {
    let script = MockScript::new();
    script
        .open_ok(MockScript::props(32, 16, 100.0))
        .frames_forever(Duration::from_millis(10));
    let mut config = MockConfig::new(script);
    config.key_frame_interval = gop;
    config.b_frames = b_frames;
    VideoStream::<MockBackend>::builder_with("mock://camera/1", config).on_event(log.handler())
}

/// The unit of its connection a mock frame was made from (from 1).
fn unit(frame: &Frame) -> u64 {
    let data = frame.data();
    u64::from_le_bytes(data[data.len() - 8..].try_into().unwrap())
}

/// Under KeyFrames only key frames are published, the rest counted as skipped; back to All,
/// the switch waits for the next key frame and says how long it waited, and every unit after
/// it is published.
#[test]
fn key_frames_then_all() {
    let log = EventLog::default();
    let stream = stream(20, false, &log)
        .decode_mode(DecodeMode::KeyFrames)
        .start()
        .unwrap();
    let first = stream.wait_next(0, PATIENCE).unwrap();
    let frames = frames_for(&stream, first.seq(), Duration::from_millis(1000));
    assert!(frames.len() >= 2, "{} key frames in 1 s", frames.len());
    for frame in std::iter::once(&first).chain(&frames) {
        assert_eq!(
            unit(frame) % 20,
            1,
            "unit {} is not a key frame",
            unit(frame)
        );
        assert_eq!(frame.is_key_frame(), Some(true));
    }
    let stats = stream.stats();
    assert!(stats.units_skipped >= 19, "{stats:?}");
    assert_eq!(stats.decode_mode, DecodeMode::KeyFrames);

    let seq = frames.last().map_or(first.seq(), |f| f.seq());
    stream.set_decode_mode(DecodeMode::All).unwrap();
    let (_, applied) = log.wait_for("the switch to All applied", |e| {
        matches!(
            e,
            Event::Notice(Notice::DecodeModeApplied {
                mode: DecodeMode::All,
                ..
            })
        )
    });
    let Event::Notice(Notice::DecodeModeApplied { waited, .. }) = applied else {
        unreachable!()
    };
    // A key frame comes every 200 ms.
    assert!(waited <= Duration::from_secs(2), "{waited:?}");
    let after = frames_for(&stream, seq, Duration::from_millis(600));
    let units: Vec<u64> = after.iter().map(|f| unit(f)).collect();
    assert!(units.len() >= 10, "{units:?}");
    assert_eq!(
        units[0] % 20,
        1,
        "the first frame after the switch is a key frame: {units:?}"
    );
    // Consecutive units from there (a reader may miss one it did not wait for in time, never
    // the decoder).
    let decoded_after = units.last().unwrap() - units[0] + 1;
    assert!(
        stream.stats().frames_decoded >= frames.len() as u64 + decoded_after,
        "{:?}",
        stream.stats()
    );
}

/// Skipped units keep the stall watchdog away: key frames 1 s apart under a 300 ms stall
/// timeout make no stall.
#[test]
fn skipped_units_show_the_camera_is_alive() {
    let log = EventLog::default();
    let stream = stream(100, false, &log)
        .decode_mode(DecodeMode::KeyFrames)
        .stall_timeout(Duration::from_millis(300))
        .start()
        .unwrap();
    let first = stream.wait_next(0, PATIENCE).unwrap();
    let frames = frames_for(&stream, first.seq(), Duration::from_millis(2500));
    assert!(frames.len() >= 2, "{} frames", frames.len());
    assert_eq!(log.count("stalled"), 0, "{:?}", log.names());
    assert_eq!(stream.stats().reconnects, 0);
}

/// MaxRate on I B B P …: the B-frames over the rate are not decoded, the reference pictures
/// over it decoded but not converted, and at most the rate is published.
#[test]
fn max_rate_skips_non_reference_units_and_publishes_at_most_the_rate() {
    let log = EventLog::default();
    let stream = stream(30, true, &log)
        .decode_mode(DecodeMode::MaxRate(20.0))
        .start()
        .unwrap();
    let first = stream.wait_next(0, PATIENCE).unwrap();
    let started = Instant::now();
    let frames = frames_for(&stream, first.seq(), Duration::from_millis(1500));
    let span = started.elapsed().as_secs_f64();
    let published = frames.len() as f64;
    assert!(
        published <= 20.0 * span + 2.0,
        "{published} frames in {span} s"
    );
    assert!(published >= 5.0, "{published} frames in {span} s");
    let stats = stream.stats();
    assert!(stats.units_skipped > 0, "no B-frame skipped: {stats:?}");
    assert_eq!(stats.frames_decoded, stats.last_seq);
    // Every picture decoded was published or left unconverted — but for the one the capture
    // thread may hold between the two counts as the snapshot is taken — and the rates say so.
    assert!(stats.frames_not_converted > 0, "{stats:?}");
    let accounted = stats.frames_decoded + stats.frames_not_converted;
    assert!(
        (accounted..=accounted + 1).contains(&stats.pictures_decoded),
        "{stats:?}"
    );
    assert!(stats.decoded_fps > stats.measured_fps, "{stats:?}");
    assert!(
        !stats.decode_time.is_zero() && !stats.convert_time.is_zero(),
        "{stats:?}"
    );
}

/// The setters refuse what cannot run and change nothing then.
#[test]
fn bad_modes_are_refused() {
    let log = EventLog::default();
    for rate in [0.0, -3.0, f64::NAN, f64::INFINITY] {
        let e = stream(1, false, &log)
            .decode_mode(DecodeMode::MaxRate(rate))
            .build()
            .unwrap_err();
        assert_eq!(e.kind(), ErrorKind::InvalidArgument, "{rate}: {e}");
    }
    let stream = stream(1, false, &log).build().unwrap();
    let e = stream
        .set_decode_mode(DecodeMode::MaxRate(f64::NAN))
        .unwrap_err();
    assert_eq!(e.kind(), ErrorKind::InvalidArgument);
    assert_eq!(stream.stats().decode_mode, DecodeMode::All);

    let group = StreamGroup::<&str, MockBackend>::new();
    let script = MockScript::new();
    group
        .add(
            "a",
            VideoStream::builder_with("mock://a", MockConfig::new(script)),
        )
        .unwrap();
    let e = group
        .set_decode_mode(&"b", DecodeMode::KeyFrames)
        .unwrap_err();
    assert_eq!(e.kind(), ErrorKind::InvalidArgument);
    group.set_decode_mode(&"a", DecodeMode::KeyFrames).unwrap();
    let mode = group.stream(&"a").unwrap().stats().decode_mode;
    assert_eq!(mode, DecodeMode::KeyFrames);
}
