//! The figures and their Markdown.

use serde::{Deserialize, Serialize};
use std::time::Duration;

/// One reader on one stream.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Row {
    pub name: String,
    #[serde(skip)]
    pub size: (u32, u32),
    pub frames: u64,
    pub fps: f64,
    pub latency_p50_ms: Option<f64>,
    pub latency_p95_ms: Option<f64>,
    pub cpu_ms_per_frame: f64,
    pub rss_mib: f64,
    pub first_frame_s: Option<f64>,
    /// The scriptable camera's frame index of each picture read, with when it was in hand
    /// (µs since the Unix epoch); empty for the test server's time-stamped pictures.
    #[serde(default)]
    pub indices: Vec<(u32, u64)>,
}

impl Row {
    pub fn empty(name: &str, size: (u32, u32)) -> Row {
        Row {
            name: name.to_owned(),
            size,
            frames: 0,
            fps: 0.0,
            latency_p50_ms: None,
            latency_p95_ms: None,
            cpu_ms_per_frame: 0.0,
            rss_mib: 0.0,
            first_frame_s: None,
            indices: Vec::new(),
        }
    }

    pub fn set_latencies(&mut self, ages: &mut [Duration]) {
        ages.sort();
        let at = |q: f64| {
            (!ages.is_empty()).then(|| {
                let i = ((ages.len() - 1) as f64 * q).round() as usize;
                ages[i].as_secs_f64() * 1000.0
            })
        };
        self.latency_p50_ms = at(0.5);
        self.latency_p95_ms = at(0.95);
    }
}

/// Per reader (the rows of each round are in the same order), the median of every figure.
pub fn medians(runs: &[Vec<Row>]) -> Vec<Row> {
    fn median(mut v: Vec<f64>) -> f64 {
        v.sort_by(f64::total_cmp);
        v[v.len() / 2]
    }
    let opt = |v: Vec<Option<f64>>| -> Option<f64> {
        let v: Vec<f64> = v.into_iter().flatten().collect();
        (!v.is_empty()).then(|| median(v))
    };
    (0..runs[0].len())
        .map(|i| {
            let all: Vec<&Row> = runs.iter().map(|r| &r[i]).collect();
            let pick = |f: &dyn Fn(&Row) -> f64| median(all.iter().map(|r| f(r)).collect());
            let pick_opt =
                |f: &dyn Fn(&Row) -> Option<f64>| opt(all.iter().map(|r| f(r)).collect());
            Row {
                name: all[0].name.clone(),
                size: all[0].size,
                frames: all.iter().map(|r| r.frames).min().unwrap_or(0),
                fps: pick(&|r| r.fps),
                latency_p50_ms: pick_opt(&|r| r.latency_p50_ms),
                latency_p95_ms: pick_opt(&|r| r.latency_p95_ms),
                cpu_ms_per_frame: pick(&|r| r.cpu_ms_per_frame),
                rss_mib: pick(&|r| r.rss_mib),
                first_frame_s: pick_opt(&|r| r.first_frame_s),
                indices: Vec::new(),
            }
        })
        .collect()
}

/// `stop()` durations of one backend in one state.
pub struct StopTimes {
    pub backend: String,
    pub state: &'static str,
    pub times: Vec<Duration>,
}

fn ms(v: Option<f64>) -> String {
    v.map_or("–".into(), |v| format!("{v:.1}"))
}

/// The bare decoder a reader is compared with: OpenCV reads through FFmpeg.
fn bare_for(name: &str) -> Option<&'static str> {
    match name {
        "ffmpeg" | "opencv" | "retina" | "retina-libavcodec" => Some("ffmpeg (bare)"),
        "gstreamer" => Some("gst-launch (bare)"),
        _ => None,
    }
}

pub fn render(rows: &[Row], quick: bool) -> String {
    let mut out = String::new();
    if quick {
        out.push_str("(quick pass: 320×240, one 2 s window — not figures to quote)\n\n");
    } else {
        out.push_str(
            "Medians of 3 rounds of 10 s windows (after 2 s of warm-up), readers interleaved.\n\n",
        );
    }
    let mut sizes: Vec<(u32, u32)> = rows.iter().map(|r| r.size).collect();
    sizes.dedup();
    for (w, h) in sizes {
        out.push_str(&format!(
            "#### {w}×{h} H.264, 30 fps, RTSP over TCP\n\n\
             | reader | latency p50 (ms) | p95 (ms) | CPU ms/frame | CPU × bare | CPU × ffmpeg backend | RSS (MiB) | first frame (s) | fps read |\n\
             |---|---:|---:|---:|---:|---:|---:|---:|---:|\n"
        ));
        let here: Vec<&Row> = rows.iter().filter(|r| r.size == (w, h)).collect();
        for r in &here {
            let ratio = bare_for(&r.name)
                .and_then(|b| here.iter().find(|x| x.name == b))
                .map_or("–".into(), |b| {
                    format!("{:.2}", r.cpu_ms_per_frame / b.cpu_ms_per_frame)
                });
            let vs_ffmpeg = here
                .iter()
                .find(|x| x.name == "ffmpeg")
                .filter(|_| r.name != "ffmpeg" && !r.name.ends_with("(bare)"))
                .map_or("–".into(), |f| {
                    format!("{:.2}", r.cpu_ms_per_frame / f.cpu_ms_per_frame)
                });
            let first = r
                .first_frame_s
                .map_or_else(|| "–".into(), |s| format!("{s:.2}"));
            out.push_str(&format!(
                "| {} | {} | {} | {:.2} | {ratio} | {vs_ffmpeg} | {:.0} | {first} | {:.1} |\n",
                r.name,
                ms(r.latency_p50_ms),
                ms(r.latency_p95_ms),
                r.cpu_ms_per_frame,
                r.rss_mib,
                r.fps,
            ));
        }
        out.push('\n');
    }
    out
}

/// The `stop()` table (empty without stops).
pub fn render_stops(stops: &[StopTimes]) -> String {
    let mut out = String::new();
    if stops.is_empty() {
        return out;
    }
    out.push_str(
        "#### `stop()` times\n\n| backend | state when stopped | stops | p50 (ms) | p95 (ms) | max (ms) |\n|---|---|---:|---:|---:|---:|\n",
    );
    for s in stops {
        let mut t: Vec<f64> = s.times.iter().map(|d| d.as_secs_f64() * 1000.0).collect();
        t.sort_by(f64::total_cmp);
        let q = |q: f64| t[((t.len() - 1) as f64 * q).round() as usize];
        out.push_str(&format!(
            "| {} | {} | {} | {:.2} | {:.2} | {:.2} |\n",
            s.backend,
            s.state,
            t.len(),
            q(0.5),
            q(0.95),
            q(1.0)
        ));
    }
    out
}

/// Replaces the text between the markers of section `name` of BENCHMARKS.md (`benchmark` is
/// the end-to-end tables; appends the section if its markers are absent).
pub fn write_into_benchmarks_md(name: &str, text: &str) -> std::io::Result<()> {
    let (begin, end) = (
        format!("<!-- {name}:begin -->"),
        format!("<!-- {name}:end -->"),
    );
    let path = concat!(env!("CARGO_MANIFEST_DIR"), "/BENCHMARKS.md");
    let old = std::fs::read_to_string(path)?;
    let section = format!("{begin}\n{text}\n{end}");
    let new = match (old.find(&begin), old.find(&end)) {
        (Some(a), Some(b)) if a < b => format!("{}{section}{}", &old[..a], &old[b + end.len()..]),
        _ => format!("{old}\n{section}\n"),
    };
    std::fs::write(path, new)
}

/// The `q` quantile (0–1) of `values` (sorted here), in their unit.
pub fn quantile(values: &[f64], q: f64) -> f64 {
    let mut v = values.to_vec();
    v.sort_by(f64::total_cmp);
    if v.is_empty() {
        return f64::NAN;
    }
    v[((v.len() - 1) as f64 * q).round() as usize]
}
