//! The webcam backend's own logic, driven through the real stream by a scripted camera
//! system (no camera exists on the machines this runs on; see `real_camera.rs` for the tests
//! that need one).

mod fake;

use fake::{FakeCamera, FakeCameras, LEFT};
use rtsp_stream_core::{ErrorKind, Event, Frame, PixelFormat, State, VideoStream};
use rtsp_stream_testkit::conformance::{EventRecorder, wait_until};
use rtsp_stream_webcam::{CameraMode, FourCc, WebcamBackend, WebcamConfig};
use std::sync::Arc;
use std::time::{Duration, Instant};

const PATIENCE: Duration = Duration::from_secs(10);
const BLUE: [u8; 3] = [40, 60, 210];
const GREEN: [u8; 3] = [50, 190, 70];

/// Two cameras of the same model (same name), told apart only by their serial numbers.
fn camera(serial: &str, colour: [u8; 3], modes: Vec<CameraMode>) -> FakeCamera {
    FakeCamera {
        name: "USB2.0 HD UVC WebCam".into(),
        stable_id: format!("/dev/v4l/by-id/usb-Generic_HD_Camera_{serial}-video-index0"),
        colour,
        modes,
    }
}

fn config(system: &FakeCameras) -> WebcamConfig {
    let mut config = WebcamConfig::default();
    config.system = Arc::new(system.clone());
    config
}

fn stream(
    source: &str,
    config: WebcamConfig,
    events: &EventRecorder,
) -> VideoStream<WebcamBackend> {
    VideoStream::<WebcamBackend>::builder_with(source, config)
        .reconnect_delay(Duration::from_millis(20))
        .max_reconnect_delay(Duration::from_millis(50))
        .stall_timeout(Duration::from_millis(500))
        .on_event(events.handler())
        .start()
        .unwrap()
}

fn close(a: u8, b: u8) -> bool {
    (i32::from(a) - i32::from(b)).abs() <= 12
}

/// The pixel in the middle of the left or right half, in RGB (or luma for gray).
fn sample(frame: &Frame, right: bool) -> Vec<u8> {
    let x = if right {
        frame.width() * 3 / 4
    } else {
        frame.width() / 4
    };
    let px = frame.pixel(x, frame.height() / 2).to_vec();
    match frame.pixel_format() {
        PixelFormat::Bgr8 => vec![px[2], px[1], px[0]],
        _ => px,
    }
}

fn expected(rgb: [u8; 3], format: PixelFormat) -> Vec<u8> {
    match format {
        PixelFormat::Gray8 => {
            let [r, g, b] = rgb.map(f64::from);
            vec![(0.299 * r + 0.587 * g + 0.114 * b).round() as u8]
        }
        _ => rgb.to_vec(),
    }
}

fn assert_colours(frame: &Frame, right: [u8; 3], what: &str) {
    for (is_right, want) in [(false, LEFT), (true, right)] {
        let got = sample(frame, is_right);
        let want = expected(want, frame.pixel_format());
        assert!(
            got.iter().zip(&want).all(|(g, w)| close(*g, *w)),
            "{what}: {} half in {}: got {got:?}, want {want:?} (±12)",
            if is_right { "right" } else { "left" },
            frame.pixel_format()
        );
    }
}

#[test]
fn yuyv_nv12_and_mjpeg_decode_into_every_pixel_format() {
    for fourcc in [FourCc::Yuyv, FourCc::Nv12, FourCc::Mjpeg] {
        for format in [PixelFormat::Bgr8, PixelFormat::Rgb8, PixelFormat::Gray8] {
            let system = FakeCameras::default();
            system.plug(
                0,
                camera("A1", BLUE, vec![CameraMode::new(64, 48, 30, fourcc)]),
            );
            let events = EventRecorder::new();
            let s = VideoStream::<WebcamBackend>::builder_with("0", config(&system))
                .pixel_format(format)
                .on_event(events.handler())
                .start()
                .unwrap();
            let frame = s.wait_next(0, PATIENCE).unwrap_or_else(|e| {
                panic!("{fourcc:?}: no frame ({e}); events {:?}", events.names())
            });
            assert_eq!((frame.width(), frame.height()), (64, 48));
            assert_eq!(frame.pixel_format(), format);
            assert_colours(&frame, BLUE, &format!("{fourcc:?} → {format}"));
            assert_eq!(s.props().unwrap().codec.as_deref(), Some(fourcc.name()));
            s.stop();
        }
    }
}

#[test]
fn an_unplugged_camera_is_reopened_by_identity_not_by_index() {
    let system = FakeCameras::default();
    let modes = vec![CameraMode::new(64, 48, 30, FourCc::Yuyv)];
    let a = camera("A1", BLUE, modes.clone());
    let b = camera("B2", GREEN, modes.clone());
    system.plug(0, a.clone());
    let events = EventRecorder::new();
    let s = stream("0", config(&system), &events);
    let before = s.wait_next(0, PATIENCE).expect("a frame from camera A");
    assert_colours(&before, BLUE, "camera A");

    // Camera A is pulled; an identical camera B arrives and takes index 0.
    system.unplug(&a.stable_id);
    system.plug(0, b.clone());
    events.wait_nth("disconnected", 0, PATIENCE);
    // While A is away every attempt is a transient "device missing", backed off.
    events.wait_nth("backing_off", 2, PATIENCE);
    let error = s.stats().last_error.expect("an error while A is away");
    assert_eq!(error.kind(), ErrorKind::DeviceMissing, "{error}");
    assert!(error.is_transient());
    assert!(s.read().is_none(), "a frame while the camera is away");

    // A comes back under another index: the stream finds it there.
    system.plug(2, a.clone());
    let after = loop {
        let f = s
            .wait_next(before.seq(), PATIENCE)
            .expect("frames after the replug");
        if f.generation() > before.generation() {
            break f;
        }
    };
    assert_colours(&after, BLUE, "camera A again, not B");
    assert!(
        !system.opened().contains(&b.stable_id),
        "camera B was opened: {:?}",
        system.opened()
    );
    assert_eq!(s.state(), State::Streaming);
    s.stop();
}

#[test]
fn a_frozen_camera_trips_the_watchdog_and_stop_stays_bounded() {
    let system = FakeCameras::default();
    system.plug(
        0,
        camera("A1", BLUE, vec![CameraMode::new(64, 48, 30, FourCc::Yuyv)]),
    );
    let events = EventRecorder::new();
    let s = stream("0", config(&system), &events);
    assert!(s.wait_next(0, PATIENCE).is_ok());
    let n = events.len();
    // The camera stops sending; its frame call blocks and ignores cancellation.
    system.set_frozen(true);
    let frozen_at = Instant::now();
    let (_, at, _) = events.wait_for(n, PATIENCE, "stalled", |e| {
        matches!(e, Event::Stalled { .. })
    });
    let noticed = at - frozen_at;
    assert!(
        noticed <= Duration::from_millis(500 + 1000),
        "stall noticed after {noticed:?} (stall timeout 500 ms)"
    );
    let t = Instant::now();
    s.stop();
    let took = t.elapsed();
    assert!(took <= Duration::from_millis(500), "stop took {took:?}");
    assert!(
        s.stats().detached_threads >= 1,
        "the blocked capture thread should have been left behind: {:?}",
        s.stats()
    );
    // The camera answers again: the left-behind thread ends, muted.
    let seq = s.stats().last_seq;
    system.set_frozen(false);
    wait_until(PATIENCE, "the detached thread ends", || {
        s.stats().detached_threads == 0
    });
    assert_eq!(
        s.stats().last_seq,
        seq,
        "a stopped stream published a frame"
    );
    assert_eq!(s.state(), State::Stopped);
}

#[test]
fn a_camera_held_by_another_process_is_busy_and_retried() {
    let system = FakeCameras::default();
    let a = camera("A1", BLUE, vec![CameraMode::new(64, 48, 30, FourCc::Mjpeg)]);
    system.plug(0, a.clone());
    system.set_busy(&a.stable_id, true);
    let events = EventRecorder::new();
    let s = stream("0", config(&system), &events);
    events.wait_nth("backing_off", 1, PATIENCE);
    let error = s.stats().last_error.expect("an error while busy");
    assert_eq!(error.kind(), ErrorKind::DeviceBusy, "{error}");
    assert!(error.is_transient());
    system.set_busy(&a.stable_id, false);
    let frame = s.wait_next(0, PATIENCE).expect("a frame once released");
    assert_colours(&frame, BLUE, "after release");
    s.stop();
}

#[test]
fn the_requested_mode_or_the_closest_one_is_opened() {
    let system = FakeCameras::default();
    system.plug(
        0,
        camera(
            "A1",
            BLUE,
            vec![
                CameraMode::new(160, 120, 30, FourCc::Yuyv),
                CameraMode::new(320, 240, 15, FourCc::Yuyv),
                CameraMode::new(320, 240, 30, FourCc::Mjpeg),
            ],
        ),
    );
    let events = EventRecorder::new();
    let mut wanted = config(&system);
    wanted.width = Some(320);
    wanted.height = Some(240);
    wanted.fps = Some(25);
    wanted.format = Some(FourCc::Yuyv);
    let s = stream("/dev/video0", wanted, &events);
    let frame = s.wait_next(0, PATIENCE).expect("a frame");
    assert_eq!((frame.width(), frame.height()), (320, 240));
    assert_eq!(
        system.chosen(),
        vec![CameraMode::new(320, 240, 15, FourCc::Yuyv)]
    );
    let props = s.props().unwrap();
    assert_eq!(props.fps, Some(15.0));
    assert_eq!(props.codec.as_deref(), Some("yuyv"));
    s.stop();
}

#[test]
fn cameras_are_found_by_name_and_by_stable_link() {
    let system = FakeCameras::default();
    let a = camera("A1", BLUE, vec![CameraMode::new(64, 48, 30, FourCc::Yuyv)]);
    let b = FakeCamera {
        name: "Integrated Camera".into(),
        ..camera("B2", GREEN, vec![CameraMode::new(64, 48, 30, FourCc::Yuyv)])
    };
    system.plug(0, a);
    system.plug(1, b.clone());
    for source in ["integrated camera", b.stable_id.as_str()] {
        let events = EventRecorder::new();
        let s = stream(source, config(&system), &events);
        let frame = s.wait_next(0, PATIENCE).expect("a frame");
        assert_colours(&frame, GREEN, source);
        s.stop();
    }
    let events = EventRecorder::new();
    let s = VideoStream::<WebcamBackend>::builder_with("No Such Camera", config(&system))
        .max_reconnect_attempts(2)
        .reconnect_delay(Duration::from_millis(10))
        .on_event(events.handler())
        .start()
        .unwrap();
    let error = events.gave_up(PATIENCE);
    assert_eq!(error.kind(), ErrorKind::DeviceMissing, "{error}");
    assert!(error.message().contains("2 connected"), "{error}");
    assert_eq!(s.state(), State::GaveUp);
}

/// Decode modes on a local camera (the fake sends 100 pictures a second): every picture
/// stands alone, so `MaxRate(10)` leaves those over the rate undecoded (counted as units
/// skipped, none decoded and left unconverted) and publishes at most 10 a second, and
/// `KeyFrames` delivers every picture.
#[test]
fn decode_modes_on_a_local_camera() {
    let system = FakeCameras::default();
    system.plug(
        0,
        camera("A1", BLUE, vec![CameraMode::new(64, 48, 30, FourCc::Mjpeg)]),
    );
    let events = EventRecorder::new();
    let s = VideoStream::<WebcamBackend>::builder_with("0", config(&system))
        .decode_mode(rtsp_stream_core::DecodeMode::MaxRate(10.0))
        .on_event(events.handler())
        .start()
        .unwrap();
    s.wait_next(0, PATIENCE).unwrap();
    // Published frames over a span, from the stream's own count (a busy reader may miss some).
    let published = |s: &VideoStream<WebcamBackend>, span: Duration| {
        let before = s.stats();
        std::thread::sleep(span);
        let after = s.stats();
        (after.frames_decoded - before.frames_decoded, before, after)
    };
    let (n, _, stats) = published(&s, Duration::from_secs(2));
    assert!((5..=22).contains(&n), "{n} frames in 2 s at MaxRate(10)");
    assert!(stats.units_skipped >= 50, "{stats:?}");
    assert_eq!(stats.frames_not_converted, 0, "{stats:?}");
    s.set_decode_mode(rtsp_stream_core::DecodeMode::KeyFrames)
        .unwrap();
    let (n, before, after) = published(&s, Duration::from_secs(1));
    assert!(
        n >= 40,
        "{n} frames in 1 s of key frames only, every picture one"
    );
    assert_eq!(before.units_skipped, after.units_skipped, "{after:?}");
    s.stop();
}
