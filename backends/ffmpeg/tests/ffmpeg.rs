//! What the FFmpeg backend does beyond the shared suite: key frames, looping files, devices
//! through an input format, damaged input, error kinds.

use rtsp_stream_core::ErrorKind;
use rtsp_stream_ffmpeg::{FfmpegBackend, FfmpegConfig};
use rtsp_stream_testkit::conformance::{EventRecorder, first_frame, start, wait_until};
use std::path::{Path, PathBuf};
use std::time::Duration;

const PATIENCE: Duration = Duration::from_secs(20);

fn clip(name: &str, extra: &[&str]) -> PathBuf {
    rtsp_stream_testkit::clip::h264_clip(Path::new(env!("CARGO_TARGET_TMPDIR")), name, extra)
        .unwrap()
}

#[test]
fn a_looping_file_starts_again() {
    let path = clip("looped.mp4", &[]);
    let events = EventRecorder::new();
    let mut config = FfmpegConfig::default();
    config.loop_files = true;
    config.pace_files = false;
    let s = start::<FfmpegBackend>(path.to_str().unwrap(), &config, &events);
    assert!(
        s.wait_next(60, PATIENCE).is_ok(),
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
    let mut config = FfmpegConfig::default();
    config.input_format = Some("lavfi".into());
    let s = start::<FfmpegBackend>("testsrc2=size=96x64:rate=10", &config, &events);
    let frame = first_frame(&s, &events);
    assert_eq!((frame.width(), frame.height()), (96, 64));
    s.stop();
}

#[test]
fn damaged_input_skips_to_the_next_key_frame() {
    let path = clip("damaged.ts", &["-f", "mpegts"]);
    let mut bytes = std::fs::read(&path).unwrap();
    // Drop twenty transport-stream packets from the middle, as a lossy link would: the
    // demuxer notices the gap and marks the damaged packet.
    let cut = bytes.len() / 2 / 188 * 188;
    bytes.drain(cut..cut + 188 * 20);
    let damaged = path.with_file_name("damaged-really.ts");
    std::fs::write(&damaged, &bytes).unwrap();
    let events = EventRecorder::new();
    let mut config = FfmpegConfig::default();
    config.pace_files = false;
    let s = start::<FfmpegBackend>(damaged.to_str().unwrap(), &config, &events);
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
    let s = start::<FfmpegBackend>(
        "nosuchscheme://camera/stream",
        &FfmpegConfig::default(),
        &events,
    );
    let error = events.gave_up(PATIENCE);
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
