//! End-to-end benchmark of the network backends: glass-to-read latency, CPU per frame, RSS
//! and time to first frame, each backend in a process of its own, against the bare decoders
//! (`ffmpeg`, `gst-launch-1.0`) on the same stream in the same run; then `stop()` times in
//! every state. The test server runs in a child process, so its encoding is not counted.
//!
//! ```sh
//! cargo run --release --example benchmark --features retina,ffmpeg,gstreamer,opencv,mock -- --write
//! ```
//!
//! `--write` replaces the generated section of BENCHMARKS.md; `--quick` runs a short pass at
//! 320×240 only (the test command runs it, to keep the harness working).
//!
//! Long runs, not in CI, each writing its own section with `--write`:
//! - `--slow-peers [N]`: N attempts (default 200) per backend against slow and huge-header
//!   peers: how far each attempt overruns its open timeout, threads and descriptors;
//! - `--chaos [MINUTES]`: MINUTES (default 10) of random faults per backend, one after
//!   another: recoveries, time to recover, threads, descriptors and RSS at start and end;
//! - `--wakeups [N]`: only the wake-up delays after `stop()` (N stops per backend, default
//!   100), which the full run measures too;
//! - `--stops`: only the `stop()` times (15 per state and backend);
//! - `--scale [SECONDS]`: N = 1, 16, 64, 128 cameras of camera-like content in one group per
//!   backend and decode mode (`all`, `key_frames`; window SECONDS, default 10), next to the
//!   floors; writes `benchmarks/scale.svg` too;
//! - `--threads`: only the threads one camera adds, per backend (the `--scale` table's);
//! - `--readers`: only the small reader (retina alone, openh264 with and without its
//!   assembly) beside the FFmpeg and retina backends and the bare FFmpeg, at 640×480;
//! - `--properties [CASES]`: the scrubber's property tests with fresh seeds (default
//!   1,000,000 cases), printing any failing seed;
//! - `--hostile [MINUTES]`: every network backend against the hostile camera at once, for
//!   MINUTES (default 10): runs, aborts, hangs, secrets printed, threads, descriptors, RSS;
//! - `--impaired [SECONDS]`: every backend that reads RTSP over UDP against the scriptable
//!   camera losing 0.5, 1, 2 and 5 % of its packets, SECONDS (default 20) each: frames
//!   delivered, skipped, decode errors, reconnections, latency;
//! - `--camera-time [MINUTES]`: each backend's camera time against the scriptable camera's
//!   log: a clock offset, a drift and a step, 30 s each, then all at once on a drifting
//!   camera for MINUTES (default 10): error p50/p95/max;
//! - `--content [SECONDS] [--rounds N]`: the single-stream table on camera-like content and
//!   the test card from the scriptable camera (N rounds, default 3, of SECONDS, default 8),
//!   next to the floor (one core decoding the same frames from a file).
//! - `--convert-on-read`: what converting frames when first touched would save and cost
//!   (decode, conversion and plane copy per frame, on camera-like content).

mod bare;
mod camera_time;
mod chart;
mod child;
mod content;
mod convert_on_read;
mod endurance;
mod fresh;
mod hostile;
mod impaired;
mod measure;
mod properties;
mod reader;
mod report;
mod scale;
mod stops;
mod wakeups;

use rtsp_stream::AnyConfig;
use rtsp_stream_testkit::{ServerOptions, TestServerProcess};
use std::time::Duration;

fn main() {
    TestServerProcess::serve_child_if_requested();
    rtsp_stream_testkit::hostile_camera::hostile_child_if_requested::<rtsp_stream::AnyBackend>(
        config_of,
    );
    if measure::serve_child_if_requested()
        || endurance::serve_child_if_requested()
        || scale::serve_child_if_requested()
    {
        return;
    }
    let args: Vec<String> = std::env::args().skip(1).collect();
    if args.iter().any(|a| a == "--properties") {
        let cases = args
            .iter()
            .position(|a| a == "--properties")
            .and_then(|i| args.get(i + 1))
            .and_then(|v| v.parse::<u64>().ok())
            .unwrap_or(1_000_000);
        let write = args.iter().any(|a| a == "--write");
        finish("properties", &properties::run(cases), write);
        return;
    }
    let quick = args.iter().any(|a| a == "--quick");
    let write = args.iter().any(|a| a == "--write");
    let mut backends: Vec<&str> = AnyConfig::available()
        .into_iter()
        .filter(|b| matches!(*b, "retina" | "ffmpeg" | "gstreamer" | "opencv"))
        .collect();
    if backends.contains(&"retina") && backends.contains(&"ffmpeg") {
        backends.insert(1, RETINA_LIBAVCODEC);
    }
    if backends.is_empty() {
        eprintln!("no network backend compiled in: enable ffmpeg, gstreamer and/or opencv");
        std::process::exit(2);
    }
    // The value after a flag, if it is one.
    let value_of = |flag: &str| {
        args.iter()
            .position(|a| a == flag)
            .and_then(|i| args.get(i + 1))
            .and_then(|v| v.parse::<f64>().ok())
    };
    if args.iter().any(|a| a == "--slow-peers") {
        let attempts = value_of("--slow-peers").unwrap_or(200.0) as usize;
        let runs: Vec<_> = backends
            .iter()
            .filter_map(|b| endurance::slow_peers_in_child(b, attempts))
            .collect();
        finish("slow-peers", &endurance::render_slow_peers(&runs), write);
        return;
    }
    if args.iter().any(|a| a == "--hostile") {
        let minutes = value_of("--hostile").unwrap_or(10.0);
        let network: Vec<&str> = backends
            .iter()
            .copied()
            .filter(|b| *b != RETINA_LIBAVCODEC)
            .collect();
        finish("hostile", &hostile::run(&network, minutes), write);
        return;
    }
    if args.iter().any(|a| a == "--impaired") {
        let window = Duration::from_secs_f64(value_of("--impaired").unwrap_or(20.0));
        // OpenCV reads RTSP over TCP only (its compatibility-matrix rows over UDP say so).
        let udp: Vec<&str> = backends
            .iter()
            .copied()
            .filter(|b| *b != "opencv")
            .collect();
        finish("impaired", &impaired::run(&udp, window), write);
        return;
    }
    if args.iter().any(|a| a == "--camera-time") {
        let minutes = value_of("--camera-time").unwrap_or(10.0);
        // OpenCV gives no camera time (its column would be empty).
        let timed: Vec<&str> = backends
            .iter()
            .copied()
            .filter(|b| *b != "opencv")
            .collect();
        let long = Duration::from_secs_f64(minutes * 60.0);
        let table = camera_time::run(&timed, Duration::from_secs(30), long);
        finish("camera-time", &table, write);
        return;
    }
    if args.iter().any(|a| a == "--convert-on-read") {
        finish("convert-on-read", &convert_on_read::run(), write);
        return;
    }
    if args.iter().any(|a| a == "--content") {
        let window = Duration::from_secs_f64(value_of("--content").unwrap_or(8.0));
        let rounds = value_of("--rounds").map_or(3, |n| n as usize);
        let tables = content::measure(&backends, window, rounds);
        finish("content", &content::render(&tables, window, rounds), write);
        return;
    }
    if args.iter().any(|a| a == "--chaos") {
        let minutes = value_of("--chaos").unwrap_or(10.0);
        let runs: Vec<_> = backends
            .iter()
            .filter_map(|b| endurance::chaos_in_child(b, minutes))
            .collect();
        finish("chaos", &endurance::render_chaos(&runs), write);
        return;
    }
    if args.iter().any(|a| a == "--scale") {
        let window = Duration::from_secs_f64(value_of("--scale").unwrap_or(10.0));
        let floors = scale::floors();
        let rows = scale::measure(&backends, &scale::COUNTS, window);
        let chart = "benchmarks/scale.svg";
        let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join(chart);
        let drawn = std::fs::create_dir_all(path.parent().expect("a folder"))
            .map_err(Box::<dyn std::error::Error>::from)
            .and_then(|()| chart::draw(&rows, &path));
        if let Err(e) = &drawn {
            eprintln!("the chart was not drawn: {e}");
        }
        finish(
            "scale",
            &scale::render(&rows, floors, drawn.is_ok().then_some(chart)),
            write,
        );
        finish("threads", &scale::render_threads(&rows), write);
        finish("group-faults", &scale::faults(&backends), write);
        return;
    }
    if args.iter().any(|a| a == "--threads") {
        let rows = scale::measure(&backends, &[1], Duration::from_secs(3));
        finish("threads", &scale::render_threads(&rows), write);
        return;
    }
    if args.iter().any(|a| a == "--readers") {
        let rows = reader::measure_alone(3, Duration::from_secs(10));
        finish("readers", &report::render(&rows, false), write);
        return;
    }
    if args.iter().any(|a| a == "--stops") {
        let stop_times = stops::measure(&backends, 15);
        finish("stops", &report::render_stops(&stop_times), write);
        return;
    }
    let wakeup_stops = if quick { 3 } else { 100 };
    if args.iter().any(|a| a == "--wakeups") {
        let stops = value_of("--wakeups").map_or(wakeup_stops, |n| n as usize);
        let all = wakeups::measure(&backends, stops);
        finish("wakeups", &wakeups::render(&all, false), write);
        return;
    }
    // The main run compares GStreamer's two conversions too.
    let mut readers_of_stream = backends.clone();
    if let Some(at) = readers_of_stream.iter().position(|b| *b == "gstreamer") {
        readers_of_stream.insert(at + 1, GSTREAMER_VIDEOCONVERT);
    }
    let (sizes, window, rounds): (&[(u32, u32)], Duration, usize) = if quick {
        (&[(320, 240)], Duration::from_secs(2), 1)
    } else {
        (&[(640, 480), (1920, 1080)], Duration::from_secs(10), 3)
    };
    // The small reader is built for the full run only (two release builds of openh264).
    let readers = if quick { Vec::new() } else { reader::build() };
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
            for backend in &readers_of_stream {
                this.push(measure::in_child(backend, &url, (width, height), window));
            }
            this.push(bare::ffmpeg(&url, (width, height), window));
            this.push(bare::gstreamer(&url, (width, height), window));
            if (width, height) == (640, 480) {
                for (name, binary) in &readers {
                    this.push(reader::run(name, binary, &url, (width, height), window));
                }
            }
            runs.push(this);
        }
        rows.extend(report::medians(&runs));
    }
    let stop_times = stops::measure(&backends, if quick { 3 } else { 15 });
    finish("benchmark", &report::render(&rows, quick), write);
    finish("stops", &report::render_stops(&stop_times), write);
    let all = wakeups::measure(&backends, wakeup_stops);
    finish("wakeups", &wakeups::render(&all, quick), write);
    let fresh = fresh::measure(&backends, if quick { 1 } else { 5 });
    finish("fresh", &fresh::render(&fresh, quick), write);
    let failed = rows.iter().filter(|r| r.frames == 0).count();
    if failed > 0 {
        eprintln!("{failed} run(s) decoded no frame");
        std::process::exit(1);
    }
}

/// The reader name of retina decoding with libavcodec (plain `retina` is openh264).
const RETINA_LIBAVCODEC: &str = "retina-libavcodec";
/// The reader name of GStreamer with `videoconvert` converting (plain `gstreamer` hands the
/// decoder's YUV to the core's conversion).
const GSTREAMER_VIDEOCONVERT: &str = "gstreamer-videoconvert";

/// The configuration of the reader called `name`: a backend name, [`RETINA_LIBAVCODEC`] or
/// [`GSTREAMER_VIDEOCONVERT`].
pub fn config_of(name: &str) -> AnyConfig {
    if name == GSTREAMER_VIDEOCONVERT {
        let mut config = rtsp_stream::GstreamerConfig::default();
        config.core_conversion = false;
        return AnyConfig::Gstreamer(config);
    }
    if name == RETINA_LIBAVCODEC {
        return AnyConfig::Retina(rtsp_stream::RetinaConfig::with_decoder(
            rtsp_stream::RetinaDecoder::Libavcodec,
        ));
    }
    AnyConfig::by_name(name).expect("a compiled-in backend")
}

/// Prints a section, and writes it into BENCHMARKS.md with `--write`.
fn finish(section: &str, text: &str, write: bool) {
    println!("{text}");
    if write {
        report::write_into_benchmarks_md(section, text).expect("BENCHMARKS.md updated");
        eprintln!("BENCHMARKS.md: section {section} updated");
    }
}
