//! A file read to its end with the `frames()` iterator: each frame once, at the file's own
//! rate, and the loop ends by itself when the source does — with the reason.
//!
//! `cargo run --example read_file --features ffmpeg -- [FILE]` (without a file: a 1 s clip
//! written with the `ffmpeg` tool)

use rtsp_stream::{AnyBackend, EndReason, VideoStream};
use std::path::PathBuf;

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let demo_dir = std::env::temp_dir().join(format!("rtsp-stream-{}", std::process::id()));
    let path = match std::env::args().nth(1) {
        Some(path) => PathBuf::from(path),
        None => {
            std::fs::create_dir_all(&demo_dir)?;
            rtsp_stream_testkit::clip::h264_clip(&demo_dir, "clip.mp4", &[])?
        }
    };
    let stream = VideoStream::<AnyBackend>::builder(path.to_string_lossy().as_ref()).start()?;
    let mut frames = stream.frames();
    // Each `next` blocks until a newer frame exists, and returns None once the stream ended.
    let mut count = 0;
    for frame in &mut frames {
        count += 1;
        println!(
            "frame {} ({}x{}) pts {:?}",
            frame.seq(),
            frame.width(),
            frame.height(),
            frame.pts()
        );
    }
    let _ = std::fs::remove_dir_all(&demo_dir);
    // The iterator ended because the stream did: stopped, gave up, or the end of the file.
    match frames.end_reason() {
        Some(EndReason::Finished) => println!("{count} frames, then the end of the file"),
        Some(EndReason::GaveUp(error)) => {
            eprintln!("{count} frames, then gave up: {error}");
            std::process::exit(1);
        }
        other => println!("{count} frames, then {other:?}"),
    }
    Ok(())
}
