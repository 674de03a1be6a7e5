//! Files: played at their own rate like a live source, and ended without retrying.

use super::{Abilities, PATIENCE, builder};
use crate::conformance::helpers::EventRecorder;
use rtsp_stream_core::{CaptureBackend, ErrorKind, State};
use std::path::Path;
use std::time::{Duration, Instant};

/// A 1 s, 25 fps file is delivered in about a second (at its own rate), all 25 frames, and
/// its end finishes the stream without a retry. Needs the `ffmpeg` tool to make the file.
pub fn file_plays_at_its_own_rate_and_ends<B: CaptureBackend>(
    config: &B::Config,
    dir: &Path,
    can: Abilities,
) {
    let name = format!("conformance-{}.mp4", B::name(config));
    let path = crate::clip::h264_clip(dir, &name, &[]).expect("the clip is written");
    if !can.reads_files {
        file_is_refused::<B>(config, path.to_str().expect("a UTF-8 path"));
        return;
    }
    let events = EventRecorder::new();
    let t = Instant::now();
    let stream = builder::<B>(path.to_str().expect("a UTF-8 path"), config, &events)
        .start()
        .unwrap();
    events.wait_nth("end_of_stream", 0, PATIENCE);
    let took = t.elapsed();
    assert_eq!(stream.stats().frames_decoded, 25, "{:?}", stream.stats());
    assert!(
        took >= Duration::from_millis(800),
        "1 s of video took {took:?}: not paced"
    );
    assert_eq!(stream.state(), State::Finished);
    assert_eq!(events.count("connecting"), 1, "a finished file was retried");
}

/// A file that does not exist: not found, given up at once.
pub fn missing_file_is_not_found<B: CaptureBackend>(config: &B::Config, can: Abilities) {
    if !can.reads_files {
        file_is_refused::<B>(config, "/no/such/file.mp4");
        return;
    }
    let events = EventRecorder::new();
    let stream = builder::<B>("/no/such/file.mp4", config, &events)
        .start()
        .unwrap();
    let error = events.gave_up(PATIENCE);
    assert_eq!(error.kind(), ErrorKind::NotFound, "{error}");
    assert_eq!(events.count("connecting"), 1, "a missing file was retried");
    assert_eq!(stream.state(), State::GaveUp);
}

/// For a backend without files: `path` is a permanent error on the first attempt.
fn file_is_refused<B: CaptureBackend>(config: &B::Config, path: &str) {
    let events = EventRecorder::new();
    let stream = builder::<B>(path, config, &events).start().unwrap();
    let error = events.gave_up(PATIENCE);
    assert!(
        matches!(
            error.kind(),
            ErrorKind::InvalidSource | ErrorKind::Unsupported
        ),
        "{error}"
    );
    assert_eq!(events.count("connecting"), 1, "a file was retried");
    assert_eq!(stream.state(), State::GaveUp);
}
