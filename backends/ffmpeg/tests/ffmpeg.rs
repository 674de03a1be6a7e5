//! What the FFmpeg backend does beyond the shared suite: key frames, looping files, devices
//! through an input format, damaged input, error kinds.

use rtsp_stream_core::{ErrorKind, Event, VideoStream};
use rtsp_stream_ffmpeg::{FfmpegBackend, FfmpegConfig};
use rtsp_stream_testkit::conformance::{EventRecorder, builder, serial, wait_until};
use rtsp_stream_testkit::{ServerOptions, TestServer};
use std::path::{Path, PathBuf};
use std::time::Duration;

const PATIENCE: Duration = Duration::from_secs(20);

fn stream(url: &str, config: FfmpegConfig, events: &EventRecorder) -> VideoStream<FfmpegBackend> {
    builder::<FfmpegBackend>(url, &config, events)
        .start()
        .unwrap()
}

fn clip(name: &str, extra: &[&str]) -> PathBuf {
    rtsp_stream_testkit::clip::h264_clip(Path::new(env!("CARGO_TARGET_TMPDIR")), name, extra)
        .unwrap()
}

#[test]
fn the_first_frame_is_a_key_frame_and_time_stamps_grow() {
    let _serial = serial();
    let server = TestServer::start(ServerOptions::default()).unwrap();
    let events = EventRecorder::new();
    let s = stream(&server.url(), FfmpegConfig::default(), &events);
    let frame = s
        .wait_next(0, PATIENCE)
        .unwrap_or_else(|| panic!("no frame; events {:?}", events.events()));
    assert_eq!(frame.is_key_frame(), Some(true));
    // The first picture of an RTSP session leaves FFmpeg's parser without a time stamp (there
    // is no earlier packet to derive one from); the following ones carry increasing ones.
    let mut last = None;
    let mut seq = frame.seq();
    for _ in 0..5 {
        let f = s.wait_next(seq, PATIENCE).expect("more frames");
        seq = f.seq();
        let pts = f.pts().expect("a pts after the first frame");
        assert!(last.is_none_or(|l| pts > l), "{last:?} then {pts:?}");
        last = Some(pts);
    }
    s.stop();
}

#[test]
fn a_looping_file_starts_again() {
    let path = clip("looped.mp4", &[]);
    let events = EventRecorder::new();
    let config = FfmpegConfig {
        loop_files: true,
        pace_files: false,
        ..FfmpegConfig::default()
    };
    let s = stream(path.to_str().unwrap(), config, &events);
    assert!(
        s.wait_next(60, PATIENCE).is_some(),
        "fewer than 60 frames from a 25-frame loop"
    );
    assert_eq!(events.count("end_of_stream"), 0);
    assert_eq!(events.count("connecting"), 1);
    s.stop();
}

#[test]
fn a_device_is_opened_through_its_input_format() {
    // lavfi stands in for a capture device: it is opened by format name, not by URL.
    let events = EventRecorder::new();
    let config = FfmpegConfig {
        input_format: Some("lavfi".into()),
        ..FfmpegConfig::default()
    };
    let s = stream("testsrc2=size=96x64:rate=10", config, &events);
    let frame = s
        .wait_next(0, PATIENCE)
        .expect("a frame from the lavfi device");
    assert_eq!((frame.width(), frame.height()), (96, 64));
    s.stop();
}

#[test]
fn damaged_input_skips_to_the_next_key_frame() {
    let path = clip("damaged.ts", &["-f", "mpegts"]);
    let mut bytes = std::fs::read(&path).unwrap();
    // Drop twenty transport-stream packets from the middle, as a lossy link would: the
    // demuxer notices the gap and marks the damaged packet.
    let start = bytes.len() / 2 / 188 * 188;
    bytes.drain(start..start + 188 * 20);
    let damaged = path.with_file_name("damaged-really.ts");
    std::fs::write(&damaged, &bytes).unwrap();
    let events = EventRecorder::new();
    let config = FfmpegConfig {
        pace_files: false,
        ..FfmpegConfig::default()
    };
    let s = stream(damaged.to_str().unwrap(), config, &events);
    events.wait_nth("end_of_stream", 0, PATIENCE);
    let stats = s.stats();
    assert!(
        stats.decode_errors >= 1,
        "no decode error counted: {stats:?}"
    );
    assert!(
        stats.frames_decoded < 25,
        "damaged frames were delivered: {stats:?}"
    );
    assert!(
        stats.frames_decoded >= 10,
        "too few frames survived: {stats:?}"
    );
}

#[test]
fn an_unknown_scheme_is_a_permanent_error() {
    let events = EventRecorder::new();
    let s = stream(
        "nosuchscheme://camera/stream",
        FfmpegConfig::default(),
        &events,
    );
    let (_, e) = events.wait_nth("gave_up", 0, PATIENCE);
    let Event::GaveUp { error } = e else {
        unreachable!()
    };
    assert_eq!(error.kind(), ErrorKind::InvalidSource, "{error}");
    assert_eq!(
        events.count("connecting"),
        1,
        "an unknown scheme was retried"
    );
    wait_until(PATIENCE, "the stream stops running after giving up", || {
        !s.is_running()
    });
}
