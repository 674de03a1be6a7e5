//! Helpers shared by the core's test binaries: an event recorder, a log capture, waits with
//! deadlines.
#![allow(dead_code)]

use rtsp_stream_core::{
    Event, ManualClock, MockBackend, MockConfig, MockScript, VideoStream, VideoStreamBuilder,
};
use std::sync::{Arc, Condvar, Mutex, OnceLock};
use std::time::{Duration, Instant};

/// Generous real-time bound for anything that should happen "now" on a busy machine.
pub const PATIENCE: Duration = Duration::from_secs(10);

/// Records every event of a stream and lets a test wait for one.
#[derive(Clone, Default)]
pub struct EventLog {
    inner: Arc<(Mutex<Vec<Event>>, Condvar)>,
}

impl EventLog {
    pub fn handler(&self) -> impl Fn(&Event) + Send + Sync + 'static {
        let log = self.clone();
        move |e: &Event| {
            log.inner.0.lock().unwrap().push(e.clone());
            log.inner.1.notify_all();
        }
    }

    pub fn events(&self) -> Vec<Event> {
        self.inner.0.lock().unwrap().clone()
    }

    pub fn names(&self) -> Vec<&'static str> {
        self.events().iter().map(|e| e.name()).collect()
    }

    pub fn len(&self) -> usize {
        self.inner.0.lock().unwrap().len()
    }

    /// Waits for the first event at index ≥ `from` that matches; returns its index.
    pub fn wait_for_from(
        &self,
        from: usize,
        what: &str,
        mut pred: impl FnMut(&Event) -> bool,
    ) -> (usize, Event) {
        let until = Instant::now() + PATIENCE;
        let mut events = self.inner.0.lock().unwrap();
        loop {
            if let Some(i) = (from..events.len()).find(|&i| pred(&events[i])) {
                return (i, events[i].clone());
            }
            let now = Instant::now();
            assert!(
                now < until,
                "timed out waiting for {what}; events so far: {:?}",
                events.iter().map(|e| e.name()).collect::<Vec<_>>()
            );
            events = self.inner.1.wait_timeout(events, until - now).unwrap().0;
        }
    }

    /// Waits for the `n`-th (from 0) event called `name`.
    pub fn wait_nth(&self, name: &str, n: usize) -> Event {
        let until = Instant::now() + PATIENCE;
        let mut events = self.inner.0.lock().unwrap();
        loop {
            if let Some(e) = events.iter().filter(|e| e.name() == name).nth(n) {
                return e.clone();
            }
            let now = Instant::now();
            assert!(
                now < until,
                "timed out waiting for {name} #{n}; events so far: {:?}",
                events.iter().map(|e| e.name()).collect::<Vec<_>>()
            );
            events = self.inner.1.wait_timeout(events, until - now).unwrap().0;
        }
    }

    pub fn wait_for(&self, what: &str, pred: impl FnMut(&Event) -> bool) -> (usize, Event) {
        self.wait_for_from(0, what, pred)
    }

    pub fn count(&self, name: &str) -> usize {
        self.names().iter().filter(|n| **n == name).count()
    }
}

/// Waits for the `n`-th (from 0) back-off, checks that the supervisor is parked on the clock
/// exactly that far ahead, and advances the clock by it. Returns the delay.
pub fn take_backoff(log: &EventLog, clock: &ManualClock, n: usize) -> Duration {
    let Event::BackingOff { delay, .. } = log.wait_nth("backing_off", n) else {
        unreachable!()
    };
    assert!(
        clock.wait_for_sleeper_after(delay, PATIENCE),
        "no sleeper {delay:?} ahead; sleepers: {:?}",
        clock.sleepers()
    );
    clock.advance(delay);
    delay
}

/// Waits until the supervisor is parked on the clock exactly `after` ahead, then advances.
pub fn advance_when_parked(clock: &ManualClock, after: Duration) {
    assert!(
        clock.wait_for_sleeper_after(after, PATIENCE),
        "no sleeper {after:?} ahead; sleepers: {:?}",
        clock.sleepers()
    );
    clock.advance(after);
}

/// Polls `cond` until true or `PATIENCE` passes (for state that has no event).
pub fn wait_until(what: &str, mut cond: impl FnMut() -> bool) {
    let until = Instant::now() + PATIENCE;
    let mut pause = Duration::from_micros(100);
    while !cond() {
        assert!(Instant::now() < until, "timed out waiting until {what}");
        std::thread::sleep(pause);
        pause = (pause * 2).min(Duration::from_millis(10));
    }
}

/// A builder on a manual clock with an event log attached.
pub fn mock_stream(
    script: &MockScript,
    clock: &ManualClock,
    log: &EventLog,
) -> VideoStreamBuilder<MockBackend> {
    VideoStream::<MockBackend>::builder_with("mock://camera/1", MockConfig::new(script.clone()))
        .clock(clock.clone())
        .on_event(log.handler())
}

/// Every log line written by the library in this process.
pub fn captured_logs() -> Vec<String> {
    LOGGER
        .get()
        .map(|l| l.lines.lock().unwrap().clone())
        .unwrap_or_default()
}

pub fn install_log_capture() {
    LOGGER.get_or_init(|| {
        let logger: &'static Capture = Box::leak(Box::new(Capture {
            lines: Mutex::new(Vec::new()),
        }));
        log::set_logger(logger).expect("no other logger");
        log::set_max_level(log::LevelFilter::Trace);
        logger
    });
}

static LOGGER: OnceLock<&'static Capture> = OnceLock::new();

pub struct Capture {
    lines: Mutex<Vec<String>>,
}

impl log::Log for Capture {
    fn enabled(&self, _: &log::Metadata) -> bool {
        true
    }
    fn log(&self, record: &log::Record) {
        self.lines.lock().unwrap().push(format!(
            "{} {} {}",
            record.level(),
            record.target(),
            record.args()
        ));
    }
    fn flush(&self) {}
}
