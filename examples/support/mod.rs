//! What the examples share: a demo RTSP server when no URL is given, and PNG snapshots.

#![allow(dead_code, unused_imports)]

mod png;

pub use self::png::write_png;
use rtsp_stream_testkit::{ServerOptions, TestServer};

/// The URL given as the first argument, or a demo RTSP server on loopback (640×480, 30 fps,
/// H.264) started in this process. Keep the server alive as long as the stream reads it.
pub fn source_or_demo() -> (String, Option<TestServer>) {
    if let Some(url) = std::env::args().nth(1).filter(|a| !a.starts_with("--")) {
        return (url, None);
    }
    let server = demo_server();
    (server.url(), Some(server))
}

/// The demo RTSP server (panics if it cannot start: the examples need it).
pub fn demo_server() -> TestServer {
    TestServer::start(ServerOptions {
        width: 640,
        height: 480,
        fps: 30,
        key_interval: 30,
        ..ServerOptions::default()
    })
    .expect("the demo RTSP server starts (GStreamer's gst-rtsp-server)")
}
