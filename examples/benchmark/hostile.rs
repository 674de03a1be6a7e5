//! `--hostile [MINUTES]`: every network backend against the hostile camera at once, each in
//! a child process, with fresh seeds for MINUTES (default 10): runs, the steps they reached,
//! aborts, hangs (a `stop()` over the stream's stop timeout), secrets printed, and the child's
//! threads, descriptors and RSS at its start and its end.

use rtsp_stream_testkit::hostile_camera::{HostileLimits, HostileReport, hostile_runs};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

/// Seeds per child: a child that aborts loses at most its current run, and its figures are
/// taken over this many runs.
const BATCH: usize = 50;

pub fn run(backends: &[&str], minutes: f64) -> String {
    let until = Instant::now() + Duration::from_secs_f64(minutes * 60.0);
    let base = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(1, |d| d.as_secs());
    let limits = HostileLimits {
        run: Duration::from_millis(2500),
        // The stream's stop timeout (100 ms), with room for the machine's noise.
        hang: Duration::from_millis(250),
        child: Duration::from_secs(BATCH as u64 * 15),
    };
    let reports: Vec<(HostileReport, Growth, u64)> = std::thread::scope(|scope| {
        let runs: Vec<_> = backends
            .iter()
            .enumerate()
            .map(|(b, backend)| {
                scope.spawn(move || {
                    let mut total = HostileReport {
                        backend: (*backend).to_owned(),
                        ..HostileReport::default()
                    };
                    let mut batch = 0u64;
                    let mut worst = Growth::default();
                    while Instant::now() < until {
                        let first = base * 1_000_000 + (b as u64) * 100_000 + batch * BATCH as u64;
                        let seeds: Vec<u64> = (first..first + BATCH as u64).collect();
                        match hostile_runs(backend, &seeds, &[], limits) {
                            Ok(r) => {
                                worst.record(&r);
                                merge(&mut total, r);
                            }
                            Err(e) => eprintln!("{backend}: {e}"),
                        }
                        batch += 1;
                    }
                    (total, worst, batch)
                })
            })
            .collect();
        runs.into_iter()
            .map(|r| r.join().expect("a runner"))
            .collect()
    });
    render(&reports, minutes)
}

/// The largest growth of threads, descriptors and RSS seen inside one child (from after its
/// first run to after its last): a leak shows there, whatever the children before it did.
#[derive(Default)]
struct Growth {
    threads: i64,
    fds: i64,
    rss: i64,
}

impl Growth {
    fn record(&mut self, r: &HostileReport) {
        // A child that aborted printed no end figures: nothing to compare.
        if r.threads.1 == 0 {
            return;
        }
        self.threads = self.threads.max(r.threads.1 as i64 - r.threads.0 as i64);
        self.fds = self.fds.max(r.fds.1 as i64 - r.fds.0 as i64);
        self.rss = self.rss.max(r.rss.1 as i64 - r.rss.0 as i64);
    }
}

fn merge(total: &mut HostileReport, r: HostileReport) {
    total.runs += r.runs;
    total.describe += r.describe;
    total.setup += r.setup;
    total.play += r.play;
    total.frames += r.frames;
    total.aborts.extend(r.aborts);
    total.hangs.extend(r.hangs);
    total.slowest_stop_ms = total.slowest_stop_ms.max(r.slowest_stop_ms);
    total.secrets_printed.extend(r.secrets_printed);
    if r.threads.1 != 0 {
        total.threads = r.threads;
        total.fds = r.fds;
        total.rss = r.rss;
    }
}

fn render(reports: &[(HostileReport, Growth, u64)], minutes: f64) -> String {
    let mut out = format!(
        "Every network backend against the hostile camera for {minutes} minutes, all at once \
         (each in child processes of {BATCH} runs; a hang is a stop() over 250 ms). Threads, \
         descriptors and RSS: after the first run of the last child → after its last run; \
         growth: the largest from the first run to the last inside any one child.\n\n\
         | backend | runs | DESCRIBE | SETUP | PLAY | frame | aborts | hangs | slowest stop | \
         secrets printed | threads | descriptors | RSS MB | growth (threads, fds, RSS MB) in \
         children |\n\
         |---|---|---|---|---|---|---|---|---|---|---|---|---|---|\n"
    );
    for (r, growth, children) in reports {
        let pct = |n: u64| format!("{n} ({:.0} %)", 100.0 * r.share(n));
        out.push_str(&format!(
            "| {} | {} | {} | {} | {} | {} | {} | {} | {} ms | {} | {} → {} | {} → {} | {:.1} → {:.1} \
             | {}, {}, {:.1} in {} |\n",
            r.backend,
            r.runs,
            pct(r.describe),
            pct(r.setup),
            pct(r.play),
            pct(r.frames),
            r.aborts.len(),
            r.hangs.len(),
            r.slowest_stop_ms,
            r.secrets_printed.len(),
            r.threads.0,
            r.threads.1,
            r.fds.0,
            r.fds.1,
            r.rss.0 as f64 / 1e6,
            r.rss.1 as f64 / 1e6,
            growth.threads,
            growth.fds,
            growth.rss as f64 / 1e6,
            children,
        ));
    }
    for (r, _, _) in reports {
        for (what, line) in r.secrets_printed.iter().take(3) {
            out.push_str(&format!("\n{}: printed the {what}: {line}", r.backend));
        }
        if !r.aborts.is_empty() {
            out.push_str(&format!("\n{}: aborted on seeds {:?}", r.backend, r.aborts));
        }
        if !r.hangs.is_empty() {
            out.push_str(&format!(
                "\n{}: hangs (seed, ms) {:?}",
                r.backend,
                &r.hangs[..r.hangs.len().min(10)]
            ));
        }
    }
    out
}
