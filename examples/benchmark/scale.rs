//! `--scale`: N = 1, 16, 64, 128 cameras in one `StreamGroup`, per backend and decode mode,
//! each run in a process of its own. The cameras are the testkit's scriptable camera serving
//! pre-encoded camera-like content (640×480@15, 1 Mbit/s, a key frame every second: a
//! camera's sub-stream), 8 camera servers in the reader's process started an eighth of a
//! second apart (so the cameras' key frames do not all coincide), camera i on server i mod 8.
//! The servers' CPU is told apart by their threads' names (`camera-*`) and not counted as
//! the reader's.
//!
//! In `All` the consumer reads every frame of every camera (`wait_any`) and touches its
//! pixels; in `KeyFrames` it reads each camera once a second. Latency is from the instant the
//! camera logged sending the frame (its index is in the pixels) to its publish.

use crate::child;
use rtsp_stream::{AnyBackend, DecodeMode, SeqMap, StreamGroup, VideoStream};
use rtsp_stream_testkit::camera::{CameraServer, Scenario};
use rtsp_stream_testkit::content::ContentSpec;
use rtsp_stream_testkit::process::{cpu_time, rss_bytes, thread_count};
use serde::{Deserialize, Serialize};
use std::time::{Duration, Instant};

const CHILD_ENV: &str = "RTSP_STREAM_BENCH_SCALE";
const SERVERS: usize = 8;
const FPS: u32 = 15;
pub const COUNTS: [usize; 4] = [1, 16, 64, 128];
/// Frames read before measuring, once every camera streams.
const WARM_UP: Duration = Duration::from_secs(3);

/// The cameras' content.
pub fn content() -> ContentSpec {
    ContentSpec::camera(640, 480, FPS, 1000)
}

/// One backend reading N cameras in one decode mode.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct ScaleRow {
    pub backend: String,
    /// `all` or `key_frames`.
    #[serde(default)]
    pub mode: String,
    pub cameras: usize,
    /// Cameras that share one encode (the pre-encoded content: every camera of a server).
    pub per_encode: usize,
    pub streaming: usize,
    pub slowest_fps: f64,
    pub latency_p50_ms: Option<f64>,
    pub latency_p95_ms: Option<f64>,
    /// Reader CPU over the window, in cores (the camera servers' threads left out).
    pub reader_cores: f64,
    /// Reader CPU per frame delivered.
    pub cpu_ms_per_frame: f64,
    pub rss_mib: f64,
    /// RSS the cameras added, per camera.
    #[serde(default)]
    pub mib_per_camera: f64,
    pub threads: usize,
    pub stop_ms: f64,
    /// Longest gap between two frames of one camera, in frame intervals.
    pub worst_gap_frames: f64,
    /// The camera servers' CPU while this reader ran, in cores.
    #[serde(default)]
    pub server_cores: f64,
    /// The threads the cameras added to the process, by name, with their count.
    #[serde(default)]
    pub new_threads: Vec<(String, usize)>,
}

impl ScaleRow {
    /// A row with nothing measured yet.
    fn empty(backend: &str, mode: &str, cameras: usize) -> ScaleRow {
        ScaleRow {
            backend: backend.to_owned(),
            mode: mode.to_owned(),
            cameras,
            per_encode: 1,
            streaming: 0,
            slowest_fps: 0.0,
            latency_p50_ms: None,
            latency_p95_ms: None,
            reader_cores: 0.0,
            cpu_ms_per_frame: 0.0,
            rss_mib: 0.0,
            mib_per_camera: 0.0,
            threads: 0,
            stop_ms: 0.0,
            worst_gap_frames: 0.0,
            server_cores: 0.0,
            new_threads: Vec::new(),
        }
    }
}

/// The measurements per N (of `counts`), decode mode and backend; `KeyFrames` only for the
/// backends that run it.
pub fn measure(backends: &[&str], counts: &[usize], window: Duration) -> Vec<ScaleRow> {
    let mut rows = Vec::new();
    for &n in counts {
        for mode in ["all", "key_frames"] {
            for backend in backends {
                if mode == "key_frames" && *backend == "opencv" {
                    continue;
                }
                // OpenCV opens one camera at a time, about a second each.
                if *backend == "opencv" && n > 16 {
                    continue;
                }
                let spec = format!("{backend}|{mode}|{}|{n}", window.as_secs_f64());
                let row = child::run(CHILD_ENV, &spec)
                    .unwrap_or_else(|| ScaleRow::empty(backend, mode, n));
                eprintln!("  scale {backend} {mode} ×{n}: {row:?}");
                rows.push(row);
            }
        }
    }
    rows
}

/// In the child: read the cameras, print the row, return true.
pub fn serve_child_if_requested() -> bool {
    child::serve(CHILD_ENV, |spec| {
        let parts: Vec<&str> = spec.split('|').collect();
        let backend = parts.first().copied().unwrap_or_default();
        let mode = parts.get(1).copied().unwrap_or("all");
        let window = parts.get(2).and_then(|s| s.parse().ok()).unwrap_or(10.0);
        let n = parts.get(3).and_then(|s| s.parse().ok()).unwrap_or(1);
        read(backend, mode, n, Duration::from_secs_f64(window))
    })
}

/// CPU of this process's threads whose names start with `prefix`.
fn threads_cpu(prefix: &str) -> Duration {
    let Ok(dir) = std::fs::read_dir("/proc/self/task") else {
        return Duration::ZERO;
    };
    dir.filter_map(|e| {
        let path = e.ok()?.path();
        let name = std::fs::read_to_string(path.join("comm")).ok()?;
        if !name.starts_with(prefix) {
            return None;
        }
        let stat = std::fs::read_to_string(path.join("stat")).ok()?;
        let rest = stat.rsplit_once(')')?.1;
        let fields: Vec<u64> = rest
            .split_whitespace()
            .map(|v| v.parse().unwrap_or(0))
            .collect();
        Some(Duration::from_secs_f64(
            (fields.get(11)? + fields.get(12)?) as f64 / 100.0,
        ))
    })
    .sum()
}

/// A frame's pixels, touched: every 64th byte summed.
fn touch(frame: &rtsp_stream::Frame) -> u64 {
    frame.data().iter().step_by(64).map(|&b| u64::from(b)).sum()
}

fn read(backend: &str, mode: &str, n: usize, window: Duration) -> ScaleRow {
    let interval = Duration::from_secs_f64(1.0 / f64::from(FPS));
    let decode_mode = match mode {
        "key_frames" => DecodeMode::KeyFrames,
        _ => DecodeMode::All,
    };
    let mut servers = Vec::new();
    for _ in 0..SERVERS.min(n) {
        servers.push(CameraServer::start(Scenario::new(content())).expect("a camera server"));
        std::thread::sleep(Duration::from_millis(125));
    }
    let threads_before = thread_names();
    let rss_before = rss_bytes(None);
    let cameras = StreamGroup::<usize, AnyBackend>::builder()
        .stagger(Duration::from_millis(10))
        .build();
    let template =
        VideoStream::<AnyBackend>::builder_with("rtsp://placeholder", crate::config_of(backend))
            .open_timeout(Duration::from_secs(90))
            .first_frame_timeout(Duration::from_secs(30))
            .decode_mode(decode_mode);
    for i in 0..n {
        let url = servers[i % servers.len()].url();
        cameras
            .add(i, template.clone().source(url))
            .expect("the camera starts");
    }
    let mut row = ScaleRow::empty(backend, mode, n);
    row.per_encode = n.div_ceil(servers.len());
    let up_until = Instant::now() + Duration::from_secs(150);
    while Instant::now() < up_until && (0..n).any(|i| cameras.read(&i).is_none()) {
        std::thread::sleep(Duration::from_millis(50));
    }
    let mut seen = SeqMap::new();
    let warm_until = Instant::now() + WARM_UP;
    while Instant::now() < warm_until {
        if let Ok((key, frame)) = cameras.wait_any(&seen, Duration::from_secs(1)) {
            seen.record(&key, &frame);
        }
    }
    let frames_of = |stats: &rtsp_stream::GroupStats<usize>| -> Vec<u64> {
        stats
            .cameras
            .iter()
            .map(|(_, s)| s.frames_decoded)
            .collect()
    };
    let before = frames_of(&cameras.stats());
    let (cpu_before, servers_before) = (cpu_time(None), threads_cpu("camera-"));
    let t = Instant::now();
    let mut ages = Vec::new();
    let mut last_at: Vec<Option<Instant>> = vec![None; n];
    let mut worst_gap = Duration::ZERO;
    let mut touched = 0u64;
    let mut age_of = |key: usize, frame: &rtsp_stream::Frame| {
        let server = &servers[key % servers.len()];
        if let Some(sent) = server.frame_in(frame).map(|f| server.send_instant(f)) {
            ages.push(frame.received_instant().saturating_duration_since(sent));
        }
    };
    let mut next_round = t;
    while t.elapsed() < window {
        if decode_mode == DecodeMode::KeyFrames {
            // Each camera once a second.
            std::thread::sleep(next_round.saturating_duration_since(Instant::now()));
            next_round += Duration::from_secs(1);
            for key in 0..n {
                if let Some(frame) = cameras.read(&key) {
                    touched += touch(&frame);
                    age_of(key, &frame);
                }
            }
            continue;
        }
        let Ok((key, frame)) = cameras.wait_any(&seen, Duration::from_secs(1)) else {
            continue;
        };
        seen.record(&key, &frame);
        touched += touch(&frame);
        age_of(key, &frame);
        let at = frame.received_instant();
        if let Some(last) = last_at[key] {
            worst_gap = worst_gap.max(at.saturating_duration_since(last));
        }
        last_at[key] = Some(at);
    }
    std::hint::black_box(touched);
    let elapsed = t.elapsed();
    let server_cpu = threads_cpu("camera-").saturating_sub(servers_before);
    let cpu = cpu_time(None)
        .saturating_sub(cpu_before)
        .saturating_sub(server_cpu);
    let stats = cameras.stats();
    let after = frames_of(&stats);
    let delivered: Vec<u64> = after.iter().zip(&before).map(|(a, b)| a - b).collect();
    let total: u64 = delivered.iter().sum();
    row.streaming = stats.streaming();
    row.slowest_fps = delivered.iter().copied().min().unwrap_or(0) as f64 / elapsed.as_secs_f64();
    ages.sort();
    let at = |q: f64| {
        (!ages.is_empty())
            .then(|| ages[((ages.len() - 1) as f64 * q).round() as usize].as_secs_f64() * 1000.0)
    };
    row.latency_p50_ms = at(0.5);
    row.latency_p95_ms = at(0.95);
    row.reader_cores = cpu.as_secs_f64() / elapsed.as_secs_f64();
    row.server_cores = server_cpu.as_secs_f64() / elapsed.as_secs_f64();
    row.cpu_ms_per_frame = cpu.as_secs_f64() * 1000.0 / total.max(1) as f64;
    let rss = rss_bytes(None);
    row.rss_mib = rss as f64 / (1024.0 * 1024.0);
    row.mib_per_camera = rss.saturating_sub(rss_before) as f64 / (1024.0 * 1024.0) / n as f64;
    let camera_threads = thread_names()
        .iter()
        .filter(|(_, name)| name.starts_with("camera-"))
        .count();
    row.threads = thread_count(None) - camera_threads;
    row.new_threads = new_threads(&threads_before, &thread_names())
        .into_iter()
        .filter(|(name, _)| !name.starts_with("camera-"))
        .collect();
    row.worst_gap_frames = worst_gap.as_secs_f64() / interval.as_secs_f64();
    let stop = Instant::now();
    cameras.stop();
    row.stop_ms = stop.elapsed().as_secs_f64() * 1000.0;
    row
}

/// The (id, name) of every thread of this process.
fn thread_names() -> Vec<(String, String)> {
    let Ok(dir) = std::fs::read_dir("/proc/self/task") else {
        return Vec::new();
    };
    dir.filter_map(|e| {
        let e = e.ok()?;
        let name = std::fs::read_to_string(e.path().join("comm")).ok()?;
        Some((
            e.file_name().to_string_lossy().into_owned(),
            name.trim().to_owned(),
        ))
    })
    .collect()
}

/// Threads in `after` and not in `before`, counted by name.
fn new_threads(before: &[(String, String)], after: &[(String, String)]) -> Vec<(String, usize)> {
    let mut counts: std::collections::BTreeMap<String, usize> = Default::default();
    for (_, name) in after.iter().filter(|t| !before.contains(t)) {
        *counts.entry(name.clone()).or_default() += 1;
    }
    counts.into_iter().collect()
}

/// The threads one camera adds, per backend (from the N = 1 runs): which the core's (`rs-…`:
/// the supervisor, and the capture thread that runs the decoder), which the decoder's.
pub fn render_threads(rows: &[ScaleRow]) -> String {
    let mut out = String::from(
        "Threads one camera adds to the process (N = 1, by thread name). The core's are \
         `rs-NAME-sup`, the supervisor, and `rs-NAME-cap`, the capture thread that opens the \
         source and calls the decoder; a decoder's threads that do not name themselves carry \
         the name of the thread that started them (FFmpeg's, inside OpenCV, are \
         `rs-NAME-cap` too), so they are counted as the decoder's beyond one of each.\n\n\
         | backend | threads | the core's | the decoder's | the decoder's by name |\n\
         |---|---|---|---|---|\n",
    );
    for r in rows
        .iter()
        .filter(|r| r.cameras == 1 && r.mode != "key_frames")
    {
        let total: usize = r.new_threads.iter().map(|(_, n)| n).sum();
        let named = |suffix: &str| {
            r.new_threads
                .iter()
                .filter(|(name, _)| name.starts_with("rs-") && name.ends_with(suffix))
                .map(|(_, n)| *n)
                .sum::<usize>()
        };
        let ours = named("-sup").min(1) + named("-cap").min(1);
        let theirs: Vec<String> = r
            .new_threads
            .iter()
            .map(|(name, n)| {
                let core = usize::from(name.starts_with("rs-"));
                (name, n.saturating_sub(core))
            })
            .filter(|(_, n)| *n > 0)
            .map(|(name, n)| format!("{name} ×{n}"))
            .collect();
        out.push_str(&format!(
            "| {} | {total} | {ours} | {} | {} |\n",
            r.backend,
            total - ours,
            if theirs.is_empty() {
                "–".to_owned()
            } else {
                theirs.join(", ")
            }
        ));
    }
    out
}

/// The floors of the scale content, in ms per frame on one core without network: decoding
/// every frame with conversion to BGR, and decoding only the key frames with conversion.
pub fn floors() -> (f64, f64) {
    let clip = rtsp_stream_testkit::content::Clip::get(&content()).expect("the clip");
    (
        crate::content::floor(&clip, true),
        crate::content::floor_key_frames(&clip),
    )
}

/// The Markdown table, with the floors, the goals and the chart.
pub fn render(rows: &[ScaleRow], floors: (f64, f64), chart: Option<&str>) -> String {
    let spec = content();
    let mut out = format!(
        "Cameras of camera-like {}×{}@{} H.264 ({} kbit/s, a key frame every second) from the \
         testkit's scriptable camera (8 servers in the reader's process, their threads' CPU \
         left out), over TCP, in one `StreamGroup` read through `AnyBackend` by one consumer, \
         each run in a process of its own. `all`: every frame of every camera read and its \
         pixels touched; `key_frames`: `DecodeMode::KeyFrames`, each camera read once a \
         second. Latency: from the instant the camera logged sending a frame to its publish. \
         *× floor*: CPU per frame delivered over the floor, one core decoding the same frames \
         from a file with conversion to BGR: **{:.2} ms per frame** (all), **{:.2} ms per key \
         frame** (key frames only).\n\n\
         | backend | mode | cameras | streaming | slowest camera fps | latency p50 / p95 ms | reader cores | CPU ms/frame | × floor | RSS MiB | MiB per camera | threads | worst gap (frames) | group stop ms | server cores |\n\
         |---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|\n",
        spec.width, spec.height, spec.fps, spec.kbps, floors.0, floors.1
    );
    let ms = |v: Option<f64>| v.map_or_else(|| "–".into(), |v| format!("{v:.1}"));
    for r in rows {
        let floor = if r.mode == "key_frames" {
            floors.1
        } else {
            floors.0
        };
        out.push_str(&format!(
            "| {} | {} | {} | {} | {:.1} | {} / {} | {:.2} | {:.2} | {:.2} | {:.0} | {:.2} | {} | {:.1} | {:.1} | {:.2} |\n",
            r.backend,
            r.mode,
            r.cameras,
            r.streaming,
            r.slowest_fps,
            ms(r.latency_p50_ms),
            ms(r.latency_p95_ms),
            r.reader_cores,
            r.cpu_ms_per_frame,
            r.cpu_ms_per_frame / floor,
            r.rss_mib,
            r.mib_per_camera,
            r.threads,
            r.worst_gap_frames,
            r.stop_ms,
            r.server_cores,
        ));
    }
    let most = rows.iter().map(|r| r.cameras).max().unwrap_or(0);
    let fps = f64::from(spec.fps);
    out.push_str(&format!(
        "\nGoals at N = {most}: in `all`, every camera ≥ 14.5 fps, p95 ≤ 50 ms, reader cores \
         ≤ 1.3 × floor × N = {:.2} cores (the floor × N alone is {:.2} cores: the machine has \
         2); in `key_frames`, CPU per frame ≤ 1.3 × the key-frame floor ({:.2} ms); group stop \
         ≤ 200 ms.\n",
        1.3 * floors.0 * fps * most as f64 / 1000.0,
        floors.0 * fps * most as f64 / 1000.0,
        1.3 * floors.1
    ));
    if let Some(chart) = chart {
        out.push_str(&format!(
            "\n![reader CPU and p95 latency against N, all frames]({chart})\n"
        ));
    }
    out
}

/// The group under faults (the testkit scenario: six cameras, one cut and refused for 1 s, one
/// blackholed), on each backend that runs it in CI: the gaps the healthy cameras showed.
pub fn faults(backends: &[&str]) -> String {
    let mut out = String::from(
        "Six cameras (320×240@15) of one group, each through its own fault proxy to one \
         server; one proxy cuts its connection and refuses new ones for 1 s, another blackholes \
         until its camera notices (stall timeout 2 s). Gaps between consecutive frames of the \
         four healthy cameras during the faults, in frame intervals (goal ≤ 3):\n\n",
    );
    for backend in backends
        .iter()
        .filter(|b| matches!(**b, "gstreamer" | "retina"))
    {
        let config = crate::config_of(backend);
        // A failed scenario is reported as such; the configuration is not used after it.
        let report = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
            rtsp_stream_testkit::conformance::group_rides_out_faults::<AnyBackend>(&config)
        }));
        let line = match report {
            Ok(report) => report.summary(),
            Err(_) => "the scenario failed (see the output above)".to_owned(),
        };
        out.push_str(&format!("- {backend}: {line}\n"));
    }
    out
}
