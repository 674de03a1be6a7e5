//! One backend reading the stream in a process of its own, so that its CPU time and memory
//! are its own.

use crate::report::Row;
use rtsp_stream::{AnyBackend, VideoStream};
use rtsp_stream_testkit::process::{cpu_time, rss_bytes};
use rtsp_stream_testkit::{decode_stamp, stamp_age};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

const CHILD_ENV: &str = "RTSP_STREAM_BENCH_MEASURE";
/// Frames read before measuring, so start-up costs stay out of the figures.
const WARM_UP: Duration = Duration::from_secs(2);

/// Runs the measurement in a child process (this executable again) and parses its result.
pub fn in_child(backend: &str, url: &str, size: (u32, u32), window: Duration) -> Row {
    in_child_reading(backend, url, size, window, false)
}

/// The same; with `indices`, the pictures carry the scriptable camera's frame index instead
/// of a time stamp, and the row returns each index with when it was in hand
/// ([`Row::indices`]) for the caller to match with the camera's log.
pub fn in_child_reading(
    backend: &str,
    url: &str,
    size: (u32, u32),
    window: Duration,
    indices: bool,
) -> Row {
    let spec = format!("{backend}|{url}|{}|{indices}", window.as_secs_f64());
    let mut row =
        crate::child::run::<Row>(CHILD_ENV, &spec).unwrap_or_else(|| Row::empty(backend, size));
    row.size = size;
    if !indices {
        eprintln!("  {backend}: {row:?}");
    }
    row
}

/// In the child: measure and print the result line, then return true.
pub fn serve_child_if_requested() -> bool {
    crate::child::serve(CHILD_ENV, |spec| {
        let mut parts = spec.split('|');
        let (backend, url, window) = (
            parts.next().unwrap_or_default().to_owned(),
            parts.next().unwrap_or_default().to_owned(),
            Duration::from_secs_f64(parts.next().and_then(|s| s.parse().ok()).unwrap_or(5.0)),
        );
        let indices = parts.next() == Some("true");
        measure(&backend, &url, window, indices)
    })
}

fn measure(backend: &str, url: &str, window: Duration, indices: bool) -> Row {
    let mut row = Row::empty(backend, (0, 0));
    let config = crate::config_of(backend);
    let started = Instant::now();
    let stream = VideoStream::<AnyBackend>::builder_with(url, config)
        .start()
        .expect("the stream starts");
    let Ok(first) = stream.wait_next(0, Duration::from_secs(20)) else {
        return row;
    };
    row.first_frame_s = Some(started.elapsed().as_secs_f64());
    let mut seq = first.seq();
    drop(first);
    let warm_until = Instant::now() + WARM_UP;
    while Instant::now() < warm_until {
        if let Ok(f) = stream.wait_next(seq, Duration::from_secs(2)) {
            seq = f.seq();
        }
    }
    let cpu_before = cpu_time(None);
    let frames_before = stream.stats().frames_decoded;
    let t = Instant::now();
    let mut ages = Vec::new();
    while t.elapsed() < window {
        let Ok(f) = stream.wait_next(seq, Duration::from_secs(2)) else {
            break;
        };
        // Stamped when the frame is in hand: glass to read.
        if let Some(stamp) = decode_stamp(&f) {
            if indices {
                let micros = SystemTime::now()
                    .duration_since(UNIX_EPOCH)
                    .map_or(0, |d| d.as_micros() as u64);
                row.indices.push(((stamp & 0xff_ffff) as u32, micros));
            } else {
                ages.push(stamp_age(stamp));
            }
        }
        seq = f.seq();
    }
    let elapsed = t.elapsed();
    let cpu = cpu_time(None).saturating_sub(cpu_before);
    let frames = stream.stats().frames_decoded - frames_before;
    row.frames = frames;
    row.fps = frames as f64 / elapsed.as_secs_f64();
    row.cpu_ms_per_frame = cpu.as_secs_f64() * 1000.0 / frames.max(1) as f64;
    row.rss_mib = rss_bytes(None) as f64 / (1024.0 * 1024.0);
    row.set_latencies(&mut ages);
    stream.stop();
    row
}
