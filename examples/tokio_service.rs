//! A tokio service watching two cameras: a task per camera consumes its frames as an async
//! stream, and its events beside them; Ctrl-C stops both with `stop_async()`, which never
//! blocks the runtime, and the service prints how long the shutdown took.
//!
//! `cargo run --example tokio_service --features ffmpeg -- [URL_A URL_B]` (without URLs: both
//! cameras read a demo server)

use futures::{FutureExt, StreamExt};
use rtsp_stream::{AnyBackend, VideoStream};
use std::sync::Arc;
use std::time::Instant;

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    // Listening from the start: the handler is installed when the future is first polled, so
    // a Ctrl-C that comes while the cameras connect is not lost.
    let mut ctrl_c = std::pin::pin!(tokio::signal::ctrl_c());
    if let Some(result) = (&mut ctrl_c).now_or_never() {
        return Ok(result?);
    }
    let args: Vec<String> = std::env::args().skip(1).collect();
    let (urls, _demo) = match args.as_slice() {
        [a, b, ..] => (vec![a.clone(), b.clone()], None),
        _ => {
            let demo = rtsp_stream_testkit::demo::demo_server();
            (vec![demo.url(), demo.url()], Some(demo))
        }
    };

    let mut streams = Vec::new();
    let mut tasks = tokio::task::JoinSet::new();
    for (name, url) in ["door", "yard"].into_iter().zip(&urls) {
        let stream = Arc::new(VideoStream::<AnyBackend>::builder(url.as_str()).build()?);
        // Subscribed before start(): every event of the run.
        let mut events = stream.events();
        stream.start()?;
        streams.push(Arc::clone(&stream));
        tasks.spawn(async move {
            let mut frames = stream.frame_stream();
            let mut count = 0u64;
            loop {
                tokio::select! {
                    frame = frames.next() => {
                        // None: the stream ended (stopped, gave up, or the end of a file).
                        let Some(frame) = frame else { break };
                        count += 1;
                        if count == 1 || count.is_multiple_of(30) {
                            println!("{name}: frame {} ({}x{})", frame.seq(), frame.width(), frame.height());
                        }
                    }
                    Some(event) = events.next() => match event {
                        Ok(event) => println!("{name}: event {}", event.name()),
                        // This task fell more than 256 events behind: some were dropped.
                        Err(lagged) => println!("{name}: {lagged}"),
                    },
                }
            }
            let reason = frames.end_reason().map(ToString::to_string);
            println!("{name}: {count} frames, ended: {}", reason.unwrap_or_default());
        });
    }
    println!("watching {} cameras; Ctrl-C stops", streams.len());

    ctrl_c.await?;
    let started = Instant::now();
    // Both stops are requested here, at once; awaiting them only waits for them to finish.
    let stops: Vec<_> = streams.iter().map(|s| s.stop_async()).collect();
    for stop in stops {
        stop.await;
    }
    while tasks.join_next().await.is_some() {}
    println!(
        "shut down in {:.1} ms",
        started.elapsed().as_secs_f64() * 1000.0
    );
    Ok(())
}
