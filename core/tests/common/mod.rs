//! Helpers shared by the core's test binaries: an event recorder, a log capture, waits with
//! deadlines.
#![allow(dead_code)]

use rtsp_stream_core::mock::EventRecorder;
use rtsp_stream_core::{
    Event, ManualClock, MockBackend, MockConfig, MockScript, VideoStream, VideoStreamBuilder,
};
use std::sync::{Mutex, OnceLock};
use std::time::Duration;

/// Generous real-time bound for anything that should happen "now" on a busy machine.
pub const PATIENCE: Duration = Duration::from_secs(10);

/// The public [`EventRecorder`] with this crate's [`PATIENCE`] as every deadline.
#[derive(Clone, Default)]
pub struct EventLog(EventRecorder);

impl EventLog {
    pub fn handler(&self) -> impl Fn(&Event) + Send + Sync + 'static {
        self.0.handler()
    }

    pub fn events(&self) -> Vec<Event> {
        self.0.events()
    }

    pub fn names(&self) -> Vec<&'static str> {
        self.0.names()
    }

    pub fn len(&self) -> usize {
        self.0.len()
    }

    pub fn count(&self, name: &str) -> usize {
        self.0.count(name)
    }

    /// Waits for the first event at index ≥ `from` that matches; returns its index.
    pub fn wait_for_from(
        &self,
        from: usize,
        what: &str,
        pred: impl FnMut(&Event) -> bool,
    ) -> (usize, Event) {
        let (i, _, event) = self.0.wait_for(from, PATIENCE, what, pred);
        (i, event)
    }

    /// Waits for the `n`-th (from 0) event called `name`.
    pub fn wait_nth(&self, name: &str, n: usize) -> Event {
        self.0.wait_nth(name, n, PATIENCE).1
    }

    pub fn wait_for(&self, what: &str, pred: impl FnMut(&Event) -> bool) -> (usize, Event) {
        self.wait_for_from(0, what, pred)
    }
}

/// Takes the `n`-th (from 0) back-off: see [`EventRecorder::advance_past_backoff`].
pub fn take_backoff(log: &EventLog, clock: &ManualClock, n: usize) -> Duration {
    log.0.advance_past_backoff(clock, n, PATIENCE)
}

/// Waits until the supervisor is parked on the clock exactly `after` ahead, then advances.
pub fn advance_when_parked(clock: &ManualClock, after: Duration) {
    assert!(
        clock.advance_when_parked(after, PATIENCE),
        "no sleeper {after:?} ahead; sleepers: {:?}",
        clock.sleepers()
    );
}

/// Polls `cond` until true or `PATIENCE` passes (for state that has no event).
pub fn wait_until(what: &str, cond: impl FnMut() -> bool) {
    rtsp_stream_core::mock::wait_until(PATIENCE, what, cond);
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
