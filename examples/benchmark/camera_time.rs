//! `--camera-time [MINUTES]`: how far each backend's camera time lies from the instant the
//! scriptable camera logged capturing the frame, on loopback: a camera clock 3.7 s ahead, an
//! encoder clock 200 ppm faster than the camera's wall clock (which sender reports follow and
//! a mapping from the first report does not), a wall clock that steps 1.5 s (errors counted
//! from two sender reports after the step), each for 30 s; then every backend at once on one
//! camera whose encoder clock runs 200 ppm fast, for MINUTES (default 10).

use crate::report::quantile;
use rtsp_stream::{AnyBackend, Event, Notice, Transport, VideoStream};
use rtsp_stream_testkit::camera::{CameraClock, CameraServer, Scenario};
use rtsp_stream_testkit::content::ContentSpec;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant, SystemTime};

/// One backend on one camera clock.
#[derive(Debug)]
pub struct Row {
    backend: String,
    clock: &'static str,
    frames: usize,
    mapped: usize,
    /// Error in ms: p50, p95, max.
    error_ms: (f64, f64, f64),
    steps_noticed: u64,
}

fn clocks() -> Vec<(&'static str, CameraClock, Duration)> {
    vec![
        (
            "offset +3.7 s",
            CameraClock {
                offset_ms: 3700,
                ..CameraClock::default()
            },
            Duration::ZERO,
        ),
        (
            "encoder clock +200 ppm",
            CameraClock {
                media_drift_ppm: 200.0,
                ..CameraClock::default()
            },
            Duration::ZERO,
        ),
        (
            "step +1.5 s at 10 s",
            CameraClock {
                step: Some((Duration::from_secs(10), 1500)),
                ..CameraClock::default()
            },
            // Frames from two sender reports after the step on.
            Duration::from_secs(11),
        ),
    ]
}

/// Runs the table: each backend on each clock for `window`, then all at once for `long`.
pub fn run(backends: &[&str], window: Duration, long: Duration) -> String {
    let mut rows = Vec::new();
    for (name, clock, skip) in clocks() {
        for backend in backends {
            let camera = camera(clock.clone());
            let mut row = measure(&[backend], &camera, window, skip).remove(0);
            row.clock = name;
            eprintln!("  {row:?}");
            rows.push(row);
        }
    }
    let camera = camera(CameraClock {
        media_drift_ppm: 200.0,
        ..CameraClock::default()
    });
    for mut row in measure(backends, &camera, long, Duration::ZERO) {
        row.clock = "encoder clock +200 ppm, long run";
        eprintln!("  {row:?}");
        rows.push(row);
    }
    render(&rows, window, long)
}

fn camera(clock: CameraClock) -> CameraServer {
    let mut scenario = Scenario::new(ContentSpec::small().with_seconds(10));
    scenario.clock = clock;
    scenario.start_at_key_frame = true;
    CameraServer::start(scenario).expect("the camera starts")
}

/// Every backend of `backends` reads `camera` at once for `window`; frames received before
/// `skip` (from the camera's start) are not counted.
fn measure(backends: &[&str], camera: &CameraServer, window: Duration, skip: Duration) -> Vec<Row> {
    let started = Instant::now();
    let readers: Vec<_> = backends
        .iter()
        .map(|backend| {
            let steps = Arc::new(AtomicU64::new(0));
            let counter = Arc::clone(&steps);
            let stream =
                VideoStream::<AnyBackend>::builder_with(camera.url(), crate::config_of(backend))
                    .transport(Transport::Tcp)
                    .on_event(move |e| {
                        if matches!(e, Event::Notice(Notice::ClockStep { .. })) {
                            counter.fetch_add(1, Ordering::Relaxed);
                        }
                    })
                    .start()
                    .expect("the stream starts");
            (backend.to_string(), stream, steps)
        })
        .collect();
    std::thread::scope(|scope| {
        let handles: Vec<_> = readers
            .into_iter()
            .map(|(backend, stream, steps)| {
                scope.spawn(move || {
                    let mut errors = Vec::new();
                    let mut frames = 0;
                    let mut last = 0;
                    while started.elapsed() < window {
                        let Ok(frame) = stream.wait_next(last, Duration::from_millis(500)) else {
                            continue;
                        };
                        last = frame.seq();
                        if started.elapsed() < skip {
                            continue;
                        }
                        frames += 1;
                        let Some(n) = camera.frame_in(&frame) else {
                            continue;
                        };
                        if let Some(at) = frame.camera_time().map(|c| c.at) {
                            errors.push(apart(at, camera.capture_time(n)).as_secs_f64() * 1e3);
                        }
                    }
                    stream.stop();
                    Row {
                        backend,
                        clock: "",
                        frames,
                        mapped: errors.len(),
                        error_ms: (
                            quantile(&errors, 0.5),
                            quantile(&errors, 0.95),
                            quantile(&errors, 1.0),
                        ),
                        steps_noticed: steps.load(Ordering::Relaxed),
                    }
                })
            })
            .collect();
        handles
            .into_iter()
            .map(|h| h.join().expect("a reader"))
            .collect()
    })
}

fn apart(a: SystemTime, b: SystemTime) -> Duration {
    a.duration_since(b).unwrap_or_else(|e| e.duration())
}

fn render(rows: &[Row], window: Duration, long: Duration) -> String {
    let mut out = format!(
        "Camera time (`--camera-time`): |camera time − the instant the scriptable camera \
         logged capturing the frame|, on loopback over TCP, sender reports every 0.5 s; \
         {} s per backend and clock, then every backend at once on one camera whose encoder \
         clock runs 200 ppm faster than its wall clock, for {} min. *mapped*: frames with a camera time, of those read; *steps*: \
         `ClockStep` notices.\n\n\
         | backend | camera clock | frames | mapped | error p50 | error p95 | error max | steps |\n\
         |---|---|---|---|---|---|---|---|\n",
        window.as_secs(),
        long.as_secs() / 60
    );
    for r in rows {
        out.push_str(&format!(
            "| {} | {} | {} | {} | {:.2} ms | {:.2} ms | {:.2} ms | {} |\n",
            r.backend,
            r.clock,
            r.frames,
            r.mapped,
            r.error_ms.0,
            r.error_ms.1,
            r.error_ms.2,
            r.steps_noticed
        ));
    }
    out
}
