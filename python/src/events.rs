//! Callbacks: each stream's events reach Python on one thread of the stream's own, which
//! takes the GIL, calls the callbacks one at a time and logs (and survives) any exception.
//! The library's threads only queue a message; after `stop()` nothing more is called.

use pyo3::prelude::*;
use std::collections::VecDeque;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Condvar, Mutex, PoisonError};
use std::thread::{JoinHandle, ThreadId};

/// What the stream tells its callback thread.
pub(crate) enum Message {
    Connect,
    Disconnect,
    ReconnectFailure,
    Event(rtsp_stream::Event),
    Quit,
}

impl Message {
    /// Whether it is a change of the stream's state, which is never dropped alone.
    fn is_state_change(&self) -> bool {
        use rtsp_stream::Event as E;
        matches!(
            self,
            Message::Connect
                | Message::Disconnect
                | Message::ReconnectFailure
                | Message::Quit
                | Message::Event(
                    E::Connected { .. }
                        | E::Disconnected { .. }
                        | E::GaveUp { .. }
                        | E::Stopped
                        | E::EndOfStream
                )
        )
    }

    fn is_event(&self, connected: bool) -> bool {
        use rtsp_stream::Event as E;
        match self {
            Message::Event(E::Connected { .. }) => connected,
            Message::Event(E::Disconnected { .. }) => !connected,
            _ => false,
        }
    }
}

/// The Python callables of a stream.
#[derive(Default)]
pub(crate) struct Callbacks {
    pub(crate) on_connect: Option<Py<PyAny>>,
    pub(crate) on_disconnect: Option<Py<PyAny>>,
    pub(crate) on_reconnect_failure: Option<Py<PyAny>>,
    pub(crate) on_event: Option<Py<PyAny>>,
}

impl Callbacks {
    pub(crate) fn any(&self) -> bool {
        self.on_connect.is_some()
            || self.on_disconnect.is_some()
            || self.on_reconnect_failure.is_some()
            || self.on_event.is_some()
    }
}

/// Where the library's callbacks put their messages: the queue of the current run's callback
/// thread, if one runs.
#[derive(Clone, Default)]
pub(crate) struct Outbox {
    current: Arc<Mutex<Option<Arc<Queue>>>>,
    /// Messages given up in all runs (for the stream's stats).
    given_up: Arc<AtomicU64>,
}

impl Outbox {
    pub(crate) fn send(&self, message: Message) {
        let queue = self
            .current
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .clone();
        if let Some(queue) = queue {
            let given_up = queue.push(message);
            self.given_up.fetch_add(given_up, Ordering::Relaxed);
        }
    }

    /// Messages given up in all runs.
    pub(crate) fn lagged(&self) -> u64 {
        self.given_up.load(Ordering::Relaxed)
    }
}

/// One run's messages waiting for its callback thread, at most [`Queue::CAPACITY`]: a
/// callback that takes long (or never returns) cannot make the queue grow without end, and
/// the library's threads never wait for it. When it is full, the oldest event that is not a
/// state change gives way; if there is none, the oldest connection that came and went while
/// the callbacks were behind (its `Connected` … `Disconnected`) is merged away. State changes
/// are never dropped otherwise. Every message given up is counted, and `on_event` receives a
/// `lagged` event with the count before the next message.
#[derive(Default)]
pub(crate) struct Queue {
    messages: Mutex<VecDeque<Message>>,
    arrived: Condvar,
    /// Messages given up since the last `lagged` event.
    lagged: AtomicU64,
}

impl Queue {
    /// Messages kept while the callback thread is behind.
    pub(crate) const CAPACITY: usize = 256;

    /// Queues `message`; returns how many older ones were given up for it.
    fn push(&self, message: Message) -> u64 {
        let mut messages = self.messages.lock().unwrap_or_else(PoisonError::into_inner);
        let given_up = if messages.len() >= Self::CAPACITY {
            make_room(&mut messages)
        } else {
            0
        };
        messages.push_back(message);
        drop(messages);
        self.lagged.fetch_add(given_up, Ordering::Relaxed);
        self.arrived.notify_one();
        given_up
    }

    fn next(&self) -> Message {
        let mut messages = self.messages.lock().unwrap_or_else(PoisonError::into_inner);
        loop {
            if let Some(message) = messages.pop_front() {
                return message;
            }
            messages = self
                .arrived
                .wait(messages)
                .unwrap_or_else(PoisonError::into_inner);
        }
    }

    fn quit(&self) {
        let mut messages = self.messages.lock().unwrap_or_else(PoisonError::into_inner);
        messages.clear();
        messages.push_back(Message::Quit);
        drop(messages);
        self.arrived.notify_all();
    }
}

/// Frees at least one place in a full queue; returns how many messages were given up: the
/// oldest event that is not a state change, else the oldest whole connection that came and
/// went (its `Connected` … `Disconnected` and what lies between, `on_connect` and
/// `on_disconnect` included), so the states the callbacks see still alternate.
fn make_room(queue: &mut VecDeque<Message>) -> u64 {
    if let Some(i) = queue.iter().position(|m| !m.is_state_change()) {
        queue.remove(i);
        return 1;
    }
    let Some(start) = queue.iter().position(|m| m.is_event(true)) else {
        return 0;
    };
    let Some(end) = queue.iter().skip(start).position(|m| m.is_event(false)) else {
        return 0;
    };
    // The connection's own `on_disconnect` follows its `Disconnected` event.
    let mut end = start + end;
    if matches!(queue.get(end + 1), Some(Message::Disconnect)) {
        end += 1;
    }
    queue.drain(start..=end);
    (end - start + 1) as u64
}

/// One run's callback thread.
pub(crate) struct Dispatcher {
    outbox: Outbox,
    queue: Arc<Queue>,
    active: Arc<AtomicBool>,
    handle: Option<JoinHandle<()>>,
}

impl Dispatcher {
    /// Starts the thread for a run and makes its queue the outbox's; `active` is set until
    /// [`stop`](Self::stop). Needs neither the GIL nor any lock.
    pub(crate) fn start(
        outbox: &Outbox,
        callbacks: Arc<Callbacks>,
        name: &str,
    ) -> std::io::Result<Dispatcher> {
        let active = Arc::new(AtomicBool::new(true));
        let queue = Arc::new(Queue::default());
        let handle = {
            let (active, queue) = (Arc::clone(&active), Arc::clone(&queue));
            std::thread::Builder::new()
                .name(format!("{name}-py"))
                .spawn(move || run(&queue, &callbacks, &active))?
        };
        *outbox
            .current
            .lock()
            .unwrap_or_else(PoisonError::into_inner) = Some(Arc::clone(&queue));
        Ok(Dispatcher {
            outbox: outbox.clone(),
            queue,
            active,
            handle: Some(handle),
        })
    }

    /// No callback runs after this returns (the callback thread checks `active` with the GIL
    /// held, which this holds while it clears it). The thread ends by itself; it is joined
    /// without the GIL and without any lock of ours, unless this is it (`stop()` from a
    /// callback).
    pub(crate) fn stop(mut self, py: Python<'_>) {
        self.active.store(false, Ordering::Release);
        let handle = self.handle.take();
        let (outbox, queue) = (self.outbox.clone(), Arc::clone(&self.queue));
        py.detach(move || {
            let mut current = outbox
                .current
                .lock()
                .unwrap_or_else(PoisonError::into_inner);
            if current.as_ref().is_some_and(|q| Arc::ptr_eq(q, &queue)) {
                *current = None;
            }
            drop(current);
            queue.quit();
            if let Some(handle) = handle
                && handle.thread().id() != current_thread()
            {
                let _ = handle.join();
            }
        });
    }
}

fn current_thread() -> ThreadId {
    std::thread::current().id()
}

fn run(queue: &Queue, callbacks: &Callbacks, active: &AtomicBool) {
    loop {
        let message = queue.next();
        if matches!(message, Message::Quit) {
            return;
        }
        let lagged = queue.lagged.swap(0, Ordering::Relaxed);
        Python::attach(|py| {
            if !active.load(Ordering::Acquire) {
                return;
            }
            if lagged > 0 {
                call(
                    py,
                    "on_event",
                    &callbacks.on_event,
                    Some(Event::lagged(lagged)),
                );
            }
            let (name, callable, event) = match &message {
                Message::Connect => ("on_connect", &callbacks.on_connect, None),
                Message::Disconnect => ("on_disconnect", &callbacks.on_disconnect, None),
                Message::ReconnectFailure => (
                    "on_reconnect_failure",
                    &callbacks.on_reconnect_failure,
                    None,
                ),
                Message::Event(event) => {
                    ("on_event", &callbacks.on_event, Some(Event::from(event)))
                }
                Message::Quit => return,
            };
            call(py, name, callable, event);
        });
    }
}

/// Calls one callback (with the event, for `on_event`); an exception is logged.
fn call(py: Python<'_>, name: &str, callable: &Option<Py<PyAny>>, event: Option<Event>) {
    let Some(callable) = callable else {
        return;
    };
    let result = match event {
        None => callable.call0(py),
        Some(event) => Py::new(py, event).and_then(|e| callable.call1(py, (e,))),
    };
    if let Err(error) = result {
        report(py, name, &error);
    }
}

/// Logs a callback's exception with its traceback under the logger `rtsp_stream`.
fn report(py: Python<'_>, name: &str, error: &PyErr) {
    let logged = py.import("logging").and_then(|logging| {
        let logger = logging.call_method1("getLogger", ("rtsp_stream",))?;
        let kwargs = pyo3::types::PyDict::new(py);
        kwargs.set_item("exc_info", error.value(py))?;
        logger.call_method(
            "error",
            ("callback %s raised; the stream goes on", name),
            Some(&kwargs),
        )
    });
    if logged.is_err() {
        error.print(py);
    }
}

/// An event of the stream, passed to `on_event`. `kind` names it (`"connecting"`,
/// `"connected"`, `"first_frame"`, `"stalled"`, `"disconnected"`, `"backing_off"`,
/// `"gave_up"`, `"resolution_changed"`, `"transport_fallback"`, `"lagged"`, `"end_of_stream"`,
/// `"stopped"`); the other attributes are set where the kind has them, else `None`.
#[pyclass(frozen, get_all, module = "rtsp_stream_rs._native")]
pub(crate) struct Event {
    kind: &'static str,
    attempt: Option<u32>,
    generation: Option<u64>,
    width: Option<u32>,
    height: Option<u32>,
    fps: Option<f64>,
    /// Seconds: how long after connecting the first frame came, or how long no frame came.
    after: Option<f64>,
    failures: Option<u32>,
    /// Seconds until the next attempt.
    delay: Option<f64>,
    /// Why the feed dropped or the stream gave up (never with a password).
    reason: Option<String>,
    /// How many messages were given up (`lagged`: callbacks fell behind, or the stream's
    /// own messages came faster than it took them).
    dropped: Option<u64>,
}

impl Event {
    fn lagged(dropped: u64) -> Event {
        Event {
            dropped: Some(dropped),
            ..Event::of_kind("lagged")
        }
    }

    fn of_kind(kind: &'static str) -> Event {
        Event {
            kind,
            attempt: None,
            generation: None,
            width: None,
            height: None,
            fps: None,
            after: None,
            failures: None,
            delay: None,
            reason: None,
            dropped: None,
        }
    }
}

impl From<&rtsp_stream::Event> for Event {
    fn from(event: &rtsp_stream::Event) -> Self {
        use rtsp_stream::{Event as E, Notice};
        let mut out = Event::of_kind(event.name());
        match event {
            E::Connecting { attempt, .. } => out.attempt = Some(*attempt),
            E::Connected {
                props, generation, ..
            } => {
                out.generation = Some(*generation);
                (out.width, out.height, out.fps) =
                    (Some(props.width), Some(props.height), props.fps);
            }
            E::ResolutionChanged { props, .. } => {
                (out.width, out.height, out.fps) =
                    (Some(props.width), Some(props.height), props.fps);
            }
            E::FirstFrame {
                width,
                height,
                after,
                ..
            } => {
                (out.width, out.height) = (Some(*width), Some(*height));
                out.after = Some(after.as_secs_f64());
            }
            E::Stalled { after, .. } => out.after = Some(after.as_secs_f64()),
            E::Disconnected { reason, .. } => out.reason = Some(reason.to_string()),
            E::BackingOff {
                failures, delay, ..
            } => {
                out.failures = Some(*failures);
                out.delay = Some(delay.as_secs_f64());
            }
            E::GaveUp { error, .. } => out.reason = Some(error.to_string()),
            E::Notice(Notice::TransportFallback { from, to, .. }) => {
                out.reason = Some(format!("the server refused {from}, using {to}"));
            }
            E::Notice(Notice::Lagged { merged }) => out.dropped = Some(*merged),
            _ => {}
        }
        out
    }
}

#[pymethods]
impl Event {
    fn __repr__(&self) -> String {
        let mut parts = vec![format!("kind={:?}", self.kind)];
        let mut add = |name: &str, value: Option<String>| {
            if let Some(v) = value {
                parts.push(format!("{name}={v}"));
            }
        };
        add("attempt", self.attempt.map(|v| v.to_string()));
        add("generation", self.generation.map(|v| v.to_string()));
        add("width", self.width.map(|v| v.to_string()));
        add("height", self.height.map(|v| v.to_string()));
        add("fps", self.fps.map(|v| format!("{v:.1}")));
        add("after", self.after.map(|v| format!("{v:.3}")));
        add("failures", self.failures.map(|v| v.to_string()));
        add("delay", self.delay.map(|v| format!("{v:.3}")));
        add("reason", self.reason.as_ref().map(|v| format!("{v:?}")));
        add("dropped", self.dropped.map(|v| v.to_string()));
        format!("Event({})", parts.join(", "))
    }
}
