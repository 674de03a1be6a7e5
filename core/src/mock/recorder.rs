//! Waiting in tests: an event recorder with deadlines, and polling with a deadline.

use crate::clock::ManualClock;
use crate::error::Error;
use crate::event::Event;
use std::sync::{Arc, Condvar, Mutex, MutexGuard, PoisonError};
use std::time::{Duration, Instant};

/// Records a stream's events (give [`handler`](EventRecorder::handler) to
/// [`on_event`](crate::VideoStreamBuilder::on_event)) and waits for them with deadlines. Clones
/// share the record.
///
/// The `wait_*` methods panic, with the events seen so far, when the deadline passes: they are
/// meant for tests, where that panic is the failure message.
#[derive(Clone, Default)]
pub struct EventRecorder {
    inner: Arc<(Mutex<Vec<Stamped>>, Condvar)>,
}

/// An event with the real time it arrived.
type Stamped = (Instant, Event);

impl std::fmt::Debug for EventRecorder {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("EventRecorder")
            .field("events", &self.names())
            .finish()
    }
}

impl EventRecorder {
    /// A new, empty recorder.
    pub fn new() -> Self {
        Self::default()
    }

    /// The callback to give [`on_event`](crate::VideoStreamBuilder::on_event).
    pub fn handler(&self) -> impl Fn(&Event) + Send + Sync + 'static {
        let me = self.clone();
        move |e: &Event| {
            me.lock().push((Instant::now(), e.clone()));
            me.inner.1.notify_all();
        }
    }

    fn lock(&self) -> MutexGuard<'_, Vec<Stamped>> {
        self.inner.0.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// Every event so far.
    pub fn events(&self) -> Vec<Event> {
        self.lock().iter().map(|(_, e)| e.clone()).collect()
    }

    /// Every event so far, with the real time it arrived.
    pub fn stamped_events(&self) -> Vec<(Instant, Event)> {
        self.lock().clone()
    }

    /// The names of the events so far ([`Event::name`]).
    pub fn names(&self) -> Vec<&'static str> {
        self.lock().iter().map(|(_, e)| e.name()).collect()
    }

    /// How many events called `name` so far.
    pub fn count(&self, name: &str) -> usize {
        self.lock().iter().filter(|(_, e)| e.name() == name).count()
    }

    /// The number of events so far.
    pub fn len(&self) -> usize {
        self.lock().len()
    }

    /// Whether no event arrived yet.
    pub fn is_empty(&self) -> bool {
        self.lock().is_empty()
    }

    /// Waits up to `timeout` (real time) for the `n`-th (from 0) event called `name`, with the
    /// real time it arrived; `None` if it did not come.
    pub fn try_wait_nth(
        &self,
        name: &str,
        n: usize,
        timeout: Duration,
    ) -> Option<(Instant, Event)> {
        self.wait_on(timeout, |events| {
            events
                .iter()
                .filter(|(_, e)| e.name() == name)
                .nth(n)
                .cloned()
        })
    }

    /// Waits up to `timeout` for the `n`-th (from 0) event called `name` and returns it with
    /// the real time it arrived. Panics, listing the events so far, if it does not come.
    pub fn wait_nth(&self, name: &str, n: usize, timeout: Duration) -> (Instant, Event) {
        self.try_wait_nth(name, n, timeout).unwrap_or_else(|| {
            panic!(
                "no {name:?} #{n} within {timeout:?}; events: {:?}",
                self.names()
            )
        })
    }

    /// Waits up to `timeout` for the first event at index `from` or later for which `pred`
    /// holds; returns its index, arrival time and the event. Panics, naming `what` and listing
    /// the events so far, if none comes.
    pub fn wait_for(
        &self,
        from: usize,
        timeout: Duration,
        what: &str,
        mut pred: impl FnMut(&Event) -> bool,
    ) -> (usize, Instant, Event) {
        let found = self.wait_on(timeout, |events| {
            (from..events.len())
                .find(|&i| pred(&events[i].1))
                .map(|i| (i, events[i].0, events[i].1.clone()))
        });
        found.unwrap_or_else(|| panic!("no {what} within {timeout:?}; events: {:?}", self.names()))
    }

    /// Waits up to `timeout` for the stream to give up and returns its error. Panics, listing
    /// the events so far, if it does not.
    pub fn gave_up(&self, timeout: Duration) -> Arc<Error> {
        match self.wait_nth("gave_up", 0, timeout).1 {
            Event::GaveUp { error } => error,
            other => unreachable!("{other:?}"),
        }
    }

    /// Takes the `n`-th (from 0) back-off on a [`ManualClock`]: waits for its
    /// [`BackingOff`](Event::BackingOff) event, then until the stream is parked on the clock
    /// exactly that delay ahead, then advances the clock by it. Returns the delay.
    ///
    /// This is the reliable way through a back-off: advancing to whatever the stream sleeps on
    /// next ([`ManualClock::advance_to_next_sleeper`]) can land on a connection attempt's open
    /// deadline instead, when the attempt is still under way. Panics if the event or the
    /// parked stream does not come within `timeout`.
    pub fn advance_past_backoff(
        &self,
        clock: &ManualClock,
        n: usize,
        timeout: Duration,
    ) -> Duration {
        let Event::BackingOff { delay, .. } = self.wait_nth("backing_off", n, timeout).1 else {
            unreachable!("wait_nth returns the event named backing_off")
        };
        assert!(
            clock.advance_when_parked(delay, timeout),
            "the stream did not park {delay:?} ahead within {timeout:?}; sleepers: {:?}",
            clock.sleepers()
        );
        delay
    }

    /// Waits up to `timeout` until `found` returns something for the events so far.
    fn wait_on<T>(
        &self,
        timeout: Duration,
        mut found: impl FnMut(&[Stamped]) -> Option<T>,
    ) -> Option<T> {
        let until = Instant::now() + timeout;
        let mut events = self.lock();
        loop {
            if let Some(answer) = found(&events) {
                return Some(answer);
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
}

/// Every frame `stream` publishes in the next `span` after sequence number `after`, each read
/// as it comes (a reader that falls behind misses some, as any reader would).
pub fn frames_for<B: crate::CaptureBackend>(
    stream: &crate::VideoStream<B>,
    after: u64,
    span: Duration,
) -> Vec<std::sync::Arc<crate::Frame>> {
    let end = Instant::now() + span;
    let mut seq = after;
    let mut frames = Vec::new();
    while let Some(left) = end.checked_duration_since(Instant::now()) {
        if let Ok(frame) = stream.wait_next(seq, left) {
            seq = frame.seq();
            frames.push(frame);
        }
    }
    frames
}

/// Polls `cond` until it holds, panicking with `what` if `timeout` (real time) passes first:
/// for conditions that have no event to wait on (a state, a counter). Polls every 0.1–10 ms.
pub fn wait_until(timeout: Duration, what: &str, mut cond: impl FnMut() -> bool) {
    let until = Instant::now() + timeout;
    let mut pause = Duration::from_micros(100);
    while !cond() {
        assert!(
            Instant::now() < until,
            "timed out after {timeout:?} waiting until {what}"
        );
        std::thread::sleep(pause);
        pause = (pause * 2).min(Duration::from_millis(10));
    }
}
