//! `VideoStream`: the predecessor's class, over `rtsp_stream::VideoStream<AnyBackend>`.

use crate::StreamEnded;
use crate::events::{Callbacks, Dispatcher, Message, Outbox};
use crate::frame::{Frame, copy_of};
use crate::notify::Notifier;
use numpy::PyArray3;
use pyo3::exceptions::{PyRuntimeError, PyStopAsyncIteration, PyValueError};
use pyo3::prelude::*;
use pyo3::types::PyDict;
use rtsp_stream::{AnyBackend, EndReason, NextFrame, PixelFormat, Transport, WaitError};
use std::future::Future;
use std::pin::Pin;
use std::sync::{Arc, Mutex, PoisonError, Weak};
use std::task::{Context, Poll};
use std::time::{Duration, Instant};

/// How often a blocking wait comes back to let Python handle signals.
const SIGNAL_CHECK: Duration = Duration::from_millis(50);

/// The streams alive in this process, for [`stop_all`] at exit.
static LIVE: Mutex<Vec<Weak<Live>>> = Mutex::new(Vec::new());

/// One stream and its callback thread.
///
/// Locks: none of them is ever held while Python code runs or while a thread is joined, and a
/// Python thread takes each with the GIL released (`py.detach`), so a callback that calls
/// `stop()` or `start()` while another thread does the same cannot deadlock the interpreter.
/// `lifecycle` orders starts and stops; what they must join (a callback thread) they join
/// after releasing it.
struct Live {
    stream: rtsp_stream::VideoStream<AnyBackend>,
    callbacks: Arc<Callbacks>,
    outbox: Outbox,
    lifecycle: Mutex<()>,
    dispatcher: Mutex<Option<Dispatcher>>,
    /// The last frame `read()` copied, and its copy: read again, it is the same array.
    last_copy: Mutex<Option<(u64, Py<PyArray3<u8>>)>>,
    thread_name: String,
}

impl Live {
    fn stop(&self, py: Python<'_>) {
        // Callbacks first: none runs once this returns.
        let dispatcher = py.detach(|| {
            let _order = lock(&self.lifecycle);
            lock(&self.dispatcher).take()
        });
        if let Some(dispatcher) = dispatcher {
            dispatcher.stop(py);
        }
        py.detach(|| {
            let _order = lock(&self.lifecycle);
            self.stream.stop();
        });
    }

    /// Starts the stream and, with callbacks, its callback thread (stopping the last run's).
    fn start(&self, py: Python<'_>) -> PyResult<()> {
        let (old, failed, started) = py.detach(|| {
            let _order = lock(&self.lifecycle);
            if self.stream.is_running() {
                return (
                    None,
                    None,
                    Err("VideoStream is already running.".to_owned()),
                );
            }
            let old = lock(&self.dispatcher).take();
            let mut dispatcher = None;
            if self.callbacks.any() {
                match Dispatcher::start(
                    &self.outbox,
                    Arc::clone(&self.callbacks),
                    &self.thread_name,
                ) {
                    Ok(d) => dispatcher = Some(d),
                    Err(e) => return (old, None, Err(format!("no callback thread: {e}"))),
                }
            }
            *lock(&self.dispatcher) = dispatcher;
            match self.stream.start() {
                Ok(()) => (old, None, Ok(())),
                Err(e) => (old, lock(&self.dispatcher).take(), Err(e.to_string())),
            }
        });
        for dispatcher in [old, failed].into_iter().flatten() {
            dispatcher.stop(py);
        }
        started.map_err(PyRuntimeError::new_err)
    }
}

fn lock<T>(m: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    m.lock().unwrap_or_else(PoisonError::into_inner)
}

fn seconds(name: &str, value: f64) -> PyResult<Duration> {
    Duration::try_from_secs_f64(value).map_err(|_| {
        PyValueError::new_err(format!(
            "{name} must be a number of seconds ≥ 0, got {value}"
        ))
    })
}

/// A live video source read on a background thread that keeps the newest frame and
/// reconnects by itself. The predecessor's signature and meanings, plus keywords it lacked.
#[pyclass(frozen, weakref, subclass, module = "rtsp_stream_rs._native")]
pub(crate) struct VideoStream {
    live: Arc<Live>,
}

#[pymethods]
impl VideoStream {
    #[new]
    #[pyo3(signature = (
        rtsp_url,
        reconnect_delay = 1.0,
        max_reconnect_attempts = None,
        reconnect_backoff = 1.0,
        max_reconnect_delay = 30.0,
        on_connect = None,
        on_disconnect = None,
        on_reconnect_failure = None,
        cap_backend = None,
        cap_buffer_size = None,
        *,
        stall_timeout = None,
        open_timeout = None,
        transport = None,
        pixel_format = None,
        on_event = None,
        name = None,
    ))]
    #[allow(clippy::too_many_arguments)]
    fn new(
        py: Python<'_>,
        rtsp_url: &str,
        reconnect_delay: f64,
        max_reconnect_attempts: Option<u32>,
        reconnect_backoff: f64,
        max_reconnect_delay: f64,
        on_connect: Option<Py<PyAny>>,
        on_disconnect: Option<Py<PyAny>>,
        on_reconnect_failure: Option<Py<PyAny>>,
        cap_backend: Option<&Bound<'_, PyAny>>,
        cap_buffer_size: Option<u32>,
        stall_timeout: Option<f64>,
        open_timeout: Option<f64>,
        transport: Option<&str>,
        pixel_format: Option<&str>,
        on_event: Option<Py<PyAny>>,
        name: Option<String>,
    ) -> PyResult<Self> {
        let config = match cap_backend {
            Some(backend) => crate::backend::config_of(backend)?,
            None => rtsp_stream::AnyConfig::Auto,
        };
        let callbacks = Arc::new(Callbacks {
            on_connect,
            on_disconnect,
            on_reconnect_failure,
            on_event,
        });
        let outbox = Outbox::default();
        let mut builder = rtsp_stream::VideoStream::<AnyBackend>::builder_with(rtsp_url, config)
            .reconnect_delay(seconds("reconnect_delay", reconnect_delay)?)
            .reconnect_backoff(reconnect_backoff)
            .max_reconnect_delay(seconds("max_reconnect_delay", max_reconnect_delay)?)
            .max_reconnect_attempts(max_reconnect_attempts);
        if let Some(frames) = cap_buffer_size {
            builder = builder.buffer_size(frames);
        }
        if let Some(t) = stall_timeout {
            builder = builder.stall_timeout(seconds("stall_timeout", t)?);
        }
        if let Some(t) = open_timeout {
            builder = builder.open_timeout(seconds("open_timeout", t)?);
        }
        if let Some(t) = transport {
            let t: Transport = t
                .parse()
                .map_err(|e: rtsp_stream::Error| PyValueError::new_err(e.to_string()))?;
            builder = builder.transport(t);
        }
        if let Some(f) = pixel_format {
            builder = builder.pixel_format(match f.to_ascii_lowercase().as_str() {
                "bgr" | "bgr8" => PixelFormat::Bgr8,
                "rgb" | "rgb8" => PixelFormat::Rgb8,
                "gray" | "grey" | "gray8" => PixelFormat::Gray8,
                other => {
                    return Err(PyValueError::new_err(format!(
                        "pixel_format {other:?}: bgr, rgb or gray"
                    )));
                }
            });
        }
        // A thread name cannot hold NUL (its creation would fail): control characters become
        // `_`, as in the library's own thread names.
        let thread_name = match &name {
            Some(name) => format!(
                "rs-{}",
                name.chars()
                    .take(8)
                    .map(|c| if c.is_control() { '_' } else { c })
                    .collect::<String>()
            ),
            None => "rs".to_owned(),
        };
        if let Some(name) = name {
            builder = builder.name(name);
        }
        if callbacks.any() {
            let (a, b, c, d) = (
                outbox.clone(),
                outbox.clone(),
                outbox.clone(),
                outbox.clone(),
            );
            builder = builder
                .on_connect(move || a.send(Message::Connect))
                .on_disconnect(move || b.send(Message::Disconnect))
                .on_reconnect_failure(move || c.send(Message::ReconnectFailure))
                .on_event(move |e| d.send(Message::Event(e.clone())));
        }
        let stream = builder
            .build()
            .map_err(|e| PyValueError::new_err(e.to_string()))?;
        let live = Arc::new(Live {
            stream,
            callbacks,
            outbox,
            lifecycle: Mutex::new(()),
            dispatcher: Mutex::new(None),
            last_copy: Mutex::new(None),
            thread_name,
        });
        py.detach(|| {
            let mut all = lock(&LIVE);
            all.retain(|w| w.strong_count() > 0);
            all.push(Arc::downgrade(&live));
        });
        Ok(VideoStream { live })
    }

    /// Starts the background worker and returns the stream. Raises `RuntimeError` if it runs
    /// already (or its decoder cannot run). A stopped stream can be started again.
    fn start(slf: Py<Self>, py: Python<'_>) -> PyResult<Py<Self>> {
        slf.get().live.start(py)?;
        Ok(slf)
    }

    /// Stops the worker: returns within about 100 ms in every state, also from a callback.
    /// No callback runs after it returns.
    fn stop(&self, py: Python<'_>) {
        self.live.stop(py);
    }

    /// The newest frame as a (height, width, 3) BGR `uint8` array, or `None` before the first
    /// frame and after a drop. With `copy=True` (default) the array is writable and yours,
    /// copied once per new frame: reading the same frame again returns the same array. With
    /// `copy=False` it is a read-only view of the frame's buffer, no copy.
    #[pyo3(signature = (copy = true))]
    fn read(&self, py: Python<'_>, copy: bool) -> PyResult<Option<Py<PyAny>>> {
        let Some(frame) = self.live.stream.read() else {
            return Ok(None);
        };
        if !copy {
            let frame = Bound::new(py, Frame::new(frame))?;
            return Ok(Some(Frame::array_of(frame)?.into_any().unbind()));
        }
        // The cache's lock is never held while Python code may run (the copy allocates an
        // array, which may run a collection): taken for the check, and again for the store.
        let hit = lock(&self.live.last_copy)
            .as_ref()
            .filter(|(seq, _)| *seq == frame.seq())
            .map(|(_, array)| array.clone_ref(py));
        if let Some(array) = hit {
            return Ok(Some(array.into_any()));
        }
        let array = copy_of(py, &frame).unbind();
        let replaced = lock(&self.live.last_copy).replace((frame.seq(), array.clone_ref(py)));
        drop(replaced);
        Ok(Some(array.into_any()))
    }

    /// The newest frame if its `seq` is greater than `after_seq`, else `None`. Never blocks.
    fn read_new(&self, after_seq: u64) -> Option<Frame> {
        self.live.stream.read_new(after_seq).map(Frame::new)
    }

    /// Waits for a frame newer than `after_seq` (seconds `timeout`, `None`: no limit) and
    /// returns it, or `None` at the timeout. Raises `StreamEnded` once the stream has ended
    /// (stopped, gave up, end of the source) and no newer frame is left. Ctrl-C interrupts it.
    #[pyo3(signature = (after_seq = 0, timeout = None))]
    fn wait_next(
        &self,
        py: Python<'_>,
        after_seq: u64,
        timeout: Option<f64>,
    ) -> PyResult<Option<Frame>> {
        // A timeout too long for the clock (1e300, inf) waits without limit; a negative or
        // NaN one is a ValueError.
        let deadline = match timeout {
            Some(t) if t == f64::INFINITY => None,
            Some(t) => match Duration::try_from_secs_f64(t) {
                Ok(d) => Instant::now().checked_add(d),
                Err(_) if t > 0.0 => None,
                Err(_) => {
                    return Err(PyValueError::new_err(format!(
                        "timeout must be a number of seconds ≥ 0 or None, got {t}"
                    )));
                }
            },
            None => None,
        };
        wait(py, &self.live.stream, after_seq, deadline)
    }

    /// The frames one after another: `for frame in stream.frames()` blocks for each new frame
    /// and ends when the stream ends; `async for frame in stream.frames()` does the same
    /// without blocking the event loop.
    fn frames(&self) -> FrameIter {
        FrameIter {
            live: Arc::clone(&self.live),
            after: Mutex::new(0),
            pending: Mutex::new(None),
            notifier: Mutex::new(None),
            end: Mutex::new(None),
        }
    }

    /// Frames per second (the source's, else the measured rate); 0 when not connected.
    #[getter]
    fn fps(&self) -> f64 {
        self.live.stream.fps()
    }

    /// Width of the current picture; 0 when not connected.
    #[getter]
    fn frame_width(&self) -> u32 {
        self.live.stream.frame_width()
    }

    /// Height of the current picture; 0 when not connected.
    #[getter]
    fn frame_height(&self) -> u32 {
        self.live.stream.frame_height()
    }

    /// Whether frames are coming in now.
    #[getter]
    fn is_connected(&self) -> bool {
        self.live.stream.is_connected()
    }

    /// Reconnection attempts made, counted as each is made (the predecessor counted only the
    /// ones that succeeded).
    #[getter]
    fn reconnect_count(&self) -> u64 {
        self.live.stream.reconnect_count()
    }

    /// `"connecting"`, `"streaming"`, `"backing_off"`, `"stopped"`, `"gave_up"`, …
    #[getter]
    fn state(&self) -> &'static str {
        self.live.stream.state().name()
    }

    /// Why the stream ended (`"stopped"`, `"gave up: …"`, `"the source ended"`), or `None`
    /// while it runs.
    #[getter]
    fn end_reason(&self) -> Option<String> {
        self.live.stream.end_reason().map(|r| r.to_string())
    }

    /// The decoder chosen.
    #[getter]
    fn backend(&self) -> &'static str {
        self.live.stream.backend_name()
    }

    /// Statistics: frames, measured fps, reconnections, the last error, threads …
    #[getter]
    fn stats<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyDict>> {
        let s = self.live.stream.stats();
        let d = PyDict::new(py);
        d.set_item("state", s.state.name())?;
        d.set_item("frames_decoded", s.frames_decoded)?;
        d.set_item("last_seq", s.last_seq)?;
        d.set_item("frames_overwritten_unread", s.frames_overwritten_unread)?;
        d.set_item("frames_beyond_pool", s.frames_beyond_pool)?;
        d.set_item("measured_fps", s.measured_fps)?;
        d.set_item("decode_errors", s.decode_errors)?;
        d.set_item("frames_skipped", s.frames_skipped)?;
        d.set_item("reconnects", s.reconnects)?;
        d.set_item("generation", s.generation)?;
        d.set_item("last_error", s.last_error.map(|e| e.to_string()))?;
        d.set_item(
            "since_last_frame",
            s.since_last_frame.map(|t| t.as_secs_f64()),
        )?;
        d.set_item("live_threads", s.live_threads)?;
        d.set_item("detached_threads", s.detached_threads)?;
        d.set_item("backend_panics", s.backend_panics)?;
        d.set_item("messages_coalesced", s.messages_coalesced)?;
        d.set_item("callbacks_lagged", self.live.outbox.lagged())?;
        Ok(d)
    }

    fn __enter__(slf: Py<Self>) -> Py<Self> {
        slf
    }

    #[pyo3(signature = (*_args))]
    fn __exit__(&self, py: Python<'_>, _args: &Bound<'_, pyo3::types::PyTuple>) -> bool {
        self.live.stop(py);
        false
    }

    fn __repr__(&self) -> String {
        format!(
            "VideoStream({}, backend={:?}, state={:?})",
            self.live.stream.source(),
            self.live.stream.backend_name(),
            self.live.stream.state().name()
        )
    }
}

/// Waits in slices of [`SIGNAL_CHECK`] without the GIL, checking for signals between them.
fn wait(
    py: Python<'_>,
    stream: &rtsp_stream::VideoStream<AnyBackend>,
    after_seq: u64,
    deadline: Option<Instant>,
) -> PyResult<Option<Frame>> {
    loop {
        let slice = match deadline {
            Some(d) => d
                .saturating_duration_since(Instant::now())
                .min(SIGNAL_CHECK),
            None => SIGNAL_CHECK,
        };
        match py.detach(|| stream.wait_next(after_seq, slice)) {
            Ok(frame) => return Ok(Some(Frame::new(frame))),
            Err(WaitError::Ended(reason)) => return Err(ended(py, &reason)),
            Err(_) => {
                py.check_signals()?;
                if deadline.is_some_and(|d| Instant::now() >= d) {
                    return Ok(None);
                }
            }
        }
    }
}

fn ended(py: Python<'_>, reason: &EndReason) -> PyErr {
    let error = StreamEnded::new_err(format!("the stream ended: {reason}"));
    let kind = match reason {
        EndReason::Stopped => "stopped",
        EndReason::GaveUp(_) => "gave_up",
        EndReason::Finished => "finished",
        _ => "ended",
    };
    let value = error.value(py);
    let _ = value.setattr("reason", reason.to_string());
    let _ = value.setattr("kind", kind);
    error
}

/// The frames of a stream, from `VideoStream.frames()`: a blocking iterator, and an async
/// one through the package's `Frames` wrapper (`_poll`, `_fileno`, `_drain`).
#[pyclass(frozen, module = "rtsp_stream_rs._native")]
pub(crate) struct FrameIter {
    live: Arc<Live>,
    after: Mutex<u64>,
    /// The pending async wait, kept so that its waker stays registered.
    pending: Mutex<Option<NextFrame>>,
    notifier: Mutex<Option<Notifier>>,
    end: Mutex<Option<String>>,
}

#[pymethods]
impl FrameIter {
    fn __iter__(slf: Py<Self>) -> Py<Self> {
        slf
    }

    fn __next__(&self, py: Python<'_>) -> PyResult<Option<Frame>> {
        if lock(&self.end).is_some() {
            return Ok(None);
        }
        let after = *lock(&self.after);
        match wait(py, &self.live.stream, after, None) {
            Ok(Some(frame)) => {
                *lock(&self.after) = frame.frame.seq();
                Ok(Some(frame))
            }
            Ok(None) => Ok(None),
            Err(e) if e.is_instance_of::<StreamEnded>(py) => {
                *lock(&self.end) = Some(
                    e.value(py)
                        .getattr("reason")
                        .and_then(|r| r.extract())
                        .unwrap_or_default(),
                );
                Ok(None)
            }
            Err(e) => Err(e),
        }
    }

    /// Why the iteration ended, once it has.
    #[getter]
    fn end_reason(&self) -> Option<String> {
        lock(&self.end).clone()
    }

    /// Without blocking: the next frame, or `None` after arming the notifier (its descriptor
    /// becomes readable when a frame comes or the stream ends). Raises `StopAsyncIteration`
    /// at the end.
    fn _poll(&self) -> PyResult<Option<Frame>> {
        let mut notifier = lock(&self.notifier);
        if notifier.is_none() {
            *notifier = Some(Notifier::new().map_err(|e| PyRuntimeError::new_err(e.to_string()))?);
        }
        let waker = notifier.as_ref().expect("made above").waker();
        let mut pending = lock(&self.pending);
        let after = *lock(&self.after);
        let future = pending.get_or_insert_with(|| self.live.stream.next_frame(after));
        match Pin::new(future).poll(&mut Context::from_waker(&waker)) {
            Poll::Pending => Ok(None),
            Poll::Ready(Ok(frame)) => {
                *pending = None;
                *lock(&self.after) = frame.seq();
                Ok(Some(Frame::new(frame)))
            }
            Poll::Ready(Err(reason)) => {
                *pending = None;
                *lock(&self.end) = Some(reason.to_string());
                Err(PyStopAsyncIteration::new_err(reason.to_string()))
            }
        }
    }

    /// The notifier's descriptor (after a first `_poll`).
    fn _fileno(&self) -> PyResult<i32> {
        lock(&self.notifier)
            .as_ref()
            .map(Notifier::fileno)
            .ok_or_else(|| PyRuntimeError::new_err("_poll() first"))
    }

    /// Reads the notifier's pending wake-ups.
    fn _drain(&self) {
        if let Some(n) = lock(&self.notifier).as_ref() {
            n.drain();
        }
    }

    /// Drops the pending wait (the async iteration was cancelled).
    fn _cancel(&self) {
        *lock(&self.pending) = None;
    }
}

/// Stops every stream still alive (the package calls it at exit, so that no library thread
/// outlives the interpreter).
#[pyfunction]
pub(crate) fn stop_all(py: Python<'_>) {
    let live: Vec<Arc<Live>> = py.detach(|| lock(&LIVE).iter().filter_map(Weak::upgrade).collect());
    for stream in live {
        stream.stop(py);
    }
}
