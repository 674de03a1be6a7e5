//! Many cameras in one group: one template builder cloned per camera, one consumer loop that
//! takes whichever camera has a new frame (fairly: the frame that has waited longest first),
//! events tagged with the camera's name, and one stop for all.
//!
//! `cargo run --example many_cameras --features retina -- [URL...]` (without URLs: eight
//! cameras read a demo server)

use rtsp_stream::{AnyBackend, SeqMap, StreamGroup, VideoStream, WaitError};
use std::collections::BTreeMap;
use std::time::{Duration, Instant};

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let demo = args.is_empty().then(rtsp_stream_testkit::demo::demo_server);
    let urls = match &demo {
        Some(server) => vec![server.url(); 8],
        None => args,
    };

    // What every camera shares; each gets a clone with its own URL.
    let template = VideoStream::<AnyBackend>::builder("rtsp://placeholder")
        .stall_timeout(Duration::from_secs(3))
        .reconnect_delay(Duration::from_millis(500))
        .reconnect_backoff(2.0);
    // Keys are printed as given: names, never URLs (a URL may carry a password).
    let cameras = StreamGroup::<String, AnyBackend>::builder()
        .on_event(|camera, event| println!("{camera}: {}", event.name()))
        .build();
    for (i, url) in urls.iter().enumerate() {
        cameras.add(format!("cam{i}"), template.clone().source(url.as_str()))?;
    }

    let mut seen = SeqMap::new();
    let mut frames: BTreeMap<String, u64> = BTreeMap::new();
    let started = Instant::now();
    while started.elapsed() < Duration::from_secs(5) {
        match cameras.wait_any(&seen, Duration::from_secs(1)) {
            Ok((camera, frame)) => {
                seen.record(&camera, &frame);
                *frames.entry(camera).or_default() += 1;
            }
            Err(WaitError::Timeout) => continue,
            Err(WaitError::Ended(reason)) => {
                println!("every camera ended: {reason}");
                break;
            }
            Err(e) => return Err(e.into()),
        }
    }
    let stats = cameras.stats();
    let t = Instant::now();
    cameras.stop();
    let took = t.elapsed();
    for (camera, n) in &frames {
        println!("{camera}: {n} frames taken");
    }
    println!(
        "{} cameras, {} streaming, {} threads, slowest {:.1} fps; stopped in {:.1} ms",
        stats.cameras.len(),
        stats.streaming(),
        stats.live_threads(),
        stats.slowest_fps(),
        took.as_secs_f64() * 1000.0
    );
    Ok(())
}
