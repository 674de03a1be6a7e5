//! The webcam backend against nokhwa for real. Without a camera (the machines this project's
//! CI runs on have no V4L2 device at all) only the no-device path runs; the tests marked
//! `needs a camera` run on a machine with one:
//!
//! ```sh
//! cargo test -p rtsp-stream-webcam --test real_camera -- --ignored
//! ```

use rtsp_stream_core::{ErrorKind, PixelFormat, VideoStream};
use rtsp_stream_testkit::conformance::EventRecorder;
use rtsp_stream_webcam::{
    CameraSystem, DeviceError, DeviceInfo, NokhwaSystem, WebcamBackend, WebcamConfig, list_devices,
};
use std::time::Duration;

#[test]
fn listing_works_and_a_missing_camera_is_a_transient_device_error() {
    let devices = list_devices().expect("listing cameras never fails for lack of one");
    // Opening a device node that does not exist goes through nokhwa's real open path.
    let ghost = DeviceInfo {
        index: 99,
        name: "ghost".into(),
        path: None,
        stable_id: None,
        modes: Vec::new(),
    };
    let error = NokhwaSystem
        .open(&ghost, &|modes| modes.first().copied())
        .err()
        .expect("no /dev/video99 here");
    assert!(matches!(error, DeviceError::Missing(_)), "{error}");
    // Through the stream: an index nothing is listed under is a transient missing device.
    let events = EventRecorder::new();
    let s = VideoStream::<WebcamBackend>::builder(devices.len().to_string())
        .max_reconnect_attempts(2)
        .reconnect_delay(Duration::from_millis(10))
        .on_event(events.handler())
        .start()
        .unwrap();
    let error = events.gave_up(Duration::from_secs(10));
    assert_eq!(error.kind(), ErrorKind::DeviceMissing, "{error}");
    assert!(error.is_transient());
    assert_eq!(events.count("connecting"), 2);
    drop(s);
}

#[test]
#[ignore = "needs a camera"]
fn a_real_camera_delivers_frames_in_every_pixel_format() {
    let devices = list_devices().unwrap();
    let first = devices.first().expect("a camera");
    println!("{devices:#?}");
    for format in [PixelFormat::Bgr8, PixelFormat::Rgb8, PixelFormat::Gray8] {
        let s = VideoStream::<WebcamBackend>::builder(first.index.to_string())
            .pixel_format(format)
            .start()
            .unwrap();
        let frame = s.wait_next(0, Duration::from_secs(10)).expect("a frame");
        assert_eq!(frame.pixel_format(), format);
        assert!(frame.width() > 0 && frame.height() > 0);
        println!("{format}: {:?}, props {:?}", frame, s.props());
        s.stop();
    }
}

#[test]
#[ignore = "needs a camera"]
fn a_real_camera_honours_a_requested_mode_or_falls_back() {
    let mut config = WebcamConfig::default();
    config.width = Some(640);
    config.height = Some(480);
    config.fps = Some(30);
    let s = VideoStream::<WebcamBackend>::builder_with("0", config)
        .start()
        .unwrap();
    let frame = s.wait_next(0, Duration::from_secs(10)).expect("a frame");
    println!("asked 640x480@30, got {:?}, props {:?}", frame, s.props());
}
