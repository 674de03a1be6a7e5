//! The capture thread: open, read, publish, close.

use super::Shared;
use crate::backend::{Capture, CaptureBackend, ReadStatus};
use crate::context::CaptureContext;
use crate::error::{Error, ErrorKind};
use crate::frame::{FrameSink, StreamProps, check_frame_size};
use crate::panic::panic_text;
use crate::pool::Lent;
use crate::wake::WakeSignal;
use std::panic::{AssertUnwindSafe, catch_unwind};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, PoisonError};

/// Messages from the capture thread to the supervisor.
pub(crate) enum Message {
    /// The source opened: its props, and the connection's generation.
    Opened(StreamProps, u64),
    /// The first frame of the connection arrived; the props carry its real size.
    FirstFrame(StreamProps),
    Resized(StreamProps),
    /// The connection failed. `deadline_passed`: the phase's deadline had passed when the
    /// backend returned, which is why it returned.
    Failed {
        error: Error,
        deadline_passed: bool,
    },
    EndOfStream,
}

/// The mailbox from a capture thread to the supervisor. Only rare things go through it
/// (opened, first frame, resize, the end); frames go straight to the slot.
///
/// Bounded without ever blocking the capture thread or losing a state change: a connection
/// posts at most one `Opened`, one `FirstFrame` and one end, and a resize waiting to be taken
/// is replaced by a newer one (counted), so the box never holds more than four messages
/// however fast a camera changes its picture size.
pub(crate) struct Link {
    messages: Mutex<(Vec<Message>, u64)>,
    exited: AtomicBool,
    supervisor: WakeSignal,
}

impl Link {
    pub(crate) fn new(supervisor: WakeSignal) -> Self {
        Link {
            messages: Mutex::new((Vec::new(), 0)),
            exited: AtomicBool::new(false),
            supervisor,
        }
    }

    fn post(&self, message: Message) {
        let mut queue = self.messages.lock().unwrap_or_else(PoisonError::into_inner);
        let (messages, merged) = &mut *queue;
        let waiting_resize = matches!(message, Message::Resized(_))
            .then(|| {
                messages
                    .iter()
                    .position(|m| matches!(m, Message::Resized(_)))
            })
            .flatten();
        match waiting_resize {
            Some(i) => {
                messages[i] = message;
                *merged += 1;
            }
            None => messages.push(message),
        }
        drop(queue);
        self.supervisor.wake();
    }

    /// The messages posted since the last call, and how many were merged meanwhile.
    pub(crate) fn take_messages(&self) -> (Vec<Message>, u64) {
        std::mem::take(&mut *self.messages.lock().unwrap_or_else(PoisonError::into_inner))
    }

    pub(crate) fn exited(&self) -> bool {
        self.exited.load(Ordering::Acquire)
    }
}

/// Marks the link exited when the capture thread ends, by return or by panic.
struct ExitMark<'a>(&'a Link);

impl Drop for ExitMark<'_> {
    fn drop(&mut self) {
        self.0.exited.store(true, Ordering::Release);
        self.0.supervisor.wake();
    }
}

pub(crate) fn run<B: CaptureBackend>(
    shared: &Shared,
    config: &B::Config,
    ctx: &CaptureContext,
    link: &Link,
    run: u64,
    session_id: u64,
) {
    let _mark = ExitMark(link);
    let outcome = catch_unwind(AssertUnwindSafe(|| {
        session::<B>(shared, config, ctx, link, run, session_id)
    }));
    if let Err(payload) = outcome {
        // A transient failure like any other: the stream backs off and tries again.
        shared
            .counters
            .backend_panics
            .fetch_add(1, Ordering::Relaxed);
        let message = format!("the backend panicked: {}", panic_text(&*payload));
        log::error!(target: crate::LOG_TARGET, "stream {}: {message}", shared.label);
        link.post(Message::Failed {
            error: Error::new(ErrorKind::Other, shared.backend, message),
            deadline_passed: false,
        });
    }
}

fn session<B: CaptureBackend>(
    shared: &Shared,
    config: &B::Config,
    ctx: &CaptureContext,
    link: &Link,
    run: u64,
    session_id: u64,
) {
    let Some((capture, generation)) = open::<B>(shared, config, ctx, link, run, session_id) else {
        return;
    };
    ctx.set_deadline_in(shared.request.options.first_frame_timeout);
    let mut connection = Connection::<B> {
        shared,
        ctx,
        link,
        run,
        session_id,
        generation,
        capture,
        size: None,
    };
    // The pool moves with the thread that uses it; a thread left behind keeps its pool and the
    // next connection starts a new one.
    let mut pool = shared.take_pool();
    loop {
        let mut lent = pool.take();
        let published = connection.read_and_publish(&mut lent);
        let len = lent.frame.data.len();
        pool.give_back(lent);
        match published {
            Some(true) => pool.size_known(len),
            Some(false) => {}
            None => break,
        }
    }
    capture_close::<B>(connection.capture, ctx);
    shared.return_pool(pool);
}

/// Opens the source and makes the connection visible (props, state, generation); `None` when
/// it failed (the failure posted) or nobody waits for it any more.
fn open<B: CaptureBackend>(
    shared: &Shared,
    config: &B::Config,
    ctx: &CaptureContext,
    link: &Link,
    run: u64,
    session_id: u64,
) -> Option<(B::Capture, u64)> {
    let opts = &shared.request.options;
    ctx.set_deadline_in(opts.open_timeout);
    let opened = shared
        .request
        .source()
        .check()
        .and_then(|()| B::open(config, &shared.request, ctx));
    let capture = match opened {
        Ok(capture) => capture,
        Err(error) => {
            if !ctx.is_cancelled() {
                link.post(failed(shared, ctx, error));
            }
            return None;
        }
    };
    let props = capture.props();
    // A picture too large is refused before the decoder allocates for it, where its size is
    // known this early.
    if let Err(error) = check_frame_size(props.width, props.height, opts.max_frame_pixels) {
        link.post(failed(shared, ctx, error));
        return None;
    }
    // Before the first frame can be published: a reader that sees a frame must also see the
    // stream connected, with its props, not wait for the supervisor to catch up. This thread
    // is the only writer of the props, so they never go back to an older picture size. The
    // connection gets its generation here: generations count connections that opened.
    let opened = shared.slot.if_session_active(run, session_id, || {
        shared.props.store(Some(Arc::new(props.clone())));
        shared.set_state_unchecked(crate::stats::State::Streaming);
        shared.counters.generation.fetch_add(1, Ordering::Relaxed) + 1
    });
    let Some(generation) = opened else {
        // Muted meanwhile (stopped, or given up on): nobody waits for this connection.
        capture_close::<B>(capture, ctx);
        return None;
    };
    link.post(Message::Opened(props, generation));
    Some((capture, generation))
}

fn capture_close<B: CaptureBackend>(mut capture: B::Capture, ctx: &CaptureContext) {
    capture.close(ctx);
}

/// One open connection, as its capture thread runs it.
struct Connection<'a, B: CaptureBackend> {
    shared: &'a Shared,
    ctx: &'a CaptureContext,
    link: &'a Link,
    run: u64,
    /// The attempt this connection was opened by: what the slot lets publish.
    session_id: u64,
    /// The connection's number among those that opened, stamped on its frames.
    generation: u64,
    capture: B::Capture,
    /// The size of the frames published so far.
    size: Option<(u32, u32)>,
}

impl<B: CaptureBackend> Connection<'_, B> {
    /// Reads one frame into the lent frame and publishes it. Returns `Some(size changed)`
    /// after a publish, `None` when the connection is over (its end already posted).
    fn read_and_publish(&mut self, lent: &mut Lent) -> Option<bool> {
        let (shared, ctx, link) = (self.shared, self.ctx, self.link);
        let opts = &shared.request.options;
        let frame = Arc::get_mut(&mut lent.frame).expect("pool frames are unique");
        frame.generation = self.generation;
        let mut sink = FrameSink::new(frame, opts.pixel_format, opts.max_frame_pixels);
        let status = self.capture.read(&mut sink, ctx);
        let filled = sink.is_filled();
        if let Some(end) = self.ended(status, filled) {
            if let Some(message) = end {
                link.post(message);
            }
            return None;
        }
        let now = shared.clock.now();
        ctx.frame_written(now);
        frame.received_instant = now;
        frame.received_at = shared.clock.system_now();
        let dims = (frame.width, frame.height);
        let new_props = (self.size != Some(dims)).then(|| with_size(self.capture.props(), dims));
        let (run, session_id) = (self.run, self.session_id);
        if let Some(props) = &new_props {
            // Before the frame is visible: a reader holding a frame of the new size must find
            // the same size in the stream's props.
            shared.slot.if_session_active(run, session_id, || {
                shared.props.store(Some(Arc::new(props.clone())));
            });
        }
        let pooled = lent.pooled;
        let camera_offset = frame
            .camera_time
            .map(|camera| signed_micros(camera.at, frame.received_at));
        let published = shared.slot.publish(run, session_id, &mut lent.frame, || {
            shared.counters.frame_published(now, camera_offset);
            if !pooled {
                shared
                    .counters
                    .frames_beyond_pool
                    .fetch_add(1, Ordering::Relaxed);
            }
        });
        if !published {
            return None;
        }
        if shared.history.enabled()
            && let Some(newest) = shared.slot.peek()
        {
            shared.history.push(newest);
        }
        ctx.streaming(now, opts.stall_timeout);
        match (self.size, &new_props) {
            (None, Some(props)) => link.post(Message::FirstFrame(props.clone())),
            (Some(_), Some(props)) => link.post(Message::Resized(props.clone())),
            _ => {}
        }
        self.size = Some(dims);
        Some(new_props.is_some())
    }

    /// What a read that did not give a frame ends the connection with: `None` when it gave
    /// one, `Some(None)` when there is nothing to tell (the stream cancelled the call itself).
    fn ended(&self, status: Result<ReadStatus, Error>, filled: bool) -> Option<Option<Message>> {
        let shared = self.shared;
        match status {
            Ok(ReadStatus::Frame) if filled => None,
            Ok(ReadStatus::Frame) => Some(Some(Message::Failed {
                error: Error::new(
                    ErrorKind::Other,
                    shared.backend,
                    "the backend returned a frame without writing one",
                ),
                deadline_passed: false,
            })),
            Ok(ReadStatus::EndOfStream) => Some(Some(Message::EndOfStream)),
            Err(_) if self.ctx.is_cancelled() => Some(None),
            Err(error) => Some(Some(failed(shared, self.ctx, error))),
        }
    }
}

/// The frames are the truth about the size; the backend's props may lag behind.
fn with_size(mut props: StreamProps, (width, height): (u32, u32)) -> StreamProps {
    props.width = width;
    props.height = height;
    props
}

/// The one place that decides why a backend call failed: scrubbed of credentials, and filed as
/// a timeout when the context's deadline had passed (decoders report an interrupted call with
/// whatever code the phase produces, so their error says only what was interrupted). A call
/// that returned because the stream cancelled it is not reported at all: the supervisor
/// decided that end itself.
fn failed(shared: &Shared, ctx: &CaptureContext, error: Error) -> Message {
    let error = error.scrubbed(|text| shared.request.redact(text));
    let deadline_passed = ctx.deadline_passed();
    let error = if deadline_passed && error.kind() != ErrorKind::Timeout {
        let message = format!("deadline passed ({})", error.message());
        Error::new(ErrorKind::Timeout, error.backend(), message).with_source(error)
    } else {
        error
    };
    Message::Failed {
        error,
        deadline_passed,
    }
}

/// `a − b` in microseconds, negative when `a` is earlier.
fn signed_micros(a: std::time::SystemTime, b: std::time::SystemTime) -> i64 {
    match a.duration_since(b) {
        Ok(d) => d.as_micros().min(i64::MAX as u128) as i64,
        Err(e) => -(e.duration().as_micros().min(i64::MAX as u128) as i64),
    }
}
