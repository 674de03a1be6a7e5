//! Time to the first frame on a fresh media: a server process started for each attempt, so
//! the reader is its first client and the stream begins with a key frame (the main table's
//! first frames join a running stream, mid-GOP).

use rtsp_stream::{AnyBackend, VideoStream};
use rtsp_stream_testkit::{ServerOptions, TestServerProcess};
use std::time::{Duration, Instant};

pub struct Fresh {
    pub backend: String,
    pub first_frames: Vec<Duration>,
}

pub fn measure(backends: &[&str], reps: usize) -> Vec<Fresh> {
    let options = ServerOptions {
        width: 640,
        height: 480,
        fps: 30,
        key_interval: 30,
        ..ServerOptions::default()
    };
    let mut all = Vec::new();
    for backend in backends {
        let mut first_frames = Vec::new();
        for _ in 0..reps {
            let server = TestServerProcess::spawn(&options, &[]).expect("the test server starts");
            let t = Instant::now();
            let stream =
                VideoStream::<AnyBackend>::builder_with(server.url(), crate::config_of(backend))
                    .start()
                    .expect("the stream starts");
            if stream.wait_next(0, Duration::from_secs(20)).is_ok() {
                first_frames.push(t.elapsed());
            }
            stream.stop();
        }
        eprintln!("  {backend}: first frames on a fresh media {first_frames:?}");
        all.push(Fresh {
            backend: backend.to_string(),
            first_frames,
        });
    }
    all
}

pub fn render(all: &[Fresh], quick: bool) -> String {
    let mut out = String::new();
    if quick {
        out.push_str("(quick pass — not figures to quote)\n\n");
    }
    out.push_str(
        "#### First frame on a fresh media, 640×480 at 30 fps\n\nA server process started for \
         each attempt: the reader is its first client, the stream begins with a key frame. From \
         `start()` to the first frame in hand.\n\n| backend | attempts | median (s) | max (s) |\n\
         |---|---:|---:|---:|\n",
    );
    for f in all {
        let mut t: Vec<f64> = f.first_frames.iter().map(Duration::as_secs_f64).collect();
        t.sort_by(f64::total_cmp);
        let (median, max) = match (t.get(t.len() / 2), t.last()) {
            (Some(m), Some(x)) => (format!("{m:.3}"), format!("{x:.3}")),
            _ => ("–".into(), "–".into()),
        };
        out.push_str(&format!(
            "| {} | {} | {median} | {max} |\n",
            f.backend,
            t.len()
        ));
    }
    out
}
