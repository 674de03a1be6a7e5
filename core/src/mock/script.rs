//! The scripted backend: a queue of steps shared by the test and every connection.

use crate::backend::{Capture, CaptureBackend, ReadStatus};
use crate::context::CaptureContext;
use crate::description::Description;
use crate::error::{Error, ErrorKind, Result};
use crate::frame::{FrameSink, PixelFormat, StreamProps};
use crate::request::OpenRequest;
use crate::transport::Transport;
use std::collections::VecDeque;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Condvar, Mutex, MutexGuard, PoisonError};
use std::time::Duration;

const NAME: &str = "mock";

/// One step of a [`MockScript`].
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub enum MockStep {
    /// `open` succeeds with these properties.
    Open(StreamProps),
    /// `open` fails with an error of this kind.
    OpenFail(ErrorKind),
    /// `open` blocks until the connection is cancelled (a cooperative backend), then fails.
    OpenBlock,
    /// `open` blocks, ignoring cancellation, until [`MockScript::release`].
    OpenHang,
    /// `count` reads each deliver a frame, `interval` of real time apart (zero: at once).
    Frames {
        /// Number of frames (`u64::MAX`: forever).
        count: u64,
        /// Real time between frames.
        interval: Duration,
    },
    /// A read fails with an error of this kind.
    ReadError(ErrorKind),
    /// A read blocks until the connection is cancelled (a cooperative backend), then fails.
    Stall,
    /// A read blocks, ignoring cancellation, until [`MockScript::release`].
    Hang,
    /// A read waits (cooperatively: cancellation ends it) until the test calls
    /// [`MockScript::proceed`], then goes on with the next step. For putting an exact pause
    /// between two steps, e.g. to look at the stream between two frames.
    Hold,
    /// Later frames have this size.
    Resize {
        /// New width.
        width: u32,
        /// New height.
        height: u32,
    },
    /// A read reports the end of the source.
    EndOfStream,
    /// A read panics with this message (`{url}` in it is replaced by the source with its
    /// credentials, as a careless decoder would print it): for tests of the stream's
    /// containment of backend panics.
    Panic(String),
}

impl MockStep {
    fn is_open(&self) -> bool {
        matches!(
            self,
            MockStep::Open(_) | MockStep::OpenFail(_) | MockStep::OpenBlock | MockStep::OpenHang
        )
    }
}

/// A record of a call the stream made into the mock.
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub enum MockCall {
    /// `open` with the redacted source and the requested transport.
    Open {
        /// The source's printable (redacted) form.
        source: String,
        /// The transport asked for.
        transport: Transport,
        /// The pixel format asked for.
        pixel_format: PixelFormat,
    },
    /// `close`.
    Close,
}

/// The shared, thread-safe script of a [`MockBackend`]. Clones share the same queue and
/// records, so a test keeps one clone and hands another to the stream.
#[derive(Clone, Default)]
pub struct MockScript {
    inner: Arc<ScriptInner>,
}

#[derive(Default)]
struct ScriptInner {
    state: Mutex<ScriptState>,
    changed: Condvar,
    reads: AtomicU64,
}

#[derive(Default)]
struct ScriptState {
    steps: VecDeque<MockStep>,
    released: bool,
    /// Holds reached by reads, and proceeds granted by the test.
    holds_reached: u64,
    proceeds: u64,
    holders: Vec<CaptureContext>,
    opens: u64,
    closes: u64,
    calls: Vec<MockCall>,
}

impl std::fmt::Debug for MockScript {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let state = self.lock();
        f.debug_struct("MockScript")
            .field("pending", &state.steps.len())
            .field("opens", &state.opens)
            .finish_non_exhaustive()
    }
}

impl MockScript {
    /// An empty script.
    pub fn new() -> Self {
        Self::default()
    }

    /// Properties of a stream of `width` × `height` at `fps`, codec `"mock"`.
    pub fn props(width: u32, height: u32, fps: f64) -> StreamProps {
        StreamProps {
            fps: Some(fps),
            width,
            height,
            codec: Some("mock".into()),
            pixel_format: None,
            transport: None,
        }
    }

    fn lock(&self) -> MutexGuard<'_, ScriptState> {
        self.inner
            .state
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
    }

    /// Appends a step.
    pub fn push(&self, step: MockStep) -> &Self {
        self.lock().steps.push_back(step);
        self.inner.changed.notify_all();
        self
    }

    /// Appends: `open` succeeds with `props`.
    pub fn open_ok(&self, props: StreamProps) -> &Self {
        self.push(MockStep::Open(props))
    }

    /// Appends: `open` fails with `kind`.
    pub fn open_fail(&self, kind: ErrorKind) -> &Self {
        self.push(MockStep::OpenFail(kind))
    }

    /// Appends `n` frames delivered at once.
    pub fn frames(&self, n: u64) -> &Self {
        self.push(MockStep::Frames {
            count: n,
            interval: Duration::ZERO,
        })
    }

    /// Appends frames every `interval` of real time, forever.
    pub fn frames_forever(&self, interval: Duration) -> &Self {
        self.push(MockStep::Frames {
            count: u64::MAX,
            interval,
        })
    }

    /// Appends: a read fails with `kind`.
    pub fn read_error(&self, kind: ErrorKind) -> &Self {
        self.push(MockStep::ReadError(kind))
    }

    /// Appends: a read blocks until cancelled.
    pub fn stall(&self) -> &Self {
        self.push(MockStep::Stall)
    }

    /// Appends: a read blocks ignoring cancellation until [`release`](Self::release).
    pub fn hang(&self) -> &Self {
        self.push(MockStep::Hang)
    }

    /// Appends: a read waits here until [`proceed`](Self::proceed) (see [`MockStep::Hold`]).
    pub fn hold(&self) -> &Self {
        self.push(MockStep::Hold)
    }

    /// Lets the next read waiting at a [`hold`](Self::hold) (or the next to reach one) go on.
    pub fn proceed(&self) {
        let mut state = self.lock();
        state.proceeds += 1;
        for holder in &state.holders {
            holder.nudge();
        }
        drop(state);
        self.inner.changed.notify_all();
    }

    /// Waits (real time, at most `timeout`) until reads have reached `n` holds in all.
    pub fn wait_for_holds(&self, n: u64, timeout: Duration) -> bool {
        self.wait_for_state(timeout, |s| s.holds_reached >= n)
    }

    /// Appends: later frames are `width` × `height`.
    pub fn resize(&self, width: u32, height: u32) -> &Self {
        self.push(MockStep::Resize { width, height })
    }

    /// Appends: a read panics with `message` (see [`MockStep::Panic`]).
    pub fn panic(&self, message: impl Into<String>) -> &Self {
        self.push(MockStep::Panic(message.into()))
    }

    /// Appends: the source ends.
    pub fn end_of_stream(&self) -> &Self {
        self.push(MockStep::EndOfStream)
    }

    /// Lets every hanging call return (with a cancellation error), now and in the future.
    pub fn release(&self) {
        self.lock().released = true;
        self.inner.changed.notify_all();
    }

    /// Steps not consumed yet.
    pub fn pending(&self) -> usize {
        self.lock().steps.len()
    }

    /// Calls to `open` so far.
    pub fn open_count(&self) -> u64 {
        self.lock().opens
    }

    /// Calls to `read` so far.
    pub fn read_count(&self) -> u64 {
        self.inner.reads.load(Ordering::Relaxed)
    }

    /// Calls to `close` so far.
    pub fn close_count(&self) -> u64 {
        self.lock().closes
    }

    /// Every open and close since the script was made (or since the last
    /// [`take_calls`](Self::take_calls)), in order.
    pub fn calls(&self) -> Vec<MockCall> {
        self.lock().calls.clone()
    }

    /// The calls recorded so far, forgetting them: for long runs, where the record would
    /// otherwise grow with every connection.
    pub fn take_calls(&self) -> Vec<MockCall> {
        std::mem::take(&mut self.lock().calls)
    }

    /// Waits (real time, at most `timeout`) until `open` was called at least `n` times.
    pub fn wait_for_opens(&self, n: u64, timeout: Duration) -> bool {
        self.wait_for_state(timeout, |s| s.opens >= n)
    }

    fn wait_for_state(&self, timeout: Duration, done: impl Fn(&ScriptState) -> bool) -> bool {
        let (state, _) = self
            .inner
            .changed
            .wait_timeout_while(self.lock(), timeout, |s| !done(s))
            .unwrap_or_else(PoisonError::into_inner);
        done(&state)
    }

    fn next_open_step(&self, request: &OpenRequest) -> Option<MockStep> {
        let mut state = self.lock();
        state.opens += 1;
        state.calls.push(MockCall::Open {
            source: request.source().to_string(),
            transport: request.transport(),
            pixel_format: request.options().pixel_format,
        });
        let step = loop {
            match state.steps.pop_front() {
                Some(step) if step.is_open() => break Some(step),
                Some(_) => continue,
                None => break None,
            }
        };
        drop(state);
        self.inner.changed.notify_all();
        step
    }

    /// The next read step; `Frames` is consumed one frame at a time.
    fn next_read_step(&self) -> Option<MockStep> {
        self.inner.reads.fetch_add(1, Ordering::Relaxed);
        let mut state = self.lock();
        match state.steps.front_mut() {
            Some(step) if step.is_open() => None,
            Some(MockStep::Frames { count, interval }) => {
                let interval = *interval;
                if *count != u64::MAX {
                    *count -= 1;
                    if *count == 0 {
                        state.steps.pop_front();
                    }
                }
                Some(MockStep::Frames { count: 1, interval })
            }
            Some(_) => state.steps.pop_front(),
            None => None,
        }
    }

    /// Waits at a hold until the test proceeds (true) or the connection is cancelled (false).
    fn wait_at_hold(&self, ctx: &CaptureContext) -> bool {
        let mine = {
            let mut state = self.lock();
            state.holds_reached += 1;
            state.holders.push(ctx.clone());
            state.holds_reached
        };
        self.inner.changed.notify_all();
        let proceeded = ctx.wait_until(|| self.lock().proceeds >= mine);
        self.lock().holders.retain(|h| !h.same_as(ctx));
        proceeded
    }

    /// Blocks until released; returns a cancellation error.
    fn block_until_released(&self) -> Error {
        drop(
            self.inner
                .changed
                .wait_while(self.lock(), |s| !s.released)
                .unwrap_or_else(PoisonError::into_inner),
        );
        Error::new(ErrorKind::Cancelled, NAME, "released")
    }
}

/// Configuration of [`MockBackend`]: the script it follows and the colour of its frames.
#[non_exhaustive]
#[derive(Clone, Debug)]
pub struct MockConfig {
    /// The script shared with the test.
    pub script: MockScript,
    /// Colour of every frame as blue, green, red.
    pub bgr: [u8; 3],
    /// Every this many units of a connection, the first a key frame (default 1: all are).
    pub key_frame_interval: u64,
    /// The units between key frames run P B B P B B …, the B-frames droppable (default
    /// false: every unit is a reference picture), for tests of the decode modes.
    pub b_frames: bool,
}

impl Default for MockConfig {
    fn default() -> Self {
        MockConfig::new(MockScript::new())
    }
}

impl MockConfig {
    /// A configuration following `script`, frames coloured (B, G, R) = (40, 120, 200).
    pub fn new(script: MockScript) -> Self {
        MockConfig {
            script,
            bgr: [40, 120, 200],
            key_frame_interval: 1,
            b_frames: false,
        }
    }
}

/// A backend that follows a [`MockScript`] instead of decoding anything.
#[derive(Debug, Clone, Copy)]
pub struct MockBackend;

/// A live mock connection (reachable only as `<MockBackend as CaptureBackend>::Capture`).
#[derive(Debug)]
pub struct MockCapture {
    script: MockScript,
    props: StreamProps,
    bgr: [u8; 3],
    key_frame_interval: u64,
    b_frames: bool,
    /// Units this connection's script has delivered, decoded or not.
    units: u64,
    /// The source with its credentials, for `Panic` messages.
    url: String,
}

impl CaptureBackend for MockBackend {
    type Config = MockConfig;
    type Capture = MockCapture;
    const NAME: &'static str = NAME;

    fn describe(_: &MockConfig) -> Description {
        Description {
            opens_in_words: "any source, as its script says",
            // Tests ask for the mock by name; it never stands in for a decoder.
            auto_rank: None,
            ..Description::new()
        }
    }

    fn open(cfg: &MockConfig, request: &OpenRequest, ctx: &CaptureContext) -> Result<MockCapture> {
        let (config, script) = (cfg, &cfg.script);
        match script.next_open_step(request) {
            Some(MockStep::Open(props)) => Ok(MockCapture {
                script: script.clone(),
                props: StreamProps {
                    pixel_format: Some(request.options().pixel_format),
                    ..props
                },
                bgr: config.bgr,
                key_frame_interval: config.key_frame_interval.max(1),
                b_frames: config.b_frames,
                units: 0,
                url: request.url_with_credentials(),
            }),
            // Echoes the URL with its password, as real decoders do, so that tests prove the
            // stream scrubs backend messages.
            Some(MockStep::OpenFail(kind)) => Err(Error::new(
                kind,
                NAME,
                format!(
                    "scripted failure opening {}",
                    request.url_with_credentials()
                ),
            )),
            Some(MockStep::OpenBlock) => {
                ctx.wait_cancelled();
                Err(ctx.interrupted_error("opening"))
            }
            Some(MockStep::OpenHang) => Err(script.block_until_released()),
            _ => Err(Error::new(
                ErrorKind::ConnectionRefused,
                NAME,
                "script exhausted",
            )),
        }
    }
}

impl Capture for MockCapture {
    fn read(&mut self, sink: &mut FrameSink<'_>, ctx: &CaptureContext) -> Result<ReadStatus> {
        loop {
            match self.script.next_read_step() {
                Some(MockStep::Frames { interval, .. }) => {
                    if !interval.is_zero() && !ctx.sleep(interval) {
                        return Err(ctx.interrupted_error("reading"));
                    }
                    self.units += 1;
                    let at = (self.units - 1) % self.key_frame_interval;
                    let key = at == 0;
                    let droppable = self.b_frames && !at.is_multiple_of(3);
                    if !ctx.should_decode(key, || droppable) || !ctx.should_convert() {
                        continue;
                    }
                    self.fill(sink)?;
                    sink.set_key_frame(key);
                    return Ok(ReadStatus::Frame);
                }
                Some(MockStep::ReadError(kind)) => {
                    return Err(Error::new(kind, NAME, "scripted read failure"));
                }
                Some(MockStep::Resize { width, height }) => {
                    self.props.width = width;
                    self.props.height = height;
                }
                Some(MockStep::EndOfStream) => return Ok(ReadStatus::EndOfStream),
                Some(MockStep::Panic(message)) => {
                    panic!("{}", message.replace("{url}", &self.url));
                }
                Some(MockStep::Hang) => return Err(self.script.block_until_released()),
                Some(MockStep::Hold) => {
                    if !self.script.wait_at_hold(ctx) {
                        return Err(ctx.interrupted_error("waiting at a hold"));
                    }
                }
                // Stall, or nothing left for this connection: a camera that went quiet.
                _ => {
                    ctx.wait_cancelled();
                    return Err(ctx.interrupted_error("reading"));
                }
            }
        }
    }

    fn props(&self) -> StreamProps {
        self.props.clone()
    }

    fn close(&mut self, _ctx: &CaptureContext) {
        let mut state = self.script.lock();
        state.closes += 1;
        state.calls.push(MockCall::Close);
    }
}

impl MockCapture {
    /// Fills the frame with the configured colour, and its last 8 bytes with the number of
    /// the unit it is of this connection (little-endian, from 1), so tests can tell frames
    /// apart (with every unit decoded, the number of frames this connection has made).
    fn fill(&mut self, sink: &mut FrameSink<'_>) -> Result<()> {
        let [b, g, r] = self.bgr;
        let format = sink.pixel_format();
        let buf = sink.buffer(self.props.width, self.props.height)?;
        match format {
            PixelFormat::Gray8 => {
                let luma = ((29 * b as u32 + 150 * g as u32 + 77 * r as u32) >> 8) as u8;
                buf.fill(luma);
            }
            PixelFormat::Rgb8 => fill_triplets(buf, [r, g, b]),
            _ => fill_triplets(buf, [b, g, r]),
        }
        if buf.len() >= 8 {
            let at = buf.len() - 8;
            buf[at..].copy_from_slice(&self.units.to_le_bytes());
        }
        Ok(())
    }
}

fn fill_triplets(buf: &mut [u8], px: [u8; 3]) {
    for chunk in buf.chunks_exact_mut(3) {
        chunk.copy_from_slice(&px);
    }
}
