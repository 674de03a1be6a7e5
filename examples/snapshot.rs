//! Snapshot: the newest frame, written as a PNG (or JPEG) file with `Frame::save`.
//!
//! `cargo run --example snapshot --features ffmpeg,image -- [URL] [--out FILE.png]`

use rtsp_stream::{AnyBackend, PixelFormat, VideoStream};
use rtsp_stream_testkit::demo::write_atomically;
use std::time::Duration;

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let (url, _demo) = rtsp_stream_testkit::demo::source_or_demo();
    let args: Vec<String> = std::env::args().collect();
    let out = args
        .iter()
        .position(|a| a == "--out")
        .and_then(|i| args.get(i + 1))
        .map_or("snapshot.png", String::as_str);
    let stream = VideoStream::<AnyBackend>::builder(url.as_str())
        .pixel_format(PixelFormat::Rgb8)
        .start()?;
    let frame = stream
        .wait_next(0, Duration::from_secs(10))
        .map_err(|e| format!("no frame within 10 s: {e}"))?;
    write_atomically(out.as_ref(), |p| frame.save(p).map_err(|e| e.to_string()))?;
    println!(
        "wrote {out}: {}x{} frame {}",
        frame.width(),
        frame.height(),
        frame.seq()
    );
    Ok(())
}
