//! `AnyBackend` running FFmpeg, chosen by name, by the environment variable and automatically,
//! against the loopback RTSP server.

use rtsp_stream::{AnyBackend, AnyConfig, VideoStream};
use rtsp_stream_testkit::{ServerOptions, TestServer, conformance::serial};
use std::time::Duration;

fn frames_through(config: AnyConfig) {
    let server = TestServer::start(ServerOptions::default()).unwrap();
    let stream = VideoStream::<AnyBackend>::builder_with(server.url(), config)
        .start()
        .unwrap();
    let frame = stream
        .wait_next(0, Duration::from_secs(10))
        .expect("a frame through AnyBackend");
    assert_eq!((frame.width(), frame.height()), (320, 240));
    assert_eq!(stream.backend_name(), "ffmpeg");
    stream.stop();
}

#[test]
fn ffmpeg_by_name() {
    let _serial = serial();
    frames_through(AnyConfig::by_name("ffmpeg").unwrap());
}

#[test]
fn ffmpeg_from_the_environment_variable() {
    let _serial = serial();
    let config = AnyConfig::from_lookup(|_| Some("FFmpeg".into())).unwrap();
    assert_eq!(config.name(), "ffmpeg");
    frames_through(config);
}

#[test]
fn auto_picks_a_real_decoder() {
    let config = AnyConfig::auto().unwrap();
    assert_ne!(config.name(), "mock");
    assert!(AnyConfig::available().contains(&"ffmpeg"));
}
