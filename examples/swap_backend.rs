//! Swapping decoders without changing code: the same function runs with every decoder
//! compiled into this build, chosen by name at run time. `RTSP_STREAM_BACKEND=gstreamer`
//! makes `AnyConfig::from_env()` pick one; `VideoStream<FfmpegBackend>` picks one at compile
//! time.
//!
//! `cargo run --example swap_backend --features ffmpeg,gstreamer,opencv -- [URL]`

use rtsp_stream::{AnyBackend, AnyConfig, EndReason, VideoStream, WaitError};
use std::time::{Duration, Instant};

/// Application code: knows nothing of the decoder.
fn first_frames(url: &str, config: AnyConfig) -> Result<String, rtsp_stream::Error> {
    let started = Instant::now();
    let stream = VideoStream::<AnyBackend>::builder_with(url, config).start()?;
    let mut seq = 0;
    for _ in 0..10 {
        let frame = match stream.wait_next(seq, Duration::from_secs(10)) {
            Ok(frame) => frame,
            // Gave up: the error that ended the stream.
            Err(WaitError::Ended(EndReason::GaveUp(error))) => return Err(error),
            Err(other) => {
                return Err(rtsp_stream::Error::new(
                    rtsp_stream::ErrorKind::Timeout,
                    "example",
                    format!("no frame: {other}"),
                ));
            }
        };
        seq = frame.seq();
    }
    Ok(format!(
        "{}x{} in {:.2} s",
        stream.frame_width(),
        stream.frame_height(),
        started.elapsed().as_secs_f64()
    ))
}

fn main() {
    let (url, _demo) = rtsp_stream_testkit::demo::source_or_demo();
    println!("compiled in: {:?}", AnyConfig::available());
    match AnyConfig::from_env() {
        Ok(config) => println!("RTSP_STREAM_BACKEND / automatic choice: {}", config.name()),
        Err(e) => println!("no automatic choice: {e}"),
    }
    let mut failed = false;
    for name in AnyConfig::available() {
        if matches!(name, "mock" | "webcam") {
            continue;
        }
        let config = AnyConfig::by_name(name).expect("listed as available");
        match first_frames(&url, config) {
            Ok(summary) => println!("{name}: 10 frames, {summary}"),
            Err(e) => {
                println!("{name}: {e}");
                failed = true;
            }
        }
    }
    std::process::exit(i32::from(failed));
}
