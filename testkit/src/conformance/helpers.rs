//! Helpers of the conformance suite, public for applications' own integration tests.

pub use rtsp_stream_core::mock::{EventRecorder, wait_until};
use std::sync::{Mutex, MutexGuard, PoisonError};
use std::time::{Duration, Instant};

/// Runs network scenarios one at a time within a test binary.
pub fn serial() -> MutexGuard<'static, ()> {
    static LOCK: Mutex<()> = Mutex::new(());
    LOCK.lock().unwrap_or_else(PoisonError::into_inner)
}

/// A `log` logger that writes every record to standard error (for child processes whose
/// whole output is searched for secrets).
#[derive(Debug)]
pub struct StderrLogger;

impl StderrLogger {
    /// Installs it as the process's logger at the most verbose level (once).
    pub fn install() {
        static ME: StderrLogger = StderrLogger;
        if log::set_logger(&ME).is_ok() {
            log::set_max_level(log::LevelFilter::Trace);
        }
    }
}

impl log::Log for StderrLogger {
    fn enabled(&self, _: &log::Metadata<'_>) -> bool {
        true
    }

    fn log(&self, record: &log::Record<'_>) {
        eprintln!("[{} {}] {}", record.level(), record.target(), record.args());
    }

    fn flush(&self) {}
}

/// Samples `snapshot` until it equals `target`, or, without a target, until it has not moved
/// for 20 samples; gives up after `timeout` and returns the last sample. For counts that settle
/// asynchronously (threads ending, descriptors closing).
pub fn settle<T: PartialEq + Copy>(
    snapshot: impl Fn() -> T,
    target: Option<T>,
    timeout: Duration,
) -> T {
    let until = Instant::now() + timeout;
    let mut last = snapshot();
    let mut stable = 0;
    loop {
        if target == Some(last) || (target.is_none() && stable >= 20) || Instant::now() >= until {
            return last;
        }
        std::thread::sleep(Duration::from_millis(25));
        let now = snapshot();
        stable = if now == last { stable + 1 } else { 0 };
        last = now;
    }
}
