//! Helpers of the conformance suite, public for applications' own integration tests.

use rtsp_stream_core::{Error, Event};
use std::sync::{Arc, Condvar, Mutex, MutexGuard, PoisonError};
use std::time::{Duration, Instant};

/// Runs network scenarios one at a time within a test binary.
pub fn serial() -> MutexGuard<'static, ()> {
    static LOCK: Mutex<()> = Mutex::new(());
    LOCK.lock().unwrap_or_else(PoisonError::into_inner)
}

/// Records a stream's events (pass [`handler`](EventRecorder::handler) to `on_event`) and
/// waits for them with deadlines.
#[derive(Clone, Default)]
pub struct EventRecorder {
    inner: Arc<(Mutex<Vec<Stamped>>, Condvar)>,
}

/// An event with the real time it arrived.
type Stamped = (Instant, Event);

impl EventRecorder {
    /// A new, empty recorder.
    pub fn new() -> Self {
        Self::default()
    }

    /// The callback to give `VideoStreamBuilder::on_event`.
    pub fn handler(&self) -> impl Fn(&Event) + Send + Sync + 'static {
        let me = self.clone();
        move |e: &Event| {
            me.lock().push((Instant::now(), e.clone()));
            me.inner.1.notify_all();
        }
    }

    fn lock(&self) -> MutexGuard<'_, Vec<(Instant, Event)>> {
        self.inner.0.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// Every event so far, with the real time it arrived.
    pub fn events(&self) -> Vec<(Instant, Event)> {
        self.lock().clone()
    }

    /// The names of the events so far.
    pub fn names(&self) -> Vec<&'static str> {
        self.lock().iter().map(|(_, e)| e.name()).collect()
    }

    /// How many events called `name` so far.
    pub fn count(&self, name: &str) -> usize {
        self.lock().iter().filter(|(_, e)| e.name() == name).count()
    }

    /// Waits up to `timeout` for the `n`-th (from 0) event called `name`; panics with the
    /// events so far if it does not come.
    pub fn wait_nth(&self, name: &str, n: usize, timeout: Duration) -> (Instant, Event) {
        self.try_wait_nth(name, n, timeout).unwrap_or_else(|| {
            panic!(
                "no {name:?} #{n} within {timeout:?}; events: {:?}",
                self.names()
            )
        })
    }

    /// Like [`wait_nth`](Self::wait_nth), returning `None` on time-out.
    pub fn try_wait_nth(
        &self,
        name: &str,
        n: usize,
        timeout: Duration,
    ) -> Option<(Instant, Event)> {
        let until = Instant::now() + timeout;
        let mut events = self.lock();
        loop {
            if let Some(found) = events.iter().filter(|(_, e)| e.name() == name).nth(n) {
                return Some(found.clone());
            }
            let now = Instant::now();
            if now >= until {
                return None;
            }
            events = self
                .inner
                .1
                .wait_timeout(events, until - now)
                .unwrap_or_else(PoisonError::into_inner)
                .0;
        }
    }

    /// Waits up to `timeout` for the stream to give up and returns its error; panics with the
    /// events so far if it does not.
    pub fn gave_up(&self, timeout: Duration) -> Arc<Error> {
        match self.wait_nth("gave_up", 0, timeout).1 {
            Event::GaveUp { error } => error,
            other => unreachable!("{other:?}"),
        }
    }

    /// Waits up to `timeout` for the first event at or after index `from` that matches.
    pub fn wait_for(
        &self,
        from: usize,
        timeout: Duration,
        what: &str,
        mut pred: impl FnMut(&Event) -> bool,
    ) -> (usize, Instant, Event) {
        let until = Instant::now() + timeout;
        let mut events = self.lock();
        loop {
            if let Some(i) = (from..events.len()).find(|&i| pred(&events[i].1)) {
                return (i, events[i].0, events[i].1.clone());
            }
            let now = Instant::now();
            assert!(
                now < until,
                "no {what} within {timeout:?}; events: {:?}",
                events.iter().map(|(_, e)| e.name()).collect::<Vec<_>>()
            );
            events = self
                .inner
                .1
                .wait_timeout(events, until - now)
                .unwrap_or_else(PoisonError::into_inner)
                .0;
        }
    }

    /// The number of events so far.
    pub fn len(&self) -> usize {
        self.lock().len()
    }

    /// Whether no event arrived yet.
    pub fn is_empty(&self) -> bool {
        self.lock().is_empty()
    }
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

/// Polls `cond` until it holds, panicking with `what` if `timeout` passes first (for
/// conditions that have no event to wait on).
pub fn wait_until(timeout: Duration, what: &str, mut cond: impl FnMut() -> bool) {
    let until = Instant::now() + timeout;
    let mut pause = Duration::from_millis(1);
    while !cond() {
        assert!(
            Instant::now() < until,
            "timed out after {timeout:?} waiting until {what}"
        );
        std::thread::sleep(pause);
        pause = (pause * 2).min(Duration::from_millis(20));
    }
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
