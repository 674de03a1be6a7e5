//! Many cameras in one process: [`StreamGroup`].

mod aligned;
mod wait;

pub use aligned::{AlignError, AlignedSet, NextAligned};
pub use wait::{GroupFrameStream, NextAny, SeqMap};

use crate::backend::CaptureBackend;
use crate::error::{Error, ErrorKind};
use crate::event::Event;
use crate::frame::Frame;
use crate::stats::{State, Stats};
use crate::stream::{VideoStream, VideoStreamBuilder};
use crate::waiting::{EndReason, WaitError, WakerSlab};
use crate::wake::WakeSignal;
use std::fmt::Display;
use std::hash::Hash;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex, PoisonError, RwLock, RwLockReadGuard, RwLockWriteGuard};
use std::task::Wake;
use std::time::{Duration, Instant};

/// What a camera's key must be: cloneable, comparable, printable and shareable between
/// threads (`String`, `&'static str`, integers, your own enum…).
///
/// Keys are printed as given — in log lines, thread names, `watch`'s output — so a key must
/// not be a URL: a URL may carry a password. Name cameras (`"door-3"`), keep URLs in the
/// builders.
pub trait GroupKey: Clone + Eq + Hash + Display + Send + Sync + 'static {}

impl<K: Clone + Eq + Hash + Display + Send + Sync + 'static> GroupKey for K {}

type KeyedCallback<K> = Arc<dyn Fn(&K, &Event) + Send + Sync>;

/// Builds a [`StreamGroup`]: what applies to every camera of the group.
#[must_use = "a builder does nothing until build()"]
pub struct StreamGroupBuilder<K, B> {
    stagger: Duration,
    reconnect_jitter: f64,
    on_event: Vec<KeyedCallback<K>>,
    _backend: std::marker::PhantomData<fn() -> B>,
}

impl<K: GroupKey, B: CaptureBackend> Default for StreamGroupBuilder<K, B> {
    fn default() -> Self {
        StreamGroupBuilder {
            stagger: Duration::from_millis(50),
            reconnect_jitter: 0.25,
            on_event: Vec::new(),
            _backend: std::marker::PhantomData,
        }
    }
}

impl<K: GroupKey, B: CaptureBackend> StreamGroupBuilder<K, B> {
    /// Time between the starts of cameras added together (default 50 ms): the n-th camera of
    /// a burst of additions starts n × `stagger` after the first, so 32 cameras do not open
    /// 32 connections in the same millisecond. A camera added on its own starts at once. The
    /// wait is on the camera's clock (see [`StreamOptions::start_delay`](crate::StreamOptions::start_delay)).
    pub fn stagger(mut self, stagger: Duration) -> Self {
        self.stagger = stagger;
        self
    }

    /// Jitter for the cameras whose builders set none (default 0.25; see
    /// [`VideoStreamBuilder::reconnect_jitter`]). Every camera also gets its own jitter seed, so
    /// cameras that dropped together — one switch, one server — reconnect apart.
    pub fn reconnect_jitter(mut self, fraction: f64) -> Self {
        self.reconnect_jitter = fraction;
        self
    }

    /// Calls `f` with the camera's key for every event of every camera. It runs on that
    /// camera's supervising thread, like [`VideoStreamBuilder::on_event`]: a slow callback
    /// delays only its own camera's events.
    pub fn on_event(mut self, f: impl Fn(&K, &Event) + Send + Sync + 'static) -> Self {
        self.on_event.push(Arc::new(f));
        self
    }

    /// The group, with no camera yet.
    pub fn build(self) -> StreamGroup<K, B> {
        StreamGroup {
            inner: Arc::new(Inner {
                cameras: RwLock::new(Vec::new()),
                notify: Arc::new(GroupWake::default()),
                settings: self,
                next_start: Mutex::new(None),
                added: AtomicU64::new(0),
                stopped: AtomicBool::new(false),
            }),
        }
    }
}

/// Many cameras read together: each a [`VideoStream`] of backend `B` under a key `K`, added and
/// removed at run time, waited on together.
///
/// - [`add`](Self::add) starts a camera from its own builder (clone one template per camera);
///   the group staggers starts and gives each camera its own jitter.
/// - [`read`](Self::read) is the camera's newest frame, wait-free.
/// - [`wait_any`](Self::wait_any) blocks until any camera has a frame newer than the one you
///   last saw of it ([`SeqMap`]), and is fair: of the cameras with a new frame, the one whose
///   frame has waited longest is returned first, so a fast camera cannot starve a slow one.
///   [`next_any`](Self::next_any) and [`frame_stream`](Self::frame_stream) are its async forms.
///   Every form is woken by the cameras' publishes and ends: no polling, no thread per waiter.
/// - [`stop`](Self::stop) asks every camera to stop first, then waits for them all against one
///   deadline: a camera hung in its decoder delays nobody, and the whole stop takes about one
///   `stop_timeout`, not one per camera.
///
/// The group adds no thread of its own: each camera has its supervising thread and one
/// capture thread per connection, as a lone `VideoStream` has. Dropping the group stops it.
pub struct StreamGroup<K: GroupKey, B: CaptureBackend> {
    inner: Arc<Inner<K, B>>,
}

struct Inner<K: GroupKey, B: CaptureBackend> {
    cameras: RwLock<Vec<Camera<K, B>>>,
    notify: Arc<GroupWake>,
    settings: StreamGroupBuilder<K, B>,
    /// When the next camera of a burst may start.
    next_start: Mutex<Option<Instant>>,
    /// Cameras added so far (their jitter seeds).
    added: AtomicU64,
    stopped: AtomicBool,
}

struct Camera<K, B: CaptureBackend> {
    key: K,
    stream: Arc<VideoStream<B>>,
    /// The group's waker in the camera's slot.
    watch: Option<usize>,
}

/// Wakes the group's blocking and async waiters; registered in every camera's slot, so a
/// publish or an end there wakes them.
#[derive(Default)]
struct GroupWake {
    signal: WakeSignal,
    wakers: Mutex<WakerSlab>,
}

impl Wake for GroupWake {
    fn wake(self: Arc<Self>) {
        self.wake_by_ref();
    }

    fn wake_by_ref(self: &Arc<Self>) {
        self.signal.wake();
        self.wakers
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .wake_all();
    }
}

impl<K: GroupKey, B: CaptureBackend> StreamGroup<K, B> {
    /// A builder of a group.
    pub fn builder() -> StreamGroupBuilder<K, B> {
        StreamGroupBuilder::default()
    }

    /// A group with the default settings.
    pub fn new() -> Self {
        StreamGroupBuilder::default().build()
    }

    /// Builds the camera from `builder` and starts it under `key`. The builder's name, when it
    /// has none, becomes the key. Fails if the key is taken, or as the builder's `start()`
    /// fails (its options, its backend's configuration).
    pub fn add(&self, key: K, builder: VideoStreamBuilder<B>) -> Result<(), Error> {
        let mut cameras = self.write();
        if cameras.iter().any(|c| c.key == key) {
            return Err(Error::core(
                ErrorKind::InvalidConfig,
                format!("the group already has a camera {key}"),
            ));
        }
        let stream = Arc::new(self.prepare(&key, builder).build()?);
        stream.start()?;
        let mut watch = None;
        let waker = std::task::Waker::from(Arc::clone(&self.inner.notify));
        stream.core.shared.slot.watch(&mut watch, &waker);
        cameras.push(Camera { key, stream, watch });
        drop(cameras);
        self.inner.stopped.store(false, Ordering::Release);
        self.inner.notify.wake_by_ref();
        Ok(())
    }

    /// The builder with the group's settings applied.
    fn prepare(&self, key: &K, mut builder: VideoStreamBuilder<B>) -> VideoStreamBuilder<B> {
        let settings = &self.inner.settings;
        if builder.name.is_none() {
            builder = builder.name(key.to_string());
        }
        if builder.options.reconnect_jitter == 0.0 {
            builder.options.reconnect_jitter = settings.reconnect_jitter;
        }
        let index = self.inner.added.fetch_add(1, Ordering::Relaxed) + 1;
        if builder.options.jitter_seed.is_none() {
            let clock_part = std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .map_or(0, |d| d.as_nanos() as u64);
            builder.options.jitter_seed =
                Some(clock_part ^ index.wrapping_mul(0x9e37_79b9_7f4a_7c15));
        }
        let now = Instant::now();
        let start = {
            let mut next = self
                .inner
                .next_start
                .lock()
                .unwrap_or_else(PoisonError::into_inner);
            let start = next.map_or(now, |n| n.max(now));
            *next = Some(start + settings.stagger);
            start
        };
        builder.options.start_delay += start - now;
        for callback in &settings.on_event {
            let (callback, key) = (Arc::clone(callback), key.clone());
            builder = builder.on_event(move |event| callback(&key, event));
        }
        builder
    }

    /// Stops the camera under `key` (within its `stop_timeout`) and takes it out of the group.
    /// Returns whether there was one. Its frames are no longer returned by the waits.
    pub fn remove(&self, key: &K) -> bool {
        let camera = {
            let mut cameras = self.write();
            let Some(at) = cameras.iter().position(|c| &c.key == key) else {
                return false;
            };
            cameras.remove(at)
        };
        let mut watch = camera.watch;
        camera.stream.core.shared.slot.forget_waker(&mut watch);
        camera.stream.stop();
        self.inner.notify.wake_by_ref();
        true
    }

    /// The newest frame of the camera under `key` (see [`VideoStream::read`]).
    pub fn read(&self, key: &K) -> Option<Arc<Frame>> {
        self.read_lock()
            .iter()
            .find(|c| &c.key == key)
            .and_then(|c| c.stream.read())
    }

    /// The camera under `key`, for everything else a `VideoStream` offers.
    pub fn stream(&self, key: &K) -> Option<Arc<VideoStream<B>>> {
        self.read_lock()
            .iter()
            .find(|c| &c.key == key)
            .map(|c| Arc::clone(&c.stream))
    }

    /// Switches what the camera under `key` decodes (see
    /// [`VideoStream::set_decode_mode`]): a dashboard reads most cameras as
    /// [`DecodeMode::KeyFrames`](crate::DecodeMode::KeyFrames) and the one it shows in full as
    /// `All`. An unknown key is an [`ErrorKind::InvalidArgument`](crate::ErrorKind) error.
    pub fn set_decode_mode(&self, key: &K, mode: crate::DecodeMode) -> Result<(), Error> {
        let stream = self.stream(key).ok_or_else(|| {
            Error::core(
                crate::ErrorKind::InvalidArgument,
                format!(
                    "no camera under the key {}",
                    crate::raw::one_line(&key.to_string())
                ),
            )
        })?;
        stream.set_decode_mode(mode)
    }

    /// The keys, in the order the cameras were added.
    pub fn keys(&self) -> Vec<K> {
        self.read_lock().iter().map(|c| c.key.clone()).collect()
    }

    /// How many cameras the group has.
    pub fn len(&self) -> usize {
        self.read_lock().len()
    }

    /// Whether the group has no camera.
    pub fn is_empty(&self) -> bool {
        self.read_lock().is_empty()
    }

    /// Every camera's statistics, in the order the cameras were added.
    pub fn stats(&self) -> GroupStats<K> {
        GroupStats {
            cameras: self
                .read_lock()
                .iter()
                .map(|c| (c.key.clone(), c.stream.stats()))
                .collect(),
        }
    }

    /// Blocks until a camera has a frame newer than the one `after` holds for it, and returns
    /// that camera's key and frame; of several, the frame that has waited longest. Record what
    /// you got with [`SeqMap::record`]. `Timeout` when `timeout` passes first; `Ended` when
    /// every camera has ended (the reason of the first camera added; each camera's own is
    /// [`VideoStream::end_reason`]) or the group was stopped while empty. A group that is
    /// empty but not stopped waits for cameras to be added.
    pub fn wait_any(
        &self,
        after: &SeqMap<K>,
        timeout: Duration,
    ) -> Result<(K, Arc<Frame>), WaitError> {
        let deadline = Instant::now().checked_add(timeout);
        let signal = &self.inner.notify.signal;
        loop {
            let seen = signal.epoch();
            match self.inner.pick(after) {
                Pick::Frame(key, frame) => return Ok((key, frame)),
                Pick::Ended(reason) => return Err(WaitError::Ended(reason)),
                Pick::Nothing => {}
            }
            if deadline.is_some_and(|d| Instant::now() >= d) {
                return Err(WaitError::Timeout);
            }
            signal.wait_real(seen, deadline);
        }
    }

    /// The async form of [`wait_any`](Self::wait_any) (no timeout: wrap it in your runtime's),
    /// resolving to `Err(reason)` when every camera has ended.
    pub fn next_any<'a>(&'a self, after: &'a SeqMap<K>) -> NextAny<'a, K, B> {
        NextAny::new(&self.inner, after)
    }

    /// Every new frame of every camera as an async stream of `(key, frame)`, fairly merged as
    /// [`wait_any`](Self::wait_any) does; it ends when every camera has ended.
    pub fn frame_stream(&self) -> GroupFrameStream<K, B> {
        GroupFrameStream::new(Arc::clone(&self.inner))
    }

    /// Stops every camera: asks them all to stop, then waits for them against one deadline
    /// (the longest `stop_timeout` among them, 100 ms by default), detaching any camera still
    /// blocked then. The cameras stay in the group, stopped (their stats and end reasons
    /// remain); waits return `Ended(Stopped)`.
    pub fn stop(&self) {
        self.inner.stopped.store(true, Ordering::Release);
        let streams: Vec<_> = self
            .read_lock()
            .iter()
            .map(|c| Arc::clone(&c.stream))
            .collect();
        let started = Instant::now();
        let stopping: Vec<_> = streams.iter().map(|s| s.core.begin_stop()).collect();
        let longest = streams
            .iter()
            .map(|s| s.core.shared.request.options.stop_timeout)
            .max()
            .unwrap_or_default();
        for (stream, stopping) in streams.iter().zip(stopping) {
            if let Some(stopping) = stopping {
                stream.core.finish_stop_by(stopping, started + longest);
            }
        }
        self.inner.notify.wake_by_ref();
    }

    fn read_lock(&self) -> RwLockReadGuard<'_, Vec<Camera<K, B>>> {
        self.inner.read()
    }

    fn write(&self) -> RwLockWriteGuard<'_, Vec<Camera<K, B>>> {
        self.inner
            .cameras
            .write()
            .unwrap_or_else(PoisonError::into_inner)
    }
}

impl<K: GroupKey, B: CaptureBackend> Default for StreamGroup<K, B> {
    fn default() -> Self {
        Self::new()
    }
}

impl<K: GroupKey, B: CaptureBackend> Drop for StreamGroup<K, B> {
    fn drop(&mut self) {
        self.stop();
        for camera in self.write().iter_mut() {
            camera
                .stream
                .core
                .shared
                .slot
                .forget_waker(&mut camera.watch);
        }
    }
}

impl<K: GroupKey, B: CaptureBackend> std::fmt::Debug for StreamGroup<K, B> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let keys: Vec<String> = self.keys().iter().map(ToString::to_string).collect();
        f.debug_struct("StreamGroup")
            .field("backend", &B::NAME)
            .field("cameras", &keys)
            .finish_non_exhaustive()
    }
}

/// What a look at every camera found.
enum Pick<K> {
    Frame(K, Arc<Frame>),
    Ended(EndReason),
    Nothing,
}

impl<K: GroupKey, B: CaptureBackend> Inner<K, B> {
    fn read(&self) -> RwLockReadGuard<'_, Vec<Camera<K, B>>> {
        self.cameras.read().unwrap_or_else(PoisonError::into_inner)
    }

    /// The camera whose frame newer than `after` has waited longest, or the end.
    fn pick(&self, after: &SeqMap<K>) -> Pick<K> {
        let cameras = self.read();
        // The ends are read before the frames: a camera publishes its last frames before it
        // ends, so a camera seen ended here has its last frame in its slot below. (Read the
        // other way round, a camera could publish and end between the two looks, and its last
        // frames would be lost behind the end.)
        let mut ends = cameras.iter().map(|c| c.stream.end_reason());
        let all_ended = match ends.next().flatten() {
            Some(first) if ends.all(|r| r.is_some()) => Some(first),
            _ => None,
        };
        let newest = cameras
            .iter()
            .filter_map(|c| {
                let slot = &c.stream.core.shared.slot;
                let frame = slot.peek_new(after.seen(&c.key, slot.stream_id()))?;
                Some((c, frame))
            })
            .min_by_key(|(_, frame)| frame.received_instant());
        if let Some((camera, frame)) = newest {
            frame.mark_taken();
            return Pick::Frame(camera.key.clone(), frame);
        }
        let stopped = self.stopped.load(Ordering::Acquire);
        if cameras.is_empty() {
            return match stopped {
                true => Pick::Ended(EndReason::Stopped),
                false => Pick::Nothing,
            };
        }
        match all_ended {
            Some(first) => Pick::Ended(first),
            None => Pick::Nothing,
        }
    }
}

/// The statistics of every camera of a group, from [`StreamGroup::stats`].
#[derive(Debug, Clone)]
#[non_exhaustive]
pub struct GroupStats<K> {
    /// Each camera's key and statistics, in the order the cameras were added.
    pub cameras: Vec<(K, Stats)>,
}

impl<K> GroupStats<K> {
    /// Cameras streaming now.
    pub fn streaming(&self) -> usize {
        self.cameras
            .iter()
            .filter(|(_, s)| s.state == State::Streaming)
            .count()
    }

    /// Frames decoded by all cameras.
    pub fn frames_decoded(&self) -> u64 {
        self.cameras.iter().map(|(_, s)| s.frames_decoded).sum()
    }

    /// Worker threads of all cameras still alive, detached ones included.
    pub fn live_threads(&self) -> usize {
        self.cameras.iter().map(|(_, s)| s.live_threads).sum()
    }

    /// The lowest measured frame rate among the cameras (0 for none).
    pub fn slowest_fps(&self) -> f64 {
        self.cameras
            .iter()
            .map(|(_, s)| s.measured_fps)
            .reduce(f64::min)
            .unwrap_or(0.0)
    }
}
