//! The hostile camera (random well-framed and malformed answers, damaged media) against every
//! network backend, each in a child process: no abort, no `stop()` over 2 s, no secret printed,
//! and every step of a session reached by at least a tenth of the runs, so the generator is
//! not refused at the door. A short run with fixed seeds; `examples/benchmark --hostile
//! MINUTES` runs longer with fresh ones.

use rtsp_stream::{AnyBackend, AnyConfig};
use rtsp_stream_testkit::hostile_camera::{
    HostileLimits, HostileReport, hostile_child_if_requested, hostile_runs,
};
use std::time::Duration;

const BACKENDS: [&str; 4] = ["retina", "ffmpeg", "gstreamer", "opencv"];

#[test]
fn hostile_cameras_take_no_backend_down_and_learn_no_secret() {
    hostile_child_if_requested::<AnyBackend>(|name| {
        AnyConfig::by_name(name).expect("a compiled-in backend")
    });
    let seeds: Vec<u64> = (1..=8).collect();
    let limits = HostileLimits {
        run: Duration::from_millis(4000),
        ..HostileLimits::default()
    };
    let args = [
        "--exact",
        "hostile_cameras_take_no_backend_down_and_learn_no_secret",
        "--nocapture",
        "--test-threads=1",
    ];
    let reports: Vec<HostileReport> = std::thread::scope(|scope| {
        let runs: Vec<_> = BACKENDS
            .iter()
            .map(|backend| {
                let seeds = &seeds;
                scope.spawn(move || hostile_runs(backend, seeds, &args, limits))
            })
            .collect();
        runs.into_iter()
            .map(|r| r.join().expect("a runner").expect("the runs ran"))
            .collect()
    });
    let mut failures = Vec::new();
    for r in &reports {
        println!(
            "{:<10} runs {:>3}  describe {:>3}  setup {:>3}  play {:>3}  frame {:>3}  aborts {:?}  \
             hangs {:?}  slowest stop {} ms  secrets {}",
            r.backend,
            r.runs,
            r.describe,
            r.setup,
            r.play,
            r.frames,
            r.aborts,
            r.hangs,
            r.slowest_stop_ms,
            r.secrets_printed.len()
        );
        if !r.aborts.is_empty() {
            failures.push(format!("{}: aborted on seeds {:?}", r.backend, r.aborts));
        }
        if !r.hangs.is_empty() {
            failures.push(format!(
                "{}: stop() hung on (seed, ms) {:?}",
                r.backend, r.hangs
            ));
        }
        if let Some((what, line)) = r.secrets_printed.first() {
            failures.push(format!("{}: printed the {what}: {line}", r.backend));
        }
        for (step, count) in [
            ("DESCRIBE", r.describe),
            ("SETUP", r.setup),
            ("PLAY", r.play),
            ("a decoded frame", r.frames),
        ] {
            if r.share(count) < 0.1 {
                failures.push(format!(
                    "{}: only {count} of {} runs reached {step}",
                    r.backend, r.runs
                ));
            }
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}
