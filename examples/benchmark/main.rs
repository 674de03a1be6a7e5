//! End-to-end benchmark of the network backends: glass-to-read latency, CPU per frame, RSS
//! and time to first frame, each backend in a process of its own, against the bare decoders
//! (`ffmpeg`, `gst-launch-1.0`) on the same stream in the same run; then `stop()` times in
//! every state. The test server runs in a child process, so its encoding is not counted.
//!
//! ```sh
//! cargo run --release --example benchmark --features ffmpeg,gstreamer,opencv -- --write
//! ```
//!
//! `--write` replaces the generated section of BENCHMARKS.md; `--quick` runs a short pass at
//! 320×240 only (the test command runs it, to keep the harness working).

mod bare;
mod measure;
mod report;
mod stops;

use rtsp_stream::AnyConfig;
use rtsp_stream_testkit::{ServerOptions, TestServerProcess};
use std::time::Duration;

fn main() {
    TestServerProcess::serve_child_if_requested();
    if measure::serve_child_if_requested() {
        return;
    }
    let args: Vec<String> = std::env::args().skip(1).collect();
    let quick = args.iter().any(|a| a == "--quick");
    let write = args.iter().any(|a| a == "--write");
    let backends: Vec<&str> = AnyConfig::available()
        .into_iter()
        .filter(|b| matches!(*b, "ffmpeg" | "gstreamer" | "opencv"))
        .collect();
    if backends.is_empty() {
        eprintln!("no network backend compiled in: enable ffmpeg, gstreamer and/or opencv");
        std::process::exit(2);
    }
    let (sizes, window, rounds): (&[(u32, u32)], Duration, usize) = if quick {
        (&[(320, 240)], Duration::from_secs(2), 1)
    } else {
        (&[(640, 480), (1920, 1080)], Duration::from_secs(10), 3)
    };
    let mut rows = Vec::new();
    for &(width, height) in sizes {
        let options = ServerOptions {
            width,
            height,
            fps: 30,
            key_interval: 30,
            ..ServerOptions::default()
        };
        let server = TestServerProcess::spawn(&options, &[]).expect("the test server starts");
        let url = server.url();
        eprintln!("{width}x{height}: serving {url}");
        // Several rounds, readers interleaved, so that a burst of load on the shared machine
        // does not land on one reader only; every figure is the median of the rounds.
        let mut runs: Vec<Vec<report::Row>> = Vec::new();
        for round in 0..rounds {
            eprintln!(" round {}", round + 1);
            let mut this = Vec::new();
            for backend in &backends {
                this.push(measure::in_child(backend, &url, (width, height), window));
            }
            this.push(bare::ffmpeg(&url, (width, height), window));
            this.push(bare::gstreamer(&url, (width, height), window));
            runs.push(this);
        }
        rows.extend(report::medians(&runs));
    }
    let stop_times = stops::measure(&backends, if quick { 3 } else { 15 });
    let text = report::render(&rows, &stop_times, quick);
    println!("{text}");
    if write {
        report::write_into_benchmarks_md(&text).expect("BENCHMARKS.md updated");
        eprintln!("BENCHMARKS.md updated");
    }
    let failed = rows.iter().filter(|r| r.frames == 0).count();
    if failed > 0 {
        eprintln!("{failed} run(s) decoded no frame");
        std::process::exit(1);
    }
}
