//! `--scale`: N = 1, 4, 16, 32 cameras of 640×480@15 H.264 over TCP in one `StreamGroup`,
//! per backend, each backend in a process of its own; the cameras come from 4 server
//! processes with 8 mounts each (one encode per camera, x264 ultrafast on one thread). The
//! group starts its cameras one frame interval apart, and each mount's encoder starts with
//! its first client, so camera i's key frames come i frames after camera 0's.

use crate::child;
use rtsp_stream::{AnyBackend, SeqMap, StreamGroup, VideoStream};
use rtsp_stream_testkit::process::{cpu_time, rss_bytes, thread_count};
use rtsp_stream_testkit::{ServerOptions, TestServerProcess, decode_stamp, stamp_age};
use serde::{Deserialize, Serialize};
use std::time::{Duration, Instant};

const CHILD_ENV: &str = "RTSP_STREAM_BENCH_SCALE";
const SERVERS: u32 = 4;
const MOUNTS: u32 = 8;
const FPS: u32 = 15;
pub const COUNTS: [usize; 4] = [1, 4, 16, 32];
/// Frames read before measuring, once every camera streams.
const WARM_UP: Duration = Duration::from_secs(3);

/// One backend reading N cameras.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct ScaleRow {
    pub backend: String,
    pub cameras: usize,
    /// Cameras that share one encode (1: one encode per camera).
    pub per_encode: usize,
    pub streaming: usize,
    pub slowest_fps: f64,
    pub latency_p50_ms: Option<f64>,
    pub latency_p95_ms: Option<f64>,
    /// Reader CPU over the window, in cores.
    pub reader_cores: f64,
    pub cpu_ms_per_frame: f64,
    pub rss_mib: f64,
    pub threads: usize,
    pub stop_ms: f64,
    /// Longest gap between two frames of one camera, in frame intervals.
    pub worst_gap_frames: f64,
    /// The servers' CPU while this reader ran, in cores (filled by the parent).
    #[serde(default)]
    pub server_cores: f64,
    /// The threads the cameras added to the process, by name, with their count.
    #[serde(default)]
    pub new_threads: Vec<(String, usize)>,
}

impl ScaleRow {
    /// A row with nothing measured yet.
    fn empty(backend: &str, cameras: usize) -> ScaleRow {
        ScaleRow {
            backend: backend.to_owned(),
            cameras,
            per_encode: 1,
            streaming: 0,
            slowest_fps: 0.0,
            latency_p50_ms: None,
            latency_p95_ms: None,
            reader_cores: 0.0,
            cpu_ms_per_frame: 0.0,
            rss_mib: 0.0,
            threads: 0,
            stop_ms: 0.0,
            worst_gap_frames: 0.0,
            server_cores: 0.0,
            new_threads: Vec::new(),
        }
    }
}

/// The servers, their URLs, and the measurements per backend and N (of `counts`).
pub fn measure(backends: &[&str], counts: &[usize], window: Duration) -> Vec<ScaleRow> {
    let options = ServerOptions {
        width: 640,
        height: 480,
        fps: FPS,
        key_interval: FPS,
        mounts: MOUNTS,
        ..ServerOptions::default()
    };
    let servers: Vec<TestServerProcess> = (0..SERVERS)
        .map(|_| TestServerProcess::spawn(&options, &[]).expect("a server process starts"))
        .collect();
    let url = |camera: usize, per_encode: usize| {
        let encode = camera / per_encode;
        let server = &servers[encode % SERVERS as usize];
        server.mount_url((encode / SERVERS as usize) as u32)
    };
    let mut rows = Vec::new();
    for &n in counts {
        for backend in backends {
            let urls: Vec<String> = (0..n).map(|c| url(c, 1)).collect();
            rows.push(run(backend, &urls, 1, window, &servers));
        }
    }
    // Shared encodes at N = 32 when the servers took more than a core for their own encodes.
    let busy = rows
        .iter()
        .filter(|r| r.cameras == 32)
        .any(|r| r.server_cores > 1.0);
    if busy {
        for backend in backends {
            let urls: Vec<String> = (0..32).map(|c| url(c, 4)).collect();
            rows.push(run(backend, &urls, 4, window, &servers));
        }
    }
    rows
}

fn run(
    backend: &str,
    urls: &[String],
    per_encode: usize,
    window: Duration,
    servers: &[TestServerProcess],
) -> ScaleRow {
    let spec = format!("{backend}|{}|{}", window.as_secs_f64(), urls.join(" "));
    let server_cpu = || -> Duration { servers.iter().map(|s| cpu_time(Some(s.pid()))).sum() };
    let (cpu_before, t) = (server_cpu(), Instant::now());
    let mut row: ScaleRow =
        child::run(CHILD_ENV, &spec).unwrap_or_else(|| ScaleRow::empty(backend, urls.len()));
    row.server_cores = (server_cpu() - cpu_before).as_secs_f64() / t.elapsed().as_secs_f64();
    row.per_encode = per_encode;
    eprintln!("  scale {backend} ×{}: {row:?}", urls.len());
    row
}

/// In the child: read the cameras, print the row, return true.
pub fn serve_child_if_requested() -> bool {
    child::serve(CHILD_ENV, |spec| {
        let mut parts = spec.splitn(3, '|');
        let backend = parts.next().unwrap_or_default().to_owned();
        let window = parts.next().and_then(|s| s.parse().ok()).unwrap_or(10.0);
        let urls: Vec<&str> = parts.next().unwrap_or_default().split(' ').collect();
        read(&backend, &urls, Duration::from_secs_f64(window))
    })
}

fn read(backend: &str, urls: &[&str], window: Duration) -> ScaleRow {
    let interval = Duration::from_secs_f64(1.0 / f64::from(FPS));
    let threads_before = thread_names();
    let cameras = StreamGroup::<usize, AnyBackend>::builder()
        .stagger(interval)
        .build();
    // OpenCV opens one source at a time (about a second each here): a camera's open waits
    // for the others' and must not time out meanwhile.
    let template =
        VideoStream::<AnyBackend>::builder_with("rtsp://placeholder", crate::config_of(backend))
            .open_timeout(Duration::from_secs(90))
            .first_frame_timeout(Duration::from_secs(20));
    for (i, url) in urls.iter().enumerate() {
        cameras
            .add(i, template.clone().source(*url))
            .expect("the camera starts");
    }
    let mut row = ScaleRow::empty(backend, urls.len());
    let up_until = Instant::now() + Duration::from_secs(120);
    while Instant::now() < up_until && (0..urls.len()).any(|i| cameras.read(&i).is_none()) {
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
    let cpu_before = cpu_time(None);
    let t = Instant::now();
    let mut ages = Vec::new();
    let mut last_at: Vec<Option<Instant>> = vec![None; urls.len()];
    let mut worst_gap = Duration::ZERO;
    while t.elapsed() < window {
        let Ok((key, frame)) = cameras.wait_any(&seen, Duration::from_secs(1)) else {
            continue;
        };
        seen.record(&key, &frame);
        if let Some(stamp) = decode_stamp(&frame) {
            ages.push(stamp_age(stamp));
        }
        let at = frame.received_instant();
        if let Some(last) = last_at[key] {
            worst_gap = worst_gap.max(at.saturating_duration_since(last));
        }
        last_at[key] = Some(at);
    }
    let elapsed = t.elapsed();
    let cpu = cpu_time(None).saturating_sub(cpu_before);
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
    row.cpu_ms_per_frame = cpu.as_secs_f64() * 1000.0 / total.max(1) as f64;
    row.rss_mib = rss_bytes(None) as f64 / (1024.0 * 1024.0);
    row.threads = thread_count(None);
    row.new_threads = new_threads(&threads_before, &thread_names());
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
    for r in rows.iter().filter(|r| r.cameras == 1 && r.per_encode == 1) {
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

/// The Markdown table, with the chart beside it.
pub fn render(rows: &[ScaleRow], chart: Option<&str>) -> String {
    let mut out = String::from(
        "Cameras of 640×480@15 H.264 over TCP in one `StreamGroup`, read through `AnyBackend` \
         and `wait_any` by one consumer, each backend in a process of its own; 4 server \
         processes with 8 mounts each (one x264 ultrafast encode per camera on one thread, \
         unless said). Latency is glass to read over every frame the consumer took; CPU is \
         the reader process's; server cores are the 4 servers' CPU while that reader ran.\n\n\
         | backend | cameras | cameras per encode | streaming | slowest camera fps | latency p50 / p95 ms | reader cores | CPU ms/frame | RSS MiB | threads | worst gap (frames) | group stop ms | server cores |\n\
         |---|---|---|---|---|---|---|---|---|---|---|---|---|\n",
    );
    let ms = |v: Option<f64>| v.map_or_else(|| "–".into(), |v| format!("{v:.1}"));
    for r in rows {
        out.push_str(&format!(
            "| {} | {} | {} | {} | {:.1} | {} / {} | {:.2} | {:.2} | {:.0} | {} | {:.1} | {:.1} | {:.2} |\n",
            r.backend,
            r.cameras,
            r.per_encode,
            r.streaming,
            r.slowest_fps,
            ms(r.latency_p50_ms),
            ms(r.latency_p95_ms),
            r.reader_cores,
            r.cpu_ms_per_frame,
            r.rss_mib,
            r.threads,
            r.worst_gap_frames,
            r.stop_ms,
            r.server_cores,
        ));
    }
    if let Some(chart) = chart {
        out.push_str(&format!(
            "\n![reader CPU and p95 latency against N]({chart})\n"
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
