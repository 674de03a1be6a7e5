//! Callbacks and events: the Python package's `on_connect`, `on_disconnect`,
//! `on_reconnect_failure`, plus typed events, logging and statistics. The demo server is
//! stopped and started again once, so a drop and a reconnection happen.
//!
//! `cargo run --example callbacks --features ffmpeg`

use rtsp_stream::{AnyBackend, Event, VideoStream};
use std::sync::mpsc;
use std::time::Duration;

fn main() -> Result<(), rtsp_stream::Error> {
    // Log lines of the library (target `rtsp_stream`) go wherever the application's logger
    // sends them; passwords never appear in them. Try RUST_LOG=rtsp_stream=debug.
    env_logger::Builder::from_env(env_logger::Env::default().default_filter_or("rtsp_stream=info"))
        .init();
    let server = rtsp_stream_testkit::demo::demo_server();
    let (events, next) = mpsc::channel();
    // Callbacks run on the stream's supervising thread, one at a time: keep them short (a
    // slow callback delays the reaction to the next event; decoding goes on regardless).
    let stream = VideoStream::<AnyBackend>::builder(server.url())
        .reconnect_delay(Duration::from_millis(200))
        .on_connect(|| println!("on_connect"))
        .on_disconnect(|| println!("on_disconnect"))
        .on_reconnect_failure(|| println!("on_reconnect_failure"))
        .on_event(move |event: &Event| {
            println!("event: {}", event.name());
            let _ = events.send(event.name());
        })
        .start()?;
    let wait_for = |name: &str| {
        while next
            .recv_timeout(Duration::from_secs(20))
            .expect("the event comes")
            != name
        {}
    };
    wait_for("first_frame");
    server.stop(); // the camera reboots …
    wait_for("backing_off");
    server.restart().expect("the server starts again"); // … and comes back
    wait_for("first_frame");
    let stats = stream.stats();
    println!(
        "state {}, {} frames, {} reconnection attempt(s), {:.1} fps, last error: {}",
        stats.state,
        stats.frames_decoded,
        stats.reconnects,
        stats.measured_fps,
        stats
            .last_error
            .map_or_else(|| "none".into(), |e| e.to_string())
    );
    Ok(())
}
