//! `AnyBackend` running each compiled-in decoder, chosen by name, through the environment
//! variable (an injected lookup) and automatically, against the loopback RTSP server.

#![cfg_attr(
    not(any(feature = "ffmpeg", feature = "gstreamer", feature = "opencv")),
    allow(dead_code, unused_imports)
)]

use rtsp_stream::{AnyBackend, AnyConfig, VideoStream};
use rtsp_stream_testkit::{ServerOptions, TestServer, conformance::serial};
use std::time::Duration;

fn frames_through(config: AnyConfig, name: &str) {
    let _serial = serial();
    let server = TestServer::start(ServerOptions::default()).unwrap();
    let stream = VideoStream::<AnyBackend>::builder_with(server.url(), config)
        .start()
        .unwrap();
    let frame = stream
        .wait_next(0, Duration::from_secs(10))
        .unwrap_or_else(|e| panic!("no frame through AnyBackend running {name}: {e}"));
    assert_eq!((frame.width(), frame.height()), (320, 240));
    assert_eq!(stream.backend_name(), name);
    stream.stop();
}

/// The same application code, run by `name`, chosen by name and by the environment variable.
fn chosen_by_name_and_environment(name: &'static str) {
    frames_through(AnyConfig::by_name(name).unwrap(), name);
    let upper = name.to_ascii_uppercase();
    let config = AnyConfig::from_lookup(|_| Some(upper.clone())).unwrap();
    assert_eq!(config.name(), name);
    frames_through(config, name);
}

#[cfg(feature = "ffmpeg")]
#[test]
fn ffmpeg() {
    chosen_by_name_and_environment("ffmpeg");
}

#[cfg(feature = "gstreamer")]
#[test]
fn gstreamer() {
    chosen_by_name_and_environment("gstreamer");
}

#[cfg(feature = "opencv")]
#[test]
fn opencv() {
    chosen_by_name_and_environment("opencv");
}

#[cfg(any(feature = "ffmpeg", feature = "gstreamer", feature = "opencv"))]
#[test]
fn auto_picks_the_first_compiled_in_decoder_in_priority_order() {
    let config = AnyConfig::auto().unwrap();
    let first = AnyConfig::PRIORITY
        .iter()
        .find(|n| AnyConfig::available().contains(n))
        .unwrap();
    assert_eq!(config.name(), *first);
    assert_ne!(config.name(), "mock");
    frames_through(AnyConfig::Auto, first);
}

/// The webcam variant runs nokhwa: with no camera listed under the index, a transient
/// missing device, retried and then given up.
#[cfg(feature = "webcam")]
#[test]
fn webcam() {
    use rtsp_stream::{ErrorKind, Event};
    let config = AnyConfig::from_lookup(|_| Some("webcam".into())).unwrap();
    let index = rtsp_stream::list_devices().unwrap().len();
    let (tx, rx) = std::sync::mpsc::channel();
    let stream = VideoStream::<AnyBackend>::builder_with(index.to_string(), config)
        .max_reconnect_attempts(2)
        .reconnect_delay(Duration::from_millis(10))
        .on_event(move |e| {
            if let Event::GaveUp { error } = e {
                let _ = tx.send(error.clone());
            }
        })
        .start()
        .unwrap();
    assert_eq!(stream.backend_name(), "webcam");
    let error = rx.recv_timeout(Duration::from_secs(10)).expect("gave up");
    assert_eq!(error.kind(), ErrorKind::DeviceMissing, "{error}");
}
