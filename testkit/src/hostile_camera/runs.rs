//! Runs of a backend against the hostile camera, each backend in a child process (the test
//! binary run again), so that an abort is counted, not lost, and what the backend prints —
//! standard error, log records, errors, events — is searched for every encoding of the run's
//! secrets.

use super::{HostileCamera, Reached};
use crate::TestkitError;
use crate::conformance::StderrLogger;
use crate::process::{fd_count, rss_bytes, thread_count, trim_heap};
use rtsp_stream_core::{CaptureBackend, VideoStream};
use std::io::{BufRead, BufReader, Read};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

const CHILD_ENV: &str = "RTSP_STREAM_HOSTILE_CHILD";
const USER: &str = "admin";
const PASSWORD: &str = "Hunter2-Zq9x";
const TOKEN: &str = "Tok3n-Zq7y";

/// What the runs of one backend came to.
#[derive(Debug, Default, Clone)]
pub struct HostileReport {
    /// The backend.
    pub backend: String,
    /// Runs made.
    pub runs: u64,
    /// Runs that reached each step on the camera's side.
    pub describe: u64,
    /// Runs whose SETUP was accepted.
    pub setup: u64,
    /// Runs whose PLAY was accepted.
    pub play: u64,
    /// Runs that delivered a decoded frame.
    pub frames: u64,
    /// Child processes that ended by a signal or without finishing (the seed it was on).
    pub aborts: Vec<u64>,
    /// Runs whose `stop()` took longer than the hang limit (seed, milliseconds).
    pub hangs: Vec<(u64, u64)>,
    /// The slowest `stop()`, in milliseconds.
    pub slowest_stop_ms: u64,
    /// Secrets found in what the child printed: (encoding, the line).
    pub secrets_printed: Vec<(String, String)>,
    /// Threads, descriptors and resident memory (bytes) of the child at the start and the
    /// end of its runs (the first child's start, the last child's end).
    pub threads: (usize, usize),
    /// Open descriptors at the start and the end.
    pub fds: (usize, usize),
    /// Resident memory at the start and the end.
    pub rss: (u64, u64),
}

impl HostileReport {
    /// The share of runs that reached a step, 0–1.
    pub fn share(&self, count: u64) -> f64 {
        count as f64 / self.runs.max(1) as f64
    }
}

/// Limits of one run.
#[derive(Debug, Clone, Copy)]
pub struct HostileLimits {
    /// How long a run waits for a frame before stopping the stream.
    pub run: Duration,
    /// A `stop()` longer than this is a hang.
    pub hang: Duration,
    /// How long the whole child may take before it is killed (its seed counted as a hang).
    pub child: Duration,
}

impl Default for HostileLimits {
    fn default() -> Self {
        HostileLimits {
            run: Duration::from_secs(3),
            hang: Duration::from_secs(2),
            child: Duration::from_secs(120),
        }
    }
}

/// The encodings of the runs' secrets that must never be printed.
fn secret_encodings() -> Vec<(&'static str, String)> {
    vec![
        ("password", PASSWORD.to_owned()),
        ("token", TOKEN.to_owned()),
        (
            "base64 user:password",
            crate::rtp::base64(format!("{USER}:{PASSWORD}").as_bytes()),
        ),
    ]
}

/// In a child process started by [`hostile_runs`]: makes the runs it was given with backend
/// `B` (`config` for the backend name it was given) and exits. Call it first thing in the
/// test that calls `hostile_runs`.
pub fn hostile_child_if_requested<B: CaptureBackend>(config: impl Fn(&str) -> B::Config) {
    let Ok(spec) = std::env::var(CHILD_ENV) else {
        return;
    };
    let mut parts = spec.split(',');
    let (Some(backend), Some(port), Some(seeds), Some(run_ms)) =
        (parts.next(), parts.next(), parts.next(), parts.next())
    else {
        std::process::exit(2);
    };
    let port: u16 = port.parse().unwrap_or(0);
    let run = Duration::from_millis(run_ms.parse().unwrap_or(3000));
    let seeds: Vec<u64> = seeds.split(':').filter_map(|s| s.parse().ok()).collect();
    rtsp_stream_core::install_scrubbing_panic_hook();
    StderrLogger::install();
    let config = config(backend);
    for (n, seed) in seeds.into_iter().enumerate() {
        println!("HOSTILE-START {seed}");
        let url = format!("rtsp://{USER}:{PASSWORD}@127.0.0.1:{port}/hostile/{seed}?token={TOKEN}");
        let (frame, stop_ms) = one_run::<B>(&url, config.clone(), run, seed);
        println!("HOSTILE-RUN {seed} {} {stop_ms}", u8::from(frame));
        if n == 0 {
            // The baseline is taken after the first run: a decoder library's one-time set-up
            // (GStreamer's registry and threads, FFmpeg's globals) is not a leak.
            std::thread::sleep(Duration::from_millis(500));
            trim_heap();
            println!(
                "HOSTILE-PROCESS start {} {} {}",
                thread_count(None),
                fd_count(None),
                rss_bytes(None)
            );
        }
    }
    // What a stream leaves behind settles once its threads end.
    std::thread::sleep(Duration::from_millis(500));
    trim_heap();
    println!(
        "HOSTILE-PROCESS end {} {} {}",
        thread_count(None),
        fd_count(None),
        rss_bytes(None)
    );
    println!("HOSTILE-DONE");
    std::process::exit(0);
}

fn one_run<B: CaptureBackend>(
    url: &str,
    config: B::Config,
    limit: Duration,
    seed: u64,
) -> (bool, u64) {
    // Deadlines a slow opener (OpenCV probes a stream for about a second) can meet.
    let built = VideoStream::<B>::builder_with(url, config)
        .open_timeout(Duration::from_millis(2500))
        .first_frame_timeout(Duration::from_millis(1500))
        .stall_timeout(Duration::from_secs(1))
        .reconnect_delay(Duration::from_millis(50))
        .max_reconnect_delay(Duration::from_millis(50))
        .max_reconnect_attempts(3)
        .cancel_grace(Duration::from_millis(300))
        .on_event(move |event| println!("HOSTILE-EVENT {seed} {event:?}"))
        .build();
    let stream = match built {
        Ok(s) => s,
        Err(e) => {
            println!("HOSTILE-ERROR {seed} {e}");
            return (false, 0);
        }
    };
    if let Err(e) = stream.start() {
        println!("HOSTILE-ERROR {seed} {e}");
        return (false, 0);
    }
    let frame = stream.wait_next(0, limit).is_ok();
    let started = Instant::now();
    stream.stop();
    let stop_ms = started.elapsed().as_millis() as u64;
    let stats = stream.stats();
    println!(
        "HOSTILE-STATS {seed} {:?} {:?}",
        stats.last_error, stats.state
    );
    drop(stream);
    (frame, stop_ms)
}

/// Runs `seeds` of backend `backend` against a hostile camera of this process, in a child
/// (this executable with `args`, which must run the test that calls
/// [`hostile_child_if_requested`]); a child that aborts is counted and the next one goes on
/// from the seed after.
pub fn hostile_runs(
    backend: &str,
    seeds: &[u64],
    args: &[&str],
    limits: HostileLimits,
) -> Result<HostileReport, TestkitError> {
    let camera = HostileCamera::start()?;
    let mut report = HostileReport {
        backend: backend.to_owned(),
        ..HostileReport::default()
    };
    let mut left: Vec<u64> = seeds.to_vec();
    let mut first = true;
    while !left.is_empty() {
        let done = child(
            &camera,
            backend,
            &left,
            args,
            limits,
            &mut report,
            &mut first,
        )?;
        left.drain(..done.min(left.len()));
    }
    for &seed in seeds {
        let Reached {
            describe,
            setup,
            play,
        } = camera.reached(seed);
        report.describe += u64::from(describe);
        report.setup += u64::from(setup);
        report.play += u64::from(play);
    }
    Ok(report)
}

/// One child: returns how many seeds it got through (its last one counted as an abort if it
/// did not finish).
fn child(
    camera: &HostileCamera,
    backend: &str,
    seeds: &[u64],
    args: &[&str],
    limits: HostileLimits,
    report: &mut HostileReport,
    first: &mut bool,
) -> Result<usize, TestkitError> {
    let list: Vec<String> = seeds.iter().map(u64::to_string).collect();
    let spec = format!(
        "{backend},{},{},{}",
        camera.port,
        list.join(":"),
        limits.run.as_millis()
    );
    let mut child = Command::new(std::env::current_exe()?)
        .args(args)
        .env(CHILD_ENV, spec)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()?;
    let mut stderr = child.stderr.take().expect("piped");
    let errors = std::thread::spawn(move || {
        let mut all = Vec::new();
        let _ = stderr.read_to_end(&mut all);
        String::from_utf8_lossy(&all).into_owned()
    });
    let stdout = child.stdout.take().expect("piped");
    let (lines_tx, lines_rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        for line in BufReader::new(stdout).lines().map_while(Result::ok) {
            if lines_tx.send(line).is_err() {
                return;
            }
        }
    });
    let deadline = Instant::now() + limits.child;
    let (mut current, mut finished, mut done) = (None, false, 0usize);
    let mut output = String::new();
    loop {
        let left = deadline.saturating_duration_since(Instant::now());
        match lines_rx.recv_timeout(left.max(Duration::from_millis(1))) {
            Ok(line) => {
                read_line(
                    &line,
                    report,
                    limits,
                    first,
                    &mut current,
                    &mut done,
                    &mut finished,
                );
                output.push_str(&line);
                output.push('\n');
            }
            Err(std::sync::mpsc::RecvTimeoutError::Disconnected) => break,
            Err(std::sync::mpsc::RecvTimeoutError::Timeout) => {
                let _ = child.kill();
                if let Some(seed) = current {
                    report.hangs.push((seed, limits.child.as_millis() as u64));
                }
                break;
            }
        }
    }
    let _ = child.wait();
    output.push_str(&errors.join().unwrap_or_default());
    search_secrets(&output, report);
    if !finished {
        if let Some(seed) = current.take() {
            report.aborts.push(seed);
            report.runs += 1;
            done += 1;
        }
        if done == 0 {
            return Err(TestkitError(format!(
                "the {backend} child made no run: {}",
                output
                    .lines()
                    .rev()
                    .take(20)
                    .collect::<Vec<_>>()
                    .join(" | ")
            )));
        }
    }
    Ok(done)
}

fn read_line(
    line: &str,
    report: &mut HostileReport,
    limits: HostileLimits,
    first: &mut bool,
    current: &mut Option<u64>,
    done: &mut usize,
    finished: &mut bool,
) {
    let words: Vec<&str> = line.split_whitespace().collect();
    match words.as_slice() {
        ["HOSTILE-START", seed] => *current = seed.parse().ok(),
        ["HOSTILE-RUN", seed, frame, stop_ms] => {
            let (seed, stop_ms): (u64, u64) =
                (seed.parse().unwrap_or(0), stop_ms.parse().unwrap_or(0));
            report.runs += 1;
            report.frames += u64::from(*frame == "1");
            report.slowest_stop_ms = report.slowest_stop_ms.max(stop_ms);
            if stop_ms > limits.hang.as_millis() as u64 {
                report.hangs.push((seed, stop_ms));
            }
            *current = None;
            *done += 1;
        }
        ["HOSTILE-PROCESS", when, threads, fds, rss] => {
            let (t, f, r) = (
                threads.parse().unwrap_or(0),
                fds.parse().unwrap_or(0),
                rss.parse().unwrap_or(0),
            );
            if *when == "start" && *first {
                report.threads.0 = t;
                report.fds.0 = f;
                report.rss.0 = r;
                *first = false;
            } else if *when == "end" {
                report.threads.1 = t;
                report.fds.1 = f;
                report.rss.1 = r;
            }
        }
        ["HOSTILE-DONE"] => *finished = true,
        _ => {}
    }
}

fn search_secrets(output: &str, report: &mut HostileReport) {
    for (what, secret) in secret_encodings() {
        for line in output.lines().filter(|l| l.contains(&secret)) {
            report
                .secrets_printed
                .push((what.to_owned(), line.chars().take(300).collect()));
        }
    }
}
