//! The smallest reader: one stream through whichever backend is compiled in, for a while,
//! then one line of figures. Built with `--no-default-features --features retina` it links no
//! decoder library of the system (the test command checks that with `ldd`).
//!
//! ```sh
//! cargo run --release --example reader --no-default-features --features retina -- \
//!     rtsp://127.0.0.1:8554/test 10
//! ```
//!
//! Prints `reader: frames=N fps=F cpu_ms_per_frame=C rss_mib=R first_frame_s=S` (CPU and RSS
//! from `/proc`, Linux only; `nan` elsewhere), counted after the first frame.

use rtsp_stream::{AnyBackend, VideoStream, WaitError};
use std::time::{Duration, Instant};

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let mut args = std::env::args().skip(1);
    let url = args.next().ok_or("usage: reader URL [SECONDS]")?;
    let seconds: f64 = args.next().map_or(Ok(10.0), |s| s.parse())?;
    let started = Instant::now();
    let stream = VideoStream::<AnyBackend>::builder(url).start()?;
    let first = match stream.wait_next(0, Duration::from_secs(20)) {
        Ok(frame) => frame,
        Err(e) => return Err(format!("no frame: {e}").into()),
    };
    let first_frame_s = started.elapsed().as_secs_f64();
    let (mut seq, cpu_before, t) = (first.seq(), cpu_seconds(), Instant::now());
    drop(first);
    let mut frames = 0u64;
    while t.elapsed().as_secs_f64() < seconds {
        match stream.wait_next(seq, Duration::from_secs(1)) {
            Ok(frame) => {
                seq = frame.seq();
                frames += 1;
            }
            Err(WaitError::Timeout) => continue,
            Err(e) => return Err(e.into()),
        }
    }
    let elapsed = t.elapsed().as_secs_f64();
    let cpu = cpu_seconds() - cpu_before;
    println!(
        "reader: frames={frames} fps={:.2} cpu_ms_per_frame={:.3} rss_mib={:.1} first_frame_s={first_frame_s:.3}",
        frames as f64 / elapsed,
        cpu * 1000.0 / frames.max(1) as f64,
        rss_mib(),
    );
    stream.stop();
    Ok(())
}

/// User and system CPU time of this process, in seconds (`/proc/self/stat`).
fn cpu_seconds() -> f64 {
    let Ok(stat) = std::fs::read_to_string("/proc/self/stat") else {
        return f64::NAN;
    };
    // Fields after the command name (which may hold spaces) start after the last ')'.
    let fields: Vec<&str> = stat
        .rsplit_once(')')
        .map_or(vec![], |(_, rest)| rest.split_whitespace().collect());
    let ticks = |i: usize| fields.get(i).and_then(|v| v.parse::<f64>().ok());
    match (ticks(11), ticks(12)) {
        // utime and stime, in clock ticks of 1/100 s on Linux.
        (Some(user), Some(system)) => (user + system) / 100.0,
        _ => f64::NAN,
    }
}

/// Resident memory of this process in MiB (`/proc/self/status`).
fn rss_mib() -> f64 {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| {
            s.lines()
                .find(|l| l.starts_with("VmRSS:"))
                .and_then(|l| l.split_whitespace().nth(1))
                .and_then(|kb| kb.parse::<f64>().ok())
        })
        .map_or(f64::NAN, |kb| kb / 1024.0)
}
