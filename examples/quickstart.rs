//! Quick start: open a stream, read frames as they come, never the same one twice.
//!
//! `cargo run --example quickstart --features ffmpeg -- [URL]` (without a URL: a demo server)

use rtsp_stream::{AnyBackend, VideoStream, WaitError};
use std::time::Duration;

fn main() -> Result<(), rtsp_stream::Error> {
    let (url, _demo) = rtsp_stream_testkit::demo::source_or_demo();
    // Any compiled-in decoder (or the one named by RTSP_STREAM_BACKEND).
    let stream = VideoStream::<AnyBackend>::builder(url.as_str())
        .stall_timeout(Duration::from_secs(5))
        .start()?;
    let (mut seq, mut shown) = (0, 0);
    while shown < 30 {
        // Blocks, without polling, until a frame newer than `seq` exists or the stream ends.
        match stream.wait_next(seq, Duration::from_secs(10)) {
            Ok(frame) => {
                seq = frame.seq();
                shown += 1;
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
            // No frame for 10 s: the stream is reconnecting by itself.
            Err(WaitError::Timeout) => {
                eprintln!("no frame for 10 s ({:?}), still trying", stream.state());
                continue;
            }
            // Stopped, gave up (the reason says why) or the end of a file.
            Err(WaitError::Ended(reason)) => {
                eprintln!("the stream ended: {reason}");
                break;
            }
            Err(other) => {
                eprintln!("{other}");
                break;
            }
        }
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
