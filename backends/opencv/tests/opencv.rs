//! What the OpenCV backend does beyond the shared suite: device indices, refused ports,
//! transports it cannot honour, and the API choice.
// The borrowing view of a frame as a `Mat` is an `unsafe fn`; its test calls it.
#![allow(unsafe_code)]

use rtsp_stream_core::{ErrorKind, Transport, VideoStream};
use rtsp_stream_opencv::{CAP_ANY, OpencvBackend, OpencvConfig};
use rtsp_stream_testkit::conformance::{
    BLIND_ATTEMPTS, EventRecorder, default_server, first_frame, give_up, start,
};
use std::time::{Duration, Instant};

const PATIENCE: Duration = Duration::from_secs(20);

#[test]
fn a_camera_index_without_a_camera_is_a_missing_device() {
    // No camera exists on the machines this runs on; index 0 is opened as a device.
    let (error, events) = give_up::<OpencvBackend>("0", &OpencvConfig::default());
    assert_eq!(error.kind(), ErrorKind::DeviceMissing, "{error}");
    assert_eq!(
        events.count("connecting"),
        BLIND_ATTEMPTS as usize,
        "a missing device is retried"
    );
}

#[test]
fn a_refused_port_is_told_apart_from_a_failed_open() {
    let port = {
        let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        l.local_addr().unwrap().port()
    };
    let url = format!("rtsp://127.0.0.1:{port}/x");
    let (error, _) = give_up::<OpencvBackend>(&url, &OpencvConfig::default());
    assert_eq!(error.kind(), ErrorKind::ConnectionRefused, "{error}");
}

#[test]
fn an_explicit_transport_the_process_does_not_pin_is_unsupported() {
    let (_serial, server) = default_server();
    for transport in [Transport::Tcp, Transport::Udp] {
        let events = EventRecorder::new();
        let s = VideoStream::<OpencvBackend>::builder_with(server.url(), OpencvConfig::default())
            .transport(transport)
            .on_event(events.handler())
            .start()
            .unwrap();
        let error = events.gave_up(PATIENCE);
        assert_eq!(error.kind(), ErrorKind::Unsupported, "{error}");
        assert!(
            error.message().contains("OPENCV_FFMPEG_CAPTURE_OPTIONS"),
            "{error}"
        );
        assert!(s.read().is_none());
    }
}

#[test]
fn any_api_opens_a_stream_too() {
    let (_serial, server) = default_server();
    let events = EventRecorder::new();
    let mut config = OpencvConfig::default();
    config.api_preference = Some(CAP_ANY);
    let t = Instant::now();
    let s = start::<OpencvBackend>(&server.url(), &config, &events);
    let frame = first_frame(&s, &events);
    assert_eq!((frame.width(), frame.height()), (320, 240));
    assert!(t.elapsed() < PATIENCE);
    s.stop();
}

/// FFmpeg inside OpenCV prints nothing of its own to stderr (its default callback would, past
/// every scrubbing): the scenario runs in a child process, this test binary re-run, whose
/// whole stderr is read.
#[test]
fn ffmpeg_inside_opencv_writes_nothing_to_stderr() {
    const CHILD: &str = "RTSP_STREAM_OPENCV_STDERR_CHILD";
    if std::env::var(CHILD).is_ok() {
        let (_serial, server) = default_server();
        let url = server.url().replace("/test", "/no-such-path");
        let (error, _) = give_up::<OpencvBackend>(&url, &OpencvConfig::default());
        println!("CHILD-DONE {}", error.kind());
        return;
    }
    let out = std::process::Command::new(std::env::current_exe().unwrap())
        .args([
            "--exact",
            "ffmpeg_inside_opencv_writes_nothing_to_stderr",
            "--nocapture",
        ])
        .env(CHILD, "1")
        .output()
        .unwrap();
    let (stdout, stderr) = (
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr),
    );
    assert!(stdout.contains("CHILD-DONE"), "{stdout}\n{stderr}");
    // FFmpeg's default callback prefixes its lines with "[context @ 0x…]".
    assert!(
        !stderr.contains(" @ 0x"),
        "FFmpeg wrote to stderr by itself:\n{stderr}"
    );
}

#[test]
fn as_mat_is_the_frame_itself_without_a_copy() {
    use opencv::core::{MatTraitConst, MatTraitConstManual, Vec3b};
    use rtsp_stream_core::PixelFormat;
    use rtsp_stream_opencv::FrameAsMat;
    let (_serial, server) = default_server();
    for format in [PixelFormat::Bgr8, PixelFormat::Gray8] {
        let events = EventRecorder::new();
        let stream = rtsp_stream_testkit::conformance::builder::<OpencvBackend>(
            &server.url(),
            &OpencvConfig::default(),
            &events,
        )
        .pixel_format(format)
        .start()
        .unwrap();
        let frame = first_frame(&stream, &events);
        // SAFETY: the view and everything read from it stay within this iteration, where
        // `frame` lives; nothing writes through it.
        let mat = unsafe { frame.as_mat() }.unwrap();
        assert_eq!((mat.cols(), mat.rows()), (320, 240));
        assert_eq!(mat.channels(), format.bytes_per_pixel() as i32);
        assert_eq!(
            mat.mat_step().first(),
            Some(&frame.stride()),
            "the frame's row step"
        );
        assert_eq!(mat.data(), frame.data().as_ptr(), "no copy");
        for (x, y) in [(0, 0), (319, 0), (17, 123), (319, 239)] {
            let want = frame.pixel(x, y);
            let got: Vec<u8> = match format {
                PixelFormat::Gray8 => vec![*mat.at_2d::<u8>(y as i32, x as i32).unwrap()],
                _ => mat.at_2d::<Vec3b>(y as i32, x as i32).unwrap().0.to_vec(),
            };
            assert_eq!(got, want, "{format} at ({x}, {y})");
        }
    }
}

/// `to_mat` is a copy of its own: OpenCV's safe calls on it (a transpose, a product, a
/// `UMat`) make objects that share nothing with the frame, and they outlive it.
#[test]
fn to_mat_is_a_copy_that_outlives_the_frame() {
    use opencv::core::{MatExprTraitConst, MatTraitConst, UMatTraitConst, Vec3b};
    use rtsp_stream_opencv::FrameAsMat;
    let (_serial, server) = default_server();
    let events = EventRecorder::new();
    let stream = rtsp_stream_testkit::conformance::builder::<OpencvBackend>(
        &server.url(),
        &OpencvConfig::default(),
        &events,
    )
    .start()
    .unwrap();
    let frame = first_frame(&stream, &events);
    let want: Vec<Vec<u8>> = [(0, 0), (17, 123), (319, 239)]
        .iter()
        .map(|&(x, y)| frame.pixel(x, y).to_vec())
        .collect();
    let mat = frame.to_mat().unwrap();
    assert_ne!(mat.data(), frame.data().as_ptr(), "a copy");
    let transposed = mat.t().unwrap().to_mat().unwrap();
    let umat = mat
        .get_umat(
            opencv::core::AccessFlag::ACCESS_READ,
            opencv::core::UMatUsageFlags::USAGE_DEFAULT,
        )
        .unwrap();
    drop(frame);
    stream.stop();
    drop(stream);
    for (i, &(x, y)) in [(0, 0), (17, 123), (319, 239)].iter().enumerate() {
        let at = |m: &opencv::core::Mat, r: i32, c: i32| m.at_2d::<Vec3b>(r, c).unwrap().0.to_vec();
        assert_eq!(at(&mat, y, x), want[i], "the copy at ({x}, {y})");
        assert_eq!(
            at(&transposed, x, y),
            want[i],
            "its transpose at ({y}, {x})"
        );
    }
    assert_eq!((umat.cols(), umat.rows()), (320, 240));
}
