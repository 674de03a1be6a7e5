//! Quick start: open a stream, read frames as they come, never the same one twice.
//!
//! `cargo run --example quickstart --features ffmpeg -- [URL]` (without a URL: a demo server)

#[path = "support/mod.rs"]
mod support;

use rtsp_stream::{AnyBackend, VideoStream};
use std::time::Duration;

fn main() -> Result<(), rtsp_stream::Error> {
    let (url, _demo) = support::source_or_demo();
    // Any compiled-in decoder (or the one named by RTSP_STREAM_BACKEND).
    let stream = VideoStream::<AnyBackend>::builder(url.as_str())
        .stall_timeout(Duration::from_secs(5))
        .start()?;
    let mut seq = 0;
    for _ in 0..30 {
        // Blocks until a frame newer than `seq` exists, without polling.
        let Some(frame) = stream.wait_next(seq, Duration::from_secs(10)) else {
            eprintln!("no frame for 10 s: {:?}", stream.stats().last_error);
            break;
        };
        seq = frame.seq();
        println!(
            "frame {} ({}x{} {}, {} bytes) from connection {}",
            frame.seq(),
            frame.width(),
            frame.height(),
            frame.pixel_format(),
            frame.data().len(),
            frame.generation()
        );
    }
    println!(
        "{} at {:.1} fps, {} reconnections",
        stream.backend_name(),
        stream.fps(),
        stream.reconnect_count()
    );
    Ok(())
    // Dropping the stream stops it (within 100 ms, whatever the backend is doing).
}
