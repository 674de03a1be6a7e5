//! Camera time against the scriptable camera's clock: it sends a sender report every 0.5 s
//! from a clock it controls (an offset, a drift, a step, or no usable time at all) and knows
//! when it captured each frame, which the index in the pixels names.
//!
//! Each scenario runs for every backend: one that declares camera time
//! ([`Abilities::camera_time`](rtsp_stream_core::raw::Abilities::camera_time)) must map every
//! frame within [`CAMERA_TIME_TOLERANCE`] of the logged capture instant once a sender report
//! arrived, and never before; one that declares none must deliver frames with `None`, no
//! error and no hang.

use super::builder;
use super::world::interleaved;
use crate::camera::{CameraClock, CameraServer, Scenario};
use crate::conformance::helpers::EventRecorder;
use crate::content::ContentSpec;
use rtsp_stream_core::{CameraTimeSource, CaptureBackend, Event, Frame, Notice, Transport};
use std::time::{Duration, Instant, SystemTime};

/// How far a frame's camera time may lie from the instant the camera logged capturing it.
pub const CAMERA_TIME_TOLERANCE: Duration = Duration::from_millis(20);

/// What a scenario read: each frame's camera time (if any), its capture instant on the
/// camera's clock, and when it was received.
struct Reading {
    frames: Vec<(Option<SystemTime>, SystemTime, Instant)>,
    events: EventRecorder,
    stats: rtsp_stream_core::Stats,
}

fn apart(a: SystemTime, b: SystemTime) -> Duration {
    a.duration_since(b).unwrap_or_else(|e| e.duration())
}

/// Reads every frame of a camera with `clock` for `hold`.
fn read<B: CaptureBackend>(
    config: &B::Config,
    clock: CameraClock,
    first_report_after: Duration,
    hold: Duration,
) -> (Reading, CameraServer) {
    let mut scenario = Scenario::new(ContentSpec::small());
    scenario.clock = clock;
    scenario.rtcp.first_after = first_report_after;
    // The first picture is a key frame: decoded at once, well before a late first report.
    scenario.start_at_key_frame = true;
    let camera = CameraServer::start(scenario).expect("the camera starts");
    let events = EventRecorder::new();
    let stream = builder::<B>(&camera.url(), config, &events)
        .transport(interleaved::<B>(config, Transport::Tcp))
        .start()
        .expect("the stream starts");
    let mut frames = Vec::new();
    let mut last = 0;
    let until = Instant::now() + hold;
    while Instant::now() < until {
        if let Ok(frame) = stream.wait_next(last, Duration::from_millis(500)) {
            last = frame.seq();
            if let Some(captured) = captured(&camera, &frame) {
                let at = frame.camera_time().map(|c| c.at);
                frames.push((at, captured, frame.received_instant()));
            }
        }
    }
    let stats = stream.stats();
    stream.stop();
    let reading = Reading {
        frames,
        events,
        stats,
    };
    (reading, camera)
}

/// The instant the camera logged capturing the frame, from the index in its pixels.
fn captured(camera: &CameraServer, frame: &Frame) -> Option<SystemTime> {
    Some(camera.capture_time(camera.frame_in(frame)?))
}

/// Frames received once `after` has passed since the first one.
fn settled(reading: &Reading, after: Duration) -> Vec<(Option<SystemTime>, SystemTime)> {
    let Some(&(_, _, first)) = reading.frames.first() else {
        return Vec::new();
    };
    reading
        .frames
        .iter()
        .filter(|(_, _, received)| *received >= first + after)
        .map(|(at, captured, _)| (*at, *captured))
        .collect()
}

/// Asserts that every frame of `frames` has a camera time within the tolerance of its
/// capture instant; returns the largest error.
fn assert_mapped(row: &str, frames: &[(Option<SystemTime>, SystemTime)]) -> Duration {
    assert!(frames.len() >= 10, "{row}: only {} frames", frames.len());
    let mut worst = Duration::ZERO;
    for (at, captured) in frames {
        let at = at.unwrap_or_else(|| panic!("{row}: a frame without camera time"));
        let error = apart(at, *captured);
        assert!(
            error <= CAMERA_TIME_TOLERANCE,
            "{row}: camera time {error:?} off the capture instant"
        );
        worst = worst.max(error);
    }
    worst
}

/// For a backend without camera time: frames come, all with `None`, and nothing failed.
fn assert_none(row: &str, reading: &Reading) {
    assert!(
        reading.frames.len() >= 10,
        "{row}: only {} frames",
        reading.frames.len()
    );
    assert!(
        reading.frames.iter().all(|(at, _, _)| at.is_none()),
        "{row}: camera time from a backend that declares none"
    );
    assert_eq!(
        reading.events.count("disconnected"),
        0,
        "{row}: {:?}",
        reading.events.names()
    );
}

/// The camera's clock runs 3.7 s ahead of ours: camera time follows the camera's clock, not
/// ours, and the stream's statistics show the offset. Before the first sender report
/// (sent 2.5 s into the session here) no frame has a camera time.
pub fn camera_time_offset<B: CaptureBackend>(config: &B::Config) -> Duration {
    let clock = CameraClock {
        offset_ms: 3700,
        ..CameraClock::default()
    };
    let (reading, _camera) = read::<B>(
        config,
        clock,
        Duration::from_millis(2500),
        Duration::from_secs(5),
    );
    let row = "camera time, clock 3.7 s ahead";
    if B::describe(config).abilities.camera_time.is_none() {
        assert_none(row, &reading);
        return Duration::ZERO;
    }
    // The first frames come before the first report: none of them may carry a guess.
    let early = &reading.frames[..reading.frames.len().min(5)];
    assert!(
        early.iter().all(|(at, _, _)| at.is_none()),
        "{row}: a camera time before the first sender report"
    );
    let worst = assert_mapped(row, &settled(&reading, Duration::from_millis(2600)));
    let offset = reading
        .stats
        .camera_clock_offset
        .unwrap_or_else(|| panic!("{row}: no clock offset in stats()"));
    assert!(
        (offset - 3.7).abs() < 0.5,
        "{row}: stats() says the camera's clock is {offset} s off"
    );
    worst
}

/// The camera's clock runs 200 ppm fast, and its encoder's clock 200 ppm faster still (its
/// wall clock kept by NTP, its oscillator free): a backend that follows every sender report
/// stays within the tolerance; one that knows only the first report is held to the same bound over
/// this scenario's few seconds (200 ppm is 1 ms in 5 s).
pub fn camera_time_drift<B: CaptureBackend>(config: &B::Config) -> Duration {
    let clock = CameraClock {
        offset_ms: -1250,
        drift_ppm: 200.0,
        media_drift_ppm: 200.0,
        ..CameraClock::default()
    };
    let (reading, _camera) = read::<B>(config, clock, Duration::ZERO, Duration::from_secs(5));
    let row = "camera time, clock drifting 200 ppm";
    if B::describe(config).abilities.camera_time.is_none() {
        assert_none(row, &reading);
        return Duration::ZERO;
    }
    assert_mapped(row, &settled(&reading, Duration::from_millis(1000)))
}

/// The camera's clock steps 1.5 s forward 2 s into the stream: a backend that follows every
/// sender report sends a `ClockStep` notice of about 1.5 s and maps the frames after it to
/// the new clock within two reports (1 s).
pub fn camera_time_step<B: CaptureBackend>(config: &B::Config) -> Duration {
    let clock = CameraClock {
        step: Some((Duration::from_secs(2), 1500)),
        ..CameraClock::default()
    };
    let (reading, camera) = read::<B>(config, clock, Duration::ZERO, Duration::from_secs(5));
    let row = "camera time, clock step of 1.5 s";
    match B::describe(config).abilities.camera_time {
        None => {
            assert_none(row, &reading);
            Duration::ZERO
        }
        Some(CameraTimeSource::SenderReports) => {
            let steps: Vec<Event> = reading
                .events
                .events()
                .into_iter()
                .filter(|e| matches!(e, Event::Notice(Notice::ClockStep { .. })))
                .collect();
            assert_eq!(steps.len(), 1, "{row}: {:?}", reading.events.names());
            if let Event::Notice(Notice::ClockStep { by, backwards }) = &steps[0] {
                assert!(!backwards, "{row}: {steps:?}");
                assert!(
                    (by.as_secs_f64() - 1.5).abs() < 0.05,
                    "{row}: a step of {by:?}"
                );
            }
            // The step comes 2 s after the camera started and reports every 0.5 s: frames
            // received from two reports after it on map to the new clock.
            let start = camera.send_instant(0);
            let after: Vec<_> = reading
                .frames
                .iter()
                .filter(|(_, _, received)| *received > start + Duration::from_millis(3050))
                .map(|(at, captured, _)| (*at, *captured))
                .collect();
            assert_mapped(row, &after)
        }
        Some(_) => {
            // Only the first report: frames before the step (2 s after the camera started)
            // map to its clock, and those after it stay 1.5 s off (the step is not seen).
            let start = camera.send_instant(0);
            let received_before = |cut: Duration| {
                reading
                    .frames
                    .iter()
                    .filter(move |(at, _, received)| at.is_some() && *received < start + cut)
                    .map(|(at, captured, _)| (*at, *captured))
                    .collect::<Vec<_>>()
            };
            let before = received_before(Duration::from_millis(1900));
            assert!(
                before.len() >= 5,
                "{row}: {} frames mapped before the step",
                before.len()
            );
            let worst = before
                .iter()
                .map(|(at, captured)| apart(at.expect("mapped"), *captured))
                .max()
                .unwrap_or_default();
            assert!(
                worst <= CAMERA_TIME_TOLERANCE,
                "{row}: {worst:?} off before the step"
            );
            let after: Vec<_> = reading
                .frames
                .iter()
                .filter(|(_, _, received)| *received > start + Duration::from_millis(3200))
                .collect();
            assert!(
                after.len() >= 10,
                "{row}: {} frames after the step",
                after.len()
            );
            for (at, captured, _) in after {
                let off = apart(at.expect("mapped"), *captured).as_secs_f64();
                assert!(
                    (off - 1.5).abs() < 0.05,
                    "{row}: {off} s off after the step"
                );
            }
            worst
        }
    }
}

/// The camera's sender reports carry a zero NTP time (a camera whose clock was never set):
/// they are ignored with one notice, and no frame has a camera time (so nothing is off:
/// the error returned is zero).
pub fn camera_time_without_a_clock<B: CaptureBackend>(config: &B::Config) -> Duration {
    let clock = CameraClock {
        bogus_ntp: Some(true),
        ..CameraClock::default()
    };
    let (reading, _camera) = read::<B>(config, clock, Duration::ZERO, Duration::from_secs(3));
    let row = "camera time, sender reports without a time";
    assert!(
        reading.frames.len() >= 10,
        "{row}: only {} frames",
        reading.frames.len()
    );
    assert!(
        reading.frames.iter().all(|(at, _, _)| at.is_none()),
        "{row}: a camera time from a report without a time"
    );
    if B::describe(config).abilities.camera_time == Some(CameraTimeSource::SenderReports) {
        assert_eq!(
            reading.events.count("sender_reports_ignored"),
            1,
            "{row}: {:?}",
            reading.events.names()
        );
    }
    Duration::ZERO
}

/// Three cameras behind network delays of 0, 60 and 120 ms (over UDP), their clocks 150 ms
/// ahead and 100 ms behind the first one's: every set a group's
/// [`aligned`](rtsp_stream_core::StreamGroup::aligned) read returns holds frames the cameras
/// logged capturing (each on its own clock) within the tolerance of each other (45 ms: at
/// 15 fps, three cameras of any phase always have such a set). The cameras' 500 ms histories
/// cover what the offsets and delays put between frames of one camera time. A backend without camera
/// time gets an error naming every camera. Returns the widest spread of capture instants
/// seen in a set.
pub fn aligned_group<B: CaptureBackend>(config: &B::Config) -> Duration {
    use rtsp_stream_core::{AlignError, StreamGroup};
    const TOLERANCE: Duration = Duration::from_millis(45);
    let timed = B::describe(config).abilities.camera_time.is_some();
    let cameras: Vec<CameraServer> = [(0, 0), (60, 150), (120, -100)]
        .into_iter()
        .map(|(delay_ms, offset_ms)| {
            let mut scenario = Scenario::new(ContentSpec::small());
            scenario.clock.offset_ms = offset_ms;
            scenario.impairment.delay = Duration::from_millis(delay_ms);
            CameraServer::start(scenario).expect("the camera starts")
        })
        .collect();
    let group = StreamGroup::<usize, B>::new();
    let events = EventRecorder::new();
    // UDP where the delays apply; a backend without camera time is asked nothing of it.
    let transport = if timed && B::describe(config).abilities.reports_transport_fallback {
        Transport::Udp
    } else {
        interleaved::<B>(config, Transport::Tcp)
    };
    for (i, camera) in cameras.iter().enumerate() {
        let builder = builder::<B>(&camera.url(), config, &events)
            .transport(transport)
            .aligned();
        group.add(i, builder).expect("the camera starts");
    }
    if !timed {
        let error = group.aligned(TOLERANCE, Duration::from_secs(4));
        assert_eq!(error.err(), Some(AlignError::NoCameraTime(vec![0, 1, 2])));
        group.stop();
        return Duration::ZERO;
    }
    let mut widest = Duration::ZERO;
    let mut sets = 0;
    let mut last_newest = None;
    let until = Instant::now() + Duration::from_secs(20);
    while sets < 5 && Instant::now() < until {
        let set = match group.aligned(TOLERANCE, Duration::from_secs(10)) {
            Ok(set) => set,
            Err(e) => panic!("no aligned set: {e}; events {:?}", events.names()),
        };
        let newest = set.iter().map(|(_, f)| f.seq()).max();
        if newest == last_newest {
            // The same set again: wait for the cameras to move on.
            if let Some(stream) = group.stream(&0) {
                let seq = stream.read().map_or(0, |f| f.seq());
                let _ = stream.wait_next(seq, Duration::from_secs(2));
            }
            continue;
        }
        last_newest = newest;
        let captured: Vec<SystemTime> = set
            .iter()
            .map(|(i, frame)| captured(&cameras[*i], frame).expect("an index in the pixels"))
            .collect();
        let (earliest, latest) = (
            *captured.iter().min().expect("three"),
            *captured.iter().max().expect("three"),
        );
        let spread = apart(latest, earliest);
        assert!(
            spread <= TOLERANCE + Duration::from_millis(2),
            "a set captured {spread:?} apart (tolerance {TOLERANCE:?})"
        );
        widest = widest.max(spread);
        sets += 1;
    }
    assert_eq!(sets, 5, "aligned sets in 20 s");
    // What the histories hold is stated per camera: half a second of 320×240 BGR frames.
    for (key, stats) in group.stats().cameras {
        let (frames, bytes) = stats.aligned_history;
        assert!(
            (2..=20).contains(&frames),
            "camera {key} holds {frames} frames"
        );
        assert_eq!(bytes, frames as u64 * 320 * 240 * 3, "camera {key}");
    }
    group.stop();
    widest
}
