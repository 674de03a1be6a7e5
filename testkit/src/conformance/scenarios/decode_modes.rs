//! Decode modes against the scriptable camera's ground truth: which of its frames were key
//! frames, and which pictures other pictures refer to.
//!
//! A backend that declares a mode ([`Abilities::decode_modes`]) must run it as the mode says;
//! one that does not must refuse it with `Unsupported`, from the builder and from the setter,
//! and keep streaming as before.
//!
//! [`Abilities::decode_modes`]: rtsp_stream_core::raw::Abilities::decode_modes

use super::builder;
use super::world::interleaved;
use crate::camera::{CameraServer, Scenario};
use crate::conformance::helpers::EventRecorder;
use crate::content::{ContentCodec, ContentSpec};
use rtsp_stream_core::mock::frames_for;
use rtsp_stream_core::{
    CaptureBackend, DecodeMode, ErrorKind, Event, Notice, Transport, VideoStream,
};
use std::time::{Duration, Instant};

fn camera(codec: ContentCodec) -> CameraServer {
    let scenario = Scenario::new(ContentSpec::small().with_codec(codec));
    CameraServer::start(scenario).expect("the camera starts")
}

fn start<B: CaptureBackend>(
    config: &B::Config,
    camera: &CameraServer,
    mode: DecodeMode,
    events: &EventRecorder,
) -> VideoStream<B> {
    builder::<B>(&camera.url(), config, events)
        .transport(interleaved::<B>(config, Transport::Tcp))
        .decode_mode(mode)
        .start()
        .expect("the stream starts")
}

/// A mode the backend does not declare is refused by the builder and the setter, which
/// change nothing.
fn refused<B: CaptureBackend>(config: &B::Config, mode: DecodeMode) {
    let camera = camera(ContentCodec::H264);
    let events = EventRecorder::new();
    let e = builder::<B>(&camera.url(), config, &events)
        .decode_mode(mode)
        .build()
        .expect_err("an undeclared mode is refused");
    assert_eq!(e.kind(), ErrorKind::Unsupported, "{e}");
    let stream = start::<B>(config, &camera, DecodeMode::All, &events);
    let e = stream.set_decode_mode(mode).unwrap_err();
    assert_eq!(e.kind(), ErrorKind::Unsupported, "{e}");
    let first = stream
        .wait_next(0, Duration::from_secs(10))
        .expect("a first frame after the refusal");
    let frames = frames_for(&stream, first.seq(), Duration::from_secs(2));
    assert!(
        frames.len() >= 10,
        "{} frames after the refusal",
        frames.len()
    );
    assert_eq!(stream.stats().decode_mode, DecodeMode::All);
}

/// `KeyFrames` on a 15 fps camera with a key frame every second: every frame published is one
/// the camera sent as a key frame, 3–7 of them in 5 s. Then `All`: the switch waits at most a
/// key-frame interval + 0.5 s (the notice says how long), and within 3 s two seconds hold
/// ≥ 20 frames.
pub fn decode_key_frames_then_all<B: CaptureBackend>(config: &B::Config) {
    if !B::describe(config).abilities.decode_modes.key_frames {
        return refused::<B>(config, DecodeMode::KeyFrames);
    }
    let camera = camera(ContentCodec::H264);
    let events = EventRecorder::new();
    let stream = start::<B>(config, &camera, DecodeMode::KeyFrames, &events);
    let first = stream
        .wait_next(0, Duration::from_secs(10))
        .expect("a first key frame");
    let frames = frames_for(&stream, first.seq(), Duration::from_secs(5));
    assert!(
        (3..=7).contains(&frames.len()),
        "{} frames in 5 s of key frames",
        frames.len()
    );
    for frame in std::iter::once(&first).chain(&frames) {
        let n = camera.frame_in(frame).expect("a frame index in the pixels");
        assert!(camera.is_key_frame(n), "frame {n} was not a key frame");
    }
    let skipped = stream.stats().units_skipped;
    assert!(skipped >= 50, "{skipped} units skipped in 5 s at 15 fps");

    let seq = frames.last().map_or(first.seq(), |f| f.seq());
    let asked = Instant::now();
    stream.set_decode_mode(DecodeMode::All).unwrap();
    let after = frames_for(&stream, seq, Duration::from_secs(3));
    let waited = events
        .events()
        .iter()
        .find_map(|e| match e {
            Event::Notice(Notice::DecodeModeApplied {
                mode: DecodeMode::All,
                waited,
            }) => Some(*waited),
            _ => None,
        })
        .expect("the switch to All says when it applied");
    assert!(
        waited <= Duration::from_millis(1500),
        "the switch waited {waited:?}"
    );
    let received: Vec<Instant> = after.iter().map(|f| f.received_instant()).collect();
    let full = received.iter().enumerate().any(|(i, t)| {
        received[i..]
            .iter()
            .take_while(|r| **r <= *t + Duration::from_secs(2))
            .count()
            >= 20
    });
    assert!(
        full,
        "fewer than 20 frames in every 2 s after the switch ({} frames in {:?})",
        after.len(),
        asked.elapsed()
    );
    stream.stop();
}

/// `MaxRate(5)`: at most 5 frames a second published (+ 2), at least 2.5; on the B-frame
/// variant a backend that gates its decoder's input leaves non-reference pictures undecoded,
/// on the IPPP stream it leaves nothing undecoded (every P-frame is referenced) and converts
/// only what it publishes.
pub fn decode_max_rate<B: CaptureBackend>(config: &B::Config) {
    let modes = B::describe(config).abilities.decode_modes;
    if !modes.max_rate {
        return refused::<B>(config, DecodeMode::MaxRate(5.0));
    }
    for codec in [ContentCodec::H264BFrames, ContentCodec::H264] {
        let camera = camera(codec);
        let events = EventRecorder::new();
        let stream = start::<B>(config, &camera, DecodeMode::MaxRate(5.0), &events);
        let first = stream
            .wait_next(0, Duration::from_secs(10))
            .expect("a first frame");
        let frames = frames_for(&stream, first.seq(), Duration::from_secs(4));
        let span = frames.last().map_or(Duration::ZERO, |f| {
            f.received_instant() - first.received_instant()
        });
        let rate = frames.len() as f64 / span.as_secs_f64().max(1e-3);
        assert!(
            frames.len() as f64 <= 5.0 * span.as_secs_f64() + 2.0,
            "{codec:?}: {} frames in {span:?}",
            frames.len()
        );
        assert!(rate >= 2.5, "{codec:?}: {rate} frames a second");
        let stats = stream.stats();
        assert!(
            stats.frames_not_converted > 0 || stats.units_skipped > 0,
            "{stats:?}"
        );
        match codec {
            ContentCodec::H264BFrames if modes.key_frames => assert!(
                stats.units_skipped >= 10,
                "{codec:?}: only {} non-reference units skipped",
                stats.units_skipped
            ),
            ContentCodec::H264 => assert_eq!(
                stats.units_skipped, 0,
                "{codec:?}: a reference picture was left undecoded"
            ),
            _ => {}
        }
        stream.stop();
    }
}
