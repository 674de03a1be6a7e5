//! What the examples share: a demo RTSP server when no URL is given, and files written
//! atomically (snapshots).

use crate::{ServerOptions, TestServer};
use std::path::Path;

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

/// Writes `path` atomically: `write` writes a temporary file beside it (same extension, so an
/// encoder that chooses its format by the extension still does), which is then renamed over
/// `path`, so a viewer never sees half a picture.
pub fn write_atomically(
    path: &Path,
    write: impl FnOnce(&Path) -> Result<(), String>,
) -> Result<(), String> {
    let extension = path.extension().and_then(|e| e.to_str()).unwrap_or("png");
    let partial = path.with_extension(format!("partial.{extension}"));
    write(&partial)?;
    std::fs::rename(&partial, path).map_err(|e| e.to_string())
}
