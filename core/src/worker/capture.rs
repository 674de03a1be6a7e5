//! The capture thread: open, read, publish, close.

use super::{Message, Shared};
use crate::backend::{Capture, CaptureBackend, CaptureContext, ReadStatus};
use crate::error::{Error, ErrorKind};
use crate::frame::{Frame, FrameSink};
use crate::wake::WakeSignal;
use std::panic::{AssertUnwindSafe, catch_unwind};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, PoisonError};

/// The mailbox from a capture thread to the supervisor. Only rare things go through it
/// (opened, first frame, resize, the end); frames go straight to the slot.
pub(crate) struct Link {
    messages: Mutex<Vec<Message>>,
    exited: AtomicBool,
    supervisor: WakeSignal,
}

impl Link {
    pub(crate) fn new(supervisor: WakeSignal) -> Self {
        Link {
            messages: Mutex::new(Vec::new()),
            exited: AtomicBool::new(false),
            supervisor,
        }
    }

    fn post(&self, message: Message) {
        self.messages
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .push(message);
        self.supervisor.wake();
    }

    pub(crate) fn take_messages(&self) -> Vec<Message> {
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
    generation: u64,
) {
    let _mark = ExitMark(link);
    let outcome = catch_unwind(AssertUnwindSafe(|| {
        session::<B>(shared, config, ctx, link, run, generation)
    }));
    if outcome.is_err() {
        link.post(Message::Failed(Error::new(
            ErrorKind::Other,
            shared.backend,
            "the backend panicked",
        )));
    }
}

fn session<B: CaptureBackend>(
    shared: &Shared,
    config: &B::Config,
    ctx: &CaptureContext,
    link: &Link,
    run: u64,
    generation: u64,
) {
    let opts = &shared.request.options;
    ctx.set_deadline_in(opts.open_timeout);
    let mut capture = match B::open(config, &shared.request, ctx) {
        Ok(capture) => capture,
        Err(error) => {
            if !ctx.is_cancelled() {
                link.post(Message::Failed(classify(shared, ctx, error)));
            }
            return;
        }
    };
    let props = capture.props();
    // Before the first frame can be published: a reader that sees a frame must also see the
    // stream connected, with its props, not wait for the supervisor to catch up. This thread
    // is the only writer of the props, so they never go back to an older picture size.
    shared.slot.if_session_active(run, generation, || {
        shared.props.store(Some(Arc::new(props.clone())));
        shared.set_state_unchecked(crate::stats::State::Streaming);
    });
    link.post(Message::Opened(props));
    ctx.set_deadline_in(opts.first_frame_timeout);

    // The pool moves with the thread that uses it; a thread left behind keeps its pool and the
    // next connection starts a new one.
    let mut pool = shared.take_pool();
    let mut size = None;
    loop {
        let mut lent = pool.take();
        let published = read_and_publish::<B>(
            shared,
            &mut capture,
            ctx,
            link,
            (run, generation),
            &mut lent.frame,
            &mut size,
            || {
                if !lent.pooled {
                    pool.count_beyond();
                }
            },
        );
        let len = lent.frame.data.len();
        pool.give_back(lent);
        match published {
            Some(new_size) => {
                if new_size {
                    pool.size_known(len);
                }
            }
            None => break,
        }
    }
    capture.close(ctx);
    shared.return_pool(pool);
}

/// Reads one frame into `frame` and publishes it. Returns `Some(size changed)` after a publish,
/// `None` when the connection is over (its end already posted).
fn read_and_publish<B: CaptureBackend>(
    shared: &Shared,
    capture: &mut B::Capture,
    ctx: &CaptureContext,
    link: &Link,
    (run, generation): (u64, u64),
    frame: &mut Arc<Frame>,
    size: &mut Option<(u32, u32)>,
    count_beyond: impl FnOnce(),
) -> Option<bool> {
    let opts = &shared.request.options;
    let slot = Arc::get_mut(frame).expect("pool frames are unique");
    slot.generation = generation;
    let mut sink = FrameSink::new(slot, opts.pixel_format);
    let status = capture.read(&mut sink, ctx);
    let filled = sink.is_filled();
    match status {
        Ok(ReadStatus::Frame) if filled => {}
        Ok(ReadStatus::Frame) => {
            link.post(Message::Failed(Error::new(
                ErrorKind::Other,
                shared.backend,
                "the backend returned a frame without writing one",
            )));
            return None;
        }
        Ok(ReadStatus::EndOfStream) => {
            link.post(Message::EndOfStream);
            return None;
        }
        Err(error) => {
            if !ctx.is_cancelled() {
                link.post(Message::Failed(classify(shared, ctx, error)));
            }
            return None;
        }
    }
    let now = shared.clock.now();
    let slot = Arc::get_mut(frame).expect("pool frames are unique");
    slot.received_instant = now;
    slot.received_at = shared.clock.system_now();
    let dims = (slot.width, slot.height);
    let new_props = (*size != Some(dims)).then(|| with_size(capture.props(), dims));
    if let Some(props) = &new_props {
        // Before the frame is visible: a reader holding a frame of the new size must find the
        // same size in the stream's props.
        shared.slot.if_session_active(run, generation, || {
            shared.props.store(Some(Arc::new(props.clone())));
        });
    }
    if !shared.slot.publish(run, generation, frame, || {
        shared.frame_published(now);
        count_beyond();
    }) {
        return None;
    }
    ctx.set_deadline_in(opts.stall_timeout);
    match (*size, &new_props) {
        (None, Some(props)) => link.post(Message::FirstFrame(props.clone())),
        (Some(_), Some(props)) => link.post(Message::Resized(props.clone())),
        _ => {}
    }
    *size = Some(dims);
    Some(new_props.is_some())
}

/// The frames are the truth about the size; the backend's props may lag behind.
fn with_size(
    mut props: crate::frame::StreamProps,
    (width, height): (u32, u32),
) -> crate::frame::StreamProps {
    props.width = width;
    props.height = height;
    props
}

/// Scrubs the error of credentials and, when the context's deadline had passed, files it as a
/// timeout: decoders report an interrupted call with whatever code the phase produces.
fn classify(shared: &Shared, ctx: &CaptureContext, error: Error) -> Error {
    let error = error.scrubbed(|text| shared.request.redact(text));
    if ctx.deadline_passed() && error.kind() != ErrorKind::Timeout {
        let message = format!("deadline passed ({})", error.message());
        Error::new(ErrorKind::Timeout, error.backend(), message).with_source(error)
    } else {
        error
    }
}
