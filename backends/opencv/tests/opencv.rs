//! What the OpenCV backend does beyond the shared suite: device indices, refused ports,
//! transports it cannot honour, and the API choice.

use rtsp_stream_core::{Error, ErrorKind, Event, Transport, VideoStream};
use rtsp_stream_opencv::{CAP_ANY, OpencvBackend, OpencvConfig};
use rtsp_stream_testkit::conformance::{EventRecorder, builder, serial};
use rtsp_stream_testkit::{ServerOptions, TestServer};
use std::sync::Arc;
use std::time::{Duration, Instant};

const PATIENCE: Duration = Duration::from_secs(20);

fn stream(url: &str, config: OpencvConfig, events: &EventRecorder) -> VideoStream<OpencvBackend> {
    builder::<OpencvBackend>(url, &config, events)
        .max_reconnect_attempts(2)
        .start()
        .unwrap()
}

fn gave_up(events: &EventRecorder) -> Arc<Error> {
    let (_, e) = events.wait_nth("gave_up", 0, PATIENCE);
    let Event::GaveUp { error } = e else {
        unreachable!()
    };
    error
}

#[test]
fn a_camera_index_without_a_camera_is_a_missing_device() {
    // No camera exists on the machines this runs on; index 0 is opened as a device.
    let events = EventRecorder::new();
    let _s = stream("0", OpencvConfig::default(), &events);
    let error = gave_up(&events);
    assert_eq!(error.kind(), ErrorKind::DeviceMissing, "{error}");
    assert_eq!(events.count("connecting"), 2, "a missing device is retried");
}

#[test]
fn a_refused_port_is_told_apart_from_a_failed_open() {
    let port = {
        let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        l.local_addr().unwrap().port()
    };
    let events = EventRecorder::new();
    let _s = stream(
        &format!("rtsp://127.0.0.1:{port}/x"),
        OpencvConfig::default(),
        &events,
    );
    let error = gave_up(&events);
    assert_eq!(error.kind(), ErrorKind::ConnectionRefused, "{error}");
}

#[test]
fn an_explicit_transport_the_process_does_not_pin_is_unsupported() {
    let _serial = serial();
    let server = TestServer::start(ServerOptions::default()).unwrap();
    for transport in [Transport::Tcp, Transport::Udp] {
        let events = EventRecorder::new();
        let s = VideoStream::<OpencvBackend>::builder_with(server.url(), OpencvConfig::default())
            .transport(transport)
            .on_event(events.handler())
            .start()
            .unwrap();
        let error = gave_up(&events);
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
    let _serial = serial();
    let server = TestServer::start(ServerOptions::default()).unwrap();
    let events = EventRecorder::new();
    let config = OpencvConfig {
        api_preference: Some(CAP_ANY),
        ..OpencvConfig::default()
    };
    let t = Instant::now();
    let s = stream(&server.url(), config, &events);
    let frame = s
        .wait_next(0, PATIENCE)
        .unwrap_or_else(|| panic!("no frame; events {:?}", events.names()));
    assert_eq!((frame.width(), frame.height()), (320, 240));
    assert!(t.elapsed() < PATIENCE);
    s.stop();
}
