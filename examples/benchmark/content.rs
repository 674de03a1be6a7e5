//! `--content`: the single-stream table on the scriptable camera's pre-encoded content — the
//! test card and camera-like pictures (sensor noise, motion) at a stated bit rate — next to
//! the floor measured in the same run on the same frames: one core decoding the clip from a
//! file with no network (`ffmpeg -threads 1 … -f null -`), without and with conversion to BGR.

use crate::measure::in_child_reading;
use crate::report::{Row, medians, quantile};
use rtsp_stream_testkit::camera::{CameraServer, Scenario};
use rtsp_stream_testkit::content::{Clip, ContentSpec};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

/// The contents measured: a name and what the camera sends.
pub fn contents() -> Vec<(&'static str, ContentSpec)> {
    vec![
        (
            "test card, 640×480",
            ContentSpec::camera(640, 480, 30, 2000).test_card(),
        ),
        (
            "camera-like, 640×480",
            ContentSpec::camera(640, 480, 30, 1000),
        ),
        (
            "camera-like, 640×480",
            ContentSpec::camera(640, 480, 30, 2000),
        ),
        (
            "camera-like, 1920×1080",
            ContentSpec::camera(1920, 1080, 15, 4000),
        ),
    ]
}

/// One content: the readers' medians and the floor.
pub struct Table {
    name: &'static str,
    spec: ContentSpec,
    kbps: f64,
    rows: Vec<Row>,
    /// CPU per frame of one core decoding the clip from its file: (decode only, with BGR).
    floor_ms: (f64, f64),
}

/// Measures `readers` on every content, `rounds` rounds of `window` each.
pub fn measure(readers: &[&str], window: Duration, rounds: usize) -> Vec<Table> {
    let mut tables = Vec::new();
    for (name, spec) in contents() {
        let camera = CameraServer::start(Scenario::new(spec.clone())).expect("the camera starts");
        let clip = camera.clip().clone();
        let size = (spec.width, spec.height);
        eprintln!("{name}, {} kbit/s: serving {}", spec.kbps, camera.url());
        let mut runs = Vec::new();
        let mut floors = Vec::new();
        for round in 0..rounds {
            eprintln!(" round {}", round + 1);
            let mut this = Vec::new();
            for reader in readers {
                let mut row = in_child_reading(reader, &camera.url(), size, window, true);
                set_latencies(&mut row, &camera);
                eprintln!("  {reader}: {row:?}");
                this.push(row);
            }
            floors.push((floor(&clip, false), floor(&clip, true)));
            runs.push(this);
        }
        let median = |pick: fn(&(f64, f64)) -> f64| {
            let v: Vec<f64> = floors.iter().map(pick).collect();
            quantile(&v, 0.5)
        };
        tables.push(Table {
            name,
            kbps: clip.measured_kbps(),
            spec,
            rows: medians(&runs),
            floor_ms: (median(|f| f.0), median(|f| f.1)),
        });
    }
    tables
}

/// Latency of each picture: from the instant the camera logged sending its frame to the
/// instant the reader had it in hand (both on this machine's clock).
fn set_latencies(row: &mut Row, camera: &CameraServer) {
    let log = camera.log();
    let (now, wall) = (Instant::now(), SystemTime::now());
    let wall_micros = wall
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_micros() as u64);
    let mut ages: Vec<Duration> = std::mem::take(&mut row.indices)
        .into_iter()
        .filter_map(|(index, micros)| {
            let in_hand =
                now.checked_sub(Duration::from_micros(wall_micros.checked_sub(micros)?))?;
            let sent = log.sent_instant(camera.frame_of(index, in_hand))?;
            Some(in_hand.saturating_duration_since(sent))
        })
        .collect();
    row.set_latencies(&mut ages);
}

/// CPU per frame of `ffmpeg` on one thread decoding the clip's file (looped to a few hundred
/// frames), discarding the pictures, with or without converting them to BGR; from ffmpeg's
/// own `-benchmark` account of its user and system time.
pub fn floor(clip: &Clip, bgr: bool) -> f64 {
    floor_of(clip, bgr, false)
}

/// The same for the key frames alone (FFmpeg's `-skip_frame nokey`), converted to BGR: CPU
/// per key frame.
pub fn floor_key_frames(clip: &Clip) -> f64 {
    floor_of(clip, true, true)
}

fn floor_of(clip: &Clip, bgr: bool, key_frames: bool) -> f64 {
    let loops = (300 / clip.units.len().max(1)).max(1);
    let mut args: Vec<String> = [
        "-nostdin",
        "-hide_banner",
        "-benchmark",
        "-threads",
        "1",
        "-filter_threads",
        "1",
        "-stream_loop",
    ]
    .iter()
    .map(|s| s.to_string())
    .collect();
    args.push((loops - 1).to_string());
    if key_frames {
        args.extend(["-skip_frame".into(), "nokey".into()]);
    }
    args.push("-i".into());
    args.push(clip.file.display().to_string());
    if bgr {
        args.extend(["-vf".into(), "format=bgr24".into()]);
    }
    args.extend(["-f".into(), "null".into(), "-".into()]);
    let output = Command::new("ffmpeg")
        .args(&args)
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .output()
        .expect("ffmpeg runs");
    let text = String::from_utf8_lossy(&output.stderr);
    let seconds = |key: &str| -> f64 {
        text.split(key)
            .nth(1)
            .and_then(|rest| rest.split('s').next())
            .and_then(|v| v.parse().ok())
            .unwrap_or(f64::NAN)
    };
    let cpu = seconds("utime=") + seconds("stime=");
    let per_loop = match key_frames {
        true => clip.units.iter().filter(|u| u.key).count(),
        false => clip.units.len(),
    };
    let frames = (per_loop * loops) as f64;
    cpu * 1000.0 / frames
}

/// The tables in Markdown.
pub fn render(tables: &[Table], window: Duration, rounds: usize) -> String {
    let mut out = format!(
        "Single stream on the scriptable camera's content (`--content`): each reader in a \
         process of its own, over TCP, medians of {rounds} rounds of {} s. *floor*: one core \
         decoding the same clip from its file with no network (`ffmpeg -threads 1 … -f null \
         -`), without and with conversion to BGR, in the same run; *× floor* divides a \
         reader's CPU per frame by the floor with conversion. Latency: from the instant the \
         camera logged sending a frame to the frame in hand.\n",
        window.as_secs()
    );
    for t in tables {
        out.push_str(&format!(
            "\n**{}, {} fps, {:.0} kbit/s measured ({} kbit/s asked), a key frame every {} \
             frames** — floor {:.2} ms per frame decoding, {:.2} ms with BGR\n\n\
             | reader | fps | latency p50 | latency p95 | CPU per frame | × floor | RSS |\n\
             |---|---|---|---|---|---|---|\n",
            t.name, t.spec.fps, t.kbps, t.spec.kbps, t.spec.keyint, t.floor_ms.0, t.floor_ms.1
        ));
        for r in &t.rows {
            let ms = |v: Option<f64>| v.map_or("–".into(), |v| format!("{v:.1} ms"));
            out.push_str(&format!(
                "| {} | {:.1} | {} | {} | {:.2} ms | {:.2} | {:.0} MiB |\n",
                r.name,
                r.fps,
                ms(r.latency_p50_ms),
                ms(r.latency_p95_ms),
                r.cpu_ms_per_frame,
                r.cpu_ms_per_frame / t.floor_ms.1,
                r.rss_mib,
            ));
        }
    }
    out
}
