//! `--impaired`: every backend that reads RTSP over UDP, against the testkit's scriptable
//! camera losing 0.5, 1, 2 and 5 % of its packets (seeded), on camera-like content. What the
//! camera sent and lost comes from its own log; which frame a picture was, from the index in
//! its pixels; its latency, from the instant the camera logged for that frame.

use crate::report::quantile;
use rtsp_stream::{AnyBackend, Event, Transport, VideoStream};
use rtsp_stream_testkit::camera::{CameraServer, Impairment, Scenario};
use rtsp_stream_testkit::content::ContentSpec;
use std::collections::BTreeSet;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

/// Loss rates, in percent of the packets sent.
pub const LOSS_PERCENT: [f64; 4] = [0.5, 1.0, 2.0, 5.0];

/// One backend at one loss rate.
#[derive(Debug)]
pub struct Row {
    backend: String,
    loss_percent: f64,
    /// Frames the camera sent, up to the last one delivered.
    sent: u64,
    /// Of those, the ones no loss touched before the next key frame: the decodable ones.
    whole: u64,
    delivered: u64,
    delivered_whole: u64,
    /// Delivered although a loss touched it or a frame it depends on.
    delivered_damaged: u64,
    skipped: u64,
    decode_errors: u64,
    reconnections: u64,
    latency_ms: (f64, f64),
    packets_lost: u64,
}

/// Runs every backend at every loss rate for `window` each.
pub fn run(backends: &[&str], window: Duration) -> String {
    let content = ContentSpec::camera(640, 480, 15, 2000).with_seconds(20);
    let mut rows = Vec::new();
    let mut kbps = 0.0;
    for backend in backends {
        for loss in LOSS_PERCENT {
            let mut scenario = Scenario::new(content.clone());
            scenario.impairment = Impairment {
                drop: loss / 100.0,
                seed: 2026,
                ..Impairment::default()
            };
            let camera = CameraServer::start(scenario).expect("the camera starts");
            kbps = camera.clip().measured_kbps();
            let row = measure(backend, &camera, loss, window);
            eprintln!("  {row:?}");
            rows.push(row);
        }
    }
    render(&rows, &content, kbps, window)
}

fn measure(backend: &str, camera: &CameraServer, loss: f64, window: Duration) -> Row {
    let reconnections = Arc::new(AtomicU64::new(0));
    let counter = Arc::clone(&reconnections);
    let stream = VideoStream::<AnyBackend>::builder_with(camera.url(), crate::config_of(backend))
        .transport(Transport::Udp)
        .stall_timeout(Duration::from_secs(5))
        .on_event(move |e| {
            if matches!(e, Event::Disconnected { .. }) {
                counter.fetch_add(1, Ordering::Relaxed);
            }
        })
        .start()
        .expect("the stream starts");
    let mut last = 0;
    let mut seen = Vec::new();
    let until = Instant::now() + window;
    while Instant::now() < until {
        if let Ok(frame) = stream.wait_next(last, Duration::from_millis(500)) {
            last = frame.seq();
            if let Some(n) = camera.frame_in(&frame) {
                seen.push((n, frame.received_instant()));
            }
        }
    }
    let stats = stream.stats();
    stream.stop();
    let log = camera.log();
    let numbers: BTreeSet<u64> = seen.iter().map(|(n, _)| *n).collect();
    // Frames sent to the one client, from its first to the last one the reader had.
    let first = log.sent_at.front().map_or(0, |(n, _)| *n);
    let last_n = numbers.last().copied().unwrap_or(first);
    // A frame is damaged from a loss until the next key frame, and so is every frame before
    // the first key frame: nobody can decode them whole.
    let mut damaged: BTreeSet<u64> = (first..last_n)
        .take_while(|n| !camera.is_key_frame(*n))
        .collect();
    for &lost in &log.lost_frames {
        let mut n = lost;
        while n <= last_n && (n == lost || !camera.is_key_frame(n)) {
            damaged.insert(n);
            n += 1;
        }
    }
    let span: Vec<u64> = (first..=last_n).collect();
    let whole = span.iter().filter(|n| !damaged.contains(n)).count() as u64;
    let delivered_damaged = numbers.iter().filter(|n| damaged.contains(n)).count() as u64;
    let mut latencies: Vec<f64> = seen
        .iter()
        .filter_map(|(n, received)| {
            let sent = log.sent_instant(*n)?;
            Some(received.saturating_duration_since(sent).as_secs_f64() * 1000.0)
        })
        .collect();
    latencies.sort_by(f64::total_cmp);
    Row {
        backend: backend.to_owned(),
        loss_percent: loss,
        sent: span.len() as u64,
        whole,
        delivered: numbers.len() as u64,
        delivered_whole: numbers.len() as u64 - delivered_damaged,
        delivered_damaged,
        skipped: stats.frames_skipped,
        decode_errors: stats.decode_errors,
        reconnections: reconnections.load(Ordering::Relaxed),
        latency_ms: (quantile(&latencies, 0.5), quantile(&latencies, 0.95)),
        packets_lost: log.packets.dropped,
    }
}

fn render(rows: &[Row], content: &ContentSpec, kbps: f64, window: Duration) -> String {
    let mut out = format!(
        "Impaired network (`--impaired`): each backend reads the scriptable camera over UDP \
         for {} s per loss rate; content {}×{} at {} fps, camera-like H.264 (High, CABAC, no \
         B-frames), {kbps:.0} kbit/s measured, a key frame every {} frames ({:.1} s); packets \
         dropped at random (seeded). *sent*: frames the camera sent, up to the last one \
         delivered; *whole*: those no loss touched up to the next key frame, after the first \
         key frame (the decodable ones); *delivered whole*: of those, the share that reached the reader; \
         *from damaged data*: frames delivered although a loss touched them or a frame they \
         depend on; *skipped*, *decode errors*: the stream's `stats()`; latency: from the \
         instant the camera logged sending a frame to the frame in hand.\n\n\
         | backend | loss | packets lost | sent | whole | delivered | delivered whole | from damaged data | \
         skipped (stats) | decode errors | reconnections | latency p50 | latency p95 |\n\
         |---|---|---|---|---|---|---|---|---|---|---|---|---|\n",
        window.as_secs(),
        content.width,
        content.height,
        content.fps,
        content.keyint,
        f64::from(content.keyint) / f64::from(content.fps),
    );
    for r in rows {
        out.push_str(&format!(
            "| {} | {} % | {} | {} | {} | {} | {:.1} % | {} | {} | {} | {} | {:.1} ms | {:.1} ms |\n",
            r.backend,
            r.loss_percent,
            r.packets_lost,
            r.sent,
            r.whole,
            r.delivered,
            100.0 * r.delivered_whole as f64 / r.whole.max(1) as f64,
            r.delivered_damaged,
            r.skipped,
            r.decode_errors,
            r.reconnections,
            r.latency_ms.0,
            r.latency_ms.1,
        ));
    }
    out
}
