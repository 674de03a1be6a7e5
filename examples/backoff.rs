//! Exponential back-off: a source that never comes up is retried with growing waits, then
//! given up. Here the waits are 100 ms × 2ⁿ capped at 800 ms so the example is quick; a
//! camera would use e.g. 1 s × 2ⁿ capped at 30 s.
//!
//! `cargo run --example backoff --features ffmpeg -- [URL]` (without a URL: a port where
//! nothing listens)

use rtsp_stream::{AnyBackend, Event, VideoStream};
use std::sync::mpsc;
use std::time::Duration;

fn main() -> Result<(), rtsp_stream::Error> {
    let url = std::env::args().nth(1).unwrap_or_else(|| {
        // A port nobody listens on: every attempt is refused.
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .and_then(|l| l.local_addr())
            .map_or(9, |a| a.port());
        format!("rtsp://127.0.0.1:{port}/stream")
    });
    let (gave_up, done) = mpsc::channel();
    let stream = VideoStream::<AnyBackend>::builder(url.as_str())
        .reconnect_delay(Duration::from_millis(100))
        .reconnect_backoff(2.0)
        .max_reconnect_delay(Duration::from_millis(800))
        .max_reconnect_attempts(6)
        .on_event(|event| match event {
            Event::BackingOff { failures, delay } => {
                println!(
                    "attempt {failures} failed, next in {} ms",
                    delay.as_millis()
                )
            }
            Event::Connecting { attempt, .. } => println!("connecting, attempt {attempt}"),
            _ => {}
        })
        .on_reconnect_failure(move || {
            let _ = gave_up.send(());
        })
        .start()?;
    done.recv_timeout(Duration::from_secs(30))
        .expect("the stream gives up after 6 attempts");
    println!(
        "gave up after {} reconnection attempts: {}",
        stream.reconnect_count(),
        stream
            .stats()
            .last_error
            .map_or_else(|| "no error".into(), |e| e.to_string())
    );
    Ok(())
}
