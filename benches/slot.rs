//! Cost of reading the newest frame with 1, 4 and 8 reader threads while a writer publishes,
//! for three slots in the same run:
//!
//! - `stream_read`: `VideoStream::read()` of a real stream (mock backend, 8×8 frames, no
//!   pacing), so the writer is the stream's own capture thread publishing as fast as it can;
//! - `arc_swap`: a bare `ArcSwapOption<Frame>` (the primitive behind `read()`), `load_full`;
//! - `mutex`: a `Mutex<Option<Arc<Frame>>>`, lock and clone.
//!
//! The two bare slots share one writer loop, either unpaced ("flat out") or publishing every
//! millisecond (a camera is 30 fps; 1 kHz is already generous). Every reader hands out a
//! clone of the newest frame, which is what `read()` does. Figures: `BENCHMARKS.md`.
// criterion's macros make public functions without documentation.
#![allow(missing_docs)]

use arc_swap::ArcSwapOption;
use criterion::{BenchmarkId, Criterion, criterion_group, criterion_main};
use rtsp_stream::{Frame, ManualClock, MockBackend, MockConfig, MockScript, VideoStream};
use std::hint::black_box;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Barrier, Mutex};
use std::time::{Duration, Instant};

fn stream() -> VideoStream<MockBackend> {
    let script = MockScript::new();
    script
        .open_ok(MockScript::props(8, 8, 30.0))
        .frames_forever(Duration::ZERO);
    let stream = VideoStream::<MockBackend>::builder_with("mock://bench", MockConfig::new(script))
        .clock(ManualClock::new())
        .start()
        .unwrap();
    stream.wait_next(0, Duration::from_secs(10)).unwrap();
    stream
}

/// A few distinct frames for the bare slots' writer to cycle through.
fn sample_frames() -> Vec<Arc<Frame>> {
    let s = stream();
    let mut frames = Vec::new();
    let mut last = 0;
    while frames.len() < 4 {
        let f = s.wait_next(last, Duration::from_secs(10)).unwrap();
        last = f.seq();
        frames.push(f);
    }
    frames
}

/// Runs `readers` threads doing `iters` reads each; returns the mean time a thread took.
fn run_readers(readers: usize, iters: u64, read: &(dyn Fn() -> u64 + Sync)) -> Duration {
    let barrier = Barrier::new(readers);
    let total: Duration = std::thread::scope(|s| {
        let handles: Vec<_> = (0..readers)
            .map(|_| {
                s.spawn(|| {
                    barrier.wait();
                    let t = Instant::now();
                    let mut acc = 0u64;
                    for _ in 0..iters {
                        acc = acc.wrapping_add(read());
                    }
                    black_box(acc);
                    t.elapsed()
                })
            })
            .collect();
        handles.into_iter().map(|h| h.join().unwrap()).sum()
    });
    total / readers as u32
}

/// Publishes `frames` in turn into both bare slots until dropped.
struct Writer {
    running: Arc<AtomicBool>,
    thread: Option<std::thread::JoinHandle<()>>,
}

impl Writer {
    fn start(
        frames: Vec<Arc<Frame>>,
        swap: Arc<ArcSwapOption<Frame>>,
        mutex: Arc<Mutex<Option<Arc<Frame>>>>,
        pace: Option<Duration>,
    ) -> Writer {
        let running = Arc::new(AtomicBool::new(true));
        let r = running.clone();
        let thread = std::thread::spawn(move || {
            let mut i = 0;
            while r.load(Ordering::Relaxed) {
                let f = &frames[i % frames.len()];
                swap.store(Some(f.clone()));
                *mutex.lock().unwrap() = Some(f.clone());
                i += 1;
                if let Some(p) = pace {
                    std::thread::sleep(p);
                }
            }
        });
        Writer {
            running,
            thread: Some(thread),
        }
    }
}

impl Drop for Writer {
    fn drop(&mut self) {
        self.running.store(false, Ordering::Relaxed);
        if let Some(t) = self.thread.take() {
            t.join().unwrap();
        }
    }
}

fn bench(c: &mut Criterion) {
    let frames = sample_frames();
    let mut group = c.benchmark_group("slot_read");
    group
        .sample_size(30)
        .warm_up_time(Duration::from_millis(500))
        .measurement_time(Duration::from_secs(2));
    for readers in [1usize, 4, 8] {
        {
            let live = stream();
            group.bench_with_input(
                BenchmarkId::new("stream_read", readers),
                &readers,
                |b, &n| {
                    b.iter_custom(|iters| {
                        run_readers(n, iters, &|| live.read().map_or(0, |f| f.seq()))
                    })
                },
            );
        }
        for (label, pace) in [("flat_out", None), ("1khz", Some(Duration::from_millis(1)))] {
            let swap: Arc<ArcSwapOption<Frame>> = Arc::default();
            let mutex: Arc<Mutex<Option<Arc<Frame>>>> = Arc::default();
            let _writer = Writer::start(frames.clone(), swap.clone(), mutex.clone(), pace);
            group.bench_with_input(
                BenchmarkId::new(format!("arc_swap_{label}"), readers),
                &readers,
                |b, &n| {
                    b.iter_custom(|iters| {
                        run_readers(n, iters, &|| swap.load_full().map_or(0, |f| f.seq()))
                    })
                },
            );
            group.bench_with_input(
                BenchmarkId::new(format!("mutex_{label}"), readers),
                &readers,
                |b, &n| {
                    b.iter_custom(|iters| {
                        run_readers(n, iters, &|| {
                            let frame = mutex.lock().unwrap().clone();
                            frame.map_or(0, |f| f.seq())
                        })
                    })
                },
            );
        }
    }
    group.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
