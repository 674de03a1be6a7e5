//! The long runs (not in CI): 200 attempts against slow and huge-header peers, and ten
//! minutes of random faults through the fault proxy, each backend in a process of its own.

use crate::report::quantile;
use rtsp_stream::{AnyBackend, Frame, VideoStream};
use rtsp_stream_testkit::conformance::slow_peers_cost_nothing;
use rtsp_stream_testkit::process::{fd_count, rss_bytes, thread_count, trim_heap};
use rtsp_stream_testkit::{FaultProxy, ProxyMode, ServerOptions, TestServerProcess, decode_stamp};
use serde::{Deserialize, Serialize};
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::{Duration, Instant};

const SLOW_ENV: &str = "RTSP_STREAM_BENCH_SLOW_PEERS";
const CHAOS_ENV: &str = "RTSP_STREAM_BENCH_CHAOS";

/// Slow-peer attempts of one backend.
#[derive(Debug, Serialize, Deserialize)]
pub struct SlowPeers {
    pub backend: String,
    pub overruns_ms: Vec<f64>,
    pub threads: (usize, usize),
    pub fds: (usize, usize),
}

/// One fault of a chaos run and how the stream came back.
#[derive(Debug, Serialize, Deserialize)]
pub struct Fault {
    pub kind: String,
    /// From the end of the fault to the first fresh frame; `None`: not within 20 s.
    pub recovered_after_s: Option<f64>,
}

/// A chaos run of one backend.
#[derive(Debug, Serialize, Deserialize)]
pub struct Chaos {
    pub backend: String,
    pub minutes: f64,
    pub faults: Vec<Fault>,
    /// Threads, descriptors and RSS (MiB, after trimming the heap) at start and end.
    pub start: (usize, usize, f64),
    pub end: (usize, usize, f64),
}

/// In a child: run the requested long measurement, print it, return true.
pub fn serve_child_if_requested() -> bool {
    crate::child::serve(SLOW_ENV, |spec| {
        let (backend, attempts) = spec.split_once('|').expect("backend|attempts");
        slow_peers(backend, attempts.parse().expect("a count"))
    }) || crate::child::serve(CHAOS_ENV, |spec| {
        let (backend, minutes) = spec.split_once('|').expect("backend|minutes");
        chaos(backend, minutes.parse().expect("minutes"))
    })
}

pub fn slow_peers_in_child(backend: &str, attempts: usize) -> Option<SlowPeers> {
    crate::child::run(SLOW_ENV, &format!("{backend}|{attempts}"))
}

pub fn chaos_in_child(backend: &str, minutes: f64) -> Option<Chaos> {
    crate::child::run(CHAOS_ENV, &format!("{backend}|{minutes}"))
}

fn slow_peers(backend: &str, attempts: usize) -> SlowPeers {
    let config = crate::config_of(backend);
    let report = slow_peers_cost_nothing::<AnyBackend>(&config, &[], attempts);
    SlowPeers {
        backend: backend.into(),
        overruns_ms: report
            .overruns
            .iter()
            .map(|d| d.as_secs_f64() * 1000.0)
            .collect(),
        threads: report.threads,
        fds: report.fds,
    }
}

/// A small xorshift generator: the faults only need to be spread, and reproducible from the
/// seed printed.
struct Dice(u64);

impl Dice {
    fn below(&mut self, n: u64) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0 % n
    }
}

fn counts() -> (usize, usize, f64) {
    trim_heap();
    (
        thread_count(None),
        fd_count(None),
        rss_bytes(None) as f64 / (1024.0 * 1024.0),
    )
}

fn chaos(backend: &str, minutes: f64) -> Chaos {
    const PERIOD: Duration = Duration::from_secs(20);
    const RECOVERY: Duration = Duration::from_secs(20);
    let mut options = ServerOptions {
        fps: 15,
        ..ServerOptions::default()
    };
    let mut server = TestServerProcess::spawn(&options, &[]).expect("the test server starts");
    options.port = server.port();
    let proxy = FaultProxy::start(SocketAddr::from(([127, 0, 0, 1], server.port())))
        .expect("the fault proxy starts");
    let url = format!("rtsp://127.0.0.1:{}{}", proxy.port(), options.mount);
    let config = crate::config_of(backend);
    let stream = VideoStream::<AnyBackend>::builder_with(url.as_str(), config)
        .stall_timeout(Duration::from_secs(2))
        .reconnect_delay(Duration::from_millis(200))
        .max_reconnect_delay(Duration::from_secs(2))
        .reconnect_backoff(2.0)
        .start()
        .expect("the stream starts");
    let mut last = stream
        .wait_next(0, Duration::from_secs(30))
        .expect("a first frame");
    let start = counts();
    let seed = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(1, |d| d.as_nanos() as u64)
        | 1;
    eprintln!("  chaos {backend}: seed {seed}");
    let mut dice = Dice(seed);
    let mut faults = Vec::new();
    let until = Instant::now() + Duration::from_secs_f64(minutes * 60.0);
    while Instant::now() + PERIOD <= until {
        let slot_end = Instant::now() + PERIOD;
        let kind = match dice.below(5) {
            0 => {
                proxy.cut();
                "cut"
            }
            1 => {
                proxy.set_mode(ProxyMode::Blackhole);
                std::thread::sleep(Duration::from_secs(5));
                proxy.cut();
                proxy.set_mode(ProxyMode::Pass);
                "blackhole 5 s"
            }
            2 => {
                proxy.set_mode(ProxyMode::Refuse);
                proxy.cut();
                std::thread::sleep(Duration::from_secs(3));
                proxy.set_mode(ProxyMode::Pass);
                "refused 3 s"
            }
            3 => {
                proxy.set_mode(ProxyMode::Delay(Duration::from_millis(800)));
                std::thread::sleep(Duration::from_secs(5));
                proxy.set_mode(ProxyMode::Pass);
                "delay 0.8 s for 5 s"
            }
            _ => {
                drop(server);
                server = TestServerProcess::spawn(&options, &[]).expect("the server restarts");
                "server restart"
            }
        };
        let restored = Instant::now();
        let fresh = next_fresh_frame(&stream, &last, RECOVERY);
        let recovered_after_s = fresh.as_ref().map(|_| restored.elapsed().as_secs_f64());
        eprintln!("  chaos {backend}: {kind}: recovered after {recovered_after_s:?}");
        if let Some(f) = fresh {
            last = f;
        }
        faults.push(Fault {
            kind: kind.into(),
            recovered_after_s,
        });
        // Keep reading until the slot ends, so the stream stays drained.
        while Instant::now() < slot_end {
            if let Ok(f) = stream.wait_next(last.seq(), slot_end - Instant::now()) {
                last = f;
            }
        }
    }
    drop(last);
    let end = counts();
    stream.stop();
    Chaos {
        backend: backend.into(),
        minutes,
        faults,
        start,
        end,
    }
}

/// The first frame after now whose picture was generated after the fault ended (its stamp is
/// younger than the wait for it), within `limit`.
fn next_fresh_frame(
    stream: &VideoStream<AnyBackend>,
    last: &Arc<Frame>,
    limit: Duration,
) -> Option<Arc<Frame>> {
    let started = Instant::now();
    let mut seq = last.seq();
    while started.elapsed() < limit {
        let frame = stream
            .wait_next(seq, limit.saturating_sub(started.elapsed()))
            .ok()?;
        seq = frame.seq();
        let age = decode_stamp(&frame).map(rtsp_stream_testkit::stamp_age);
        if age.is_some_and(|a| a <= started.elapsed()) {
            return Some(frame);
        }
    }
    None
}

pub fn render_slow_peers(runs: &[SlowPeers]) -> String {
    let mut out = String::from(
        "Each attempt against a peer that answers one byte a second, alternating with one that \
         answers with a 10 MiB header line; open timeout 0.5 s, cancel grace 1 s. Overrun: how \
         long an attempt outlasted its open timeout.\n\n\
         | backend | attempts | overrun p50 (ms) | p95 (ms) | max (ms) | threads at 10 → last | descriptors at 10 → last |\n\
         |---|---:|---:|---:|---:|---|---|\n",
    );
    for r in runs {
        out.push_str(&format!(
            "| {} | {} | {:.0} | {:.0} | {:.0} | {} → {} | {} → {} |\n",
            r.backend,
            r.overruns_ms.len(),
            quantile(&r.overruns_ms, 0.5),
            quantile(&r.overruns_ms, 0.95),
            quantile(&r.overruns_ms, 1.0),
            r.threads.0,
            r.threads.1,
            r.fds.0,
            r.fds.1
        ));
    }
    out
}

pub fn render_chaos(runs: &[Chaos]) -> String {
    let mut out = String::from(
        "One random fault every 20 s through the fault proxy (cut, 5 s blackhole, 3 s \
         refusal, 0.8 s delay for 5 s, server restart), stall timeout 2 s, back-off 0.2 s × 2ⁿ \
         up to 2 s. Recovery: from the end of the fault to the first frame generated after it.\n\n\
         | backend | minutes | faults | recovered | recovery p50 (s) | max (s) | threads start → end | descriptors | RSS MiB |\n\
         |---|---:|---:|---:|---:|---:|---|---|---|\n",
    );
    for r in runs {
        let times: Vec<f64> = r
            .faults
            .iter()
            .filter_map(|f| f.recovered_after_s)
            .collect();
        out.push_str(&format!(
            "| {} | {:.0} | {} | {} | {:.2} | {:.2} | {} → {} | {} → {} | {:.0} → {:.0} |\n",
            r.backend,
            r.minutes,
            r.faults.len(),
            times.len(),
            quantile(&times, 0.5),
            quantile(&times, 1.0),
            r.start.0,
            r.end.0,
            r.start.1,
            r.end.1,
            r.start.2,
            r.end.2
        ));
    }
    out
}
