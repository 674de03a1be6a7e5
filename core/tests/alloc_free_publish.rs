//! The frame pool's guarantee, counted (not timed): with an eager pool of n, a consumer that
//! holds at most n − 2 frames causes no allocation in the publish path. (A consumer that holds
//! more than the pool: `slot.rs`.)
//!
//! It replaces the global allocator and counts every allocation of the process, so it is its
//! own test binary without the test harness (`harness = false`): libtest's own threads
//! allocate at moments of their choosing (another test starting or ending, a wake-up of the
//! thread that waits for the test), which would be counted too. Only this test's threads run:
//! the stream's, the consumer (main) and two busy threads of its own.
// A counting global allocator is an `unsafe impl` wrapping the system's.
#![allow(unsafe_code)]

use rtsp_stream_core::{ManualClock, MockBackend, MockConfig, MockScript, VideoStream};
use std::alloc::{GlobalAlloc, Layout, System};
use std::hint::black_box;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::Duration;

struct Counting;

static ALLOCATIONS: AtomicU64 = AtomicU64::new(0);
static SIZES: [AtomicU64; 16] = [const { AtomicU64::new(0) }; 16];

// SAFETY: every call is passed on unchanged to the system allocator, which upholds the
// GlobalAlloc contract; counting touches only atomics and never allocates.
unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        let n = ALLOCATIONS.fetch_add(1, Ordering::Relaxed);
        SIZES[(n % 16) as usize].store(layout.size() as u64, Ordering::Relaxed);
        // SAFETY: the caller's layout, passed on.
        unsafe { System.alloc(layout) }
    }
    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        // SAFETY: `ptr` came from `System` through this allocator, with this layout.
        unsafe { System.dealloc(ptr, layout) }
    }
    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        ALLOCATIONS.fetch_add(1, Ordering::Relaxed);
        // SAFETY: as for dealloc; the new size is the caller's.
        unsafe { System.realloc(ptr, layout, new_size) }
    }
}

#[global_allocator]
static GLOBAL: Counting = Counting;

const PATIENCE: Duration = Duration::from_secs(10);

/// Two threads that keep both cores busy without allocating, so the capture thread, the
/// consumer and the pool are scheduled as unluckily as a loaded machine schedules them.
struct Load {
    stop: Arc<AtomicBool>,
    threads: Vec<std::thread::JoinHandle<()>>,
}

impl Load {
    /// Starts the load and returns once both threads run (a thread allocates as it starts).
    fn start() -> Load {
        let stop = Arc::new(AtomicBool::new(false));
        let running = Arc::new(std::sync::Barrier::new(3));
        let threads = (0..2)
            .map(|_| {
                let (stop, running) = (Arc::clone(&stop), Arc::clone(&running));
                std::thread::spawn(move || {
                    running.wait();
                    let mut x = 1u64;
                    while !stop.load(Ordering::Relaxed) {
                        for _ in 0..1000 {
                            x = black_box(x.wrapping_mul(6364136223846793005).wrapping_add(1));
                        }
                    }
                })
            })
            .collect();
        running.wait();
        Load { stop, threads }
    }
}

impl Drop for Load {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::Relaxed);
        for t in self.threads.drain(..) {
            let _ = t.join();
        }
    }
}

fn sizes() -> Vec<u64> {
    SIZES.iter().map(|s| s.load(Ordering::Relaxed)).collect()
}

/// Runs the one test and reports it the way libtest does, so the suite counter sees it.
fn main() {
    const NAME: &str = "an_eager_pool_of_five_and_a_consumer_holding_three_allocate_nothing";
    println!("\nrunning 1 test");
    an_eager_pool_of_five_and_a_consumer_holding_three_allocate_nothing();
    println!("test {NAME} ... ok\n");
    println!("test result: ok. 1 passed; 0 failed; 0 ignored; 0 measured; 0 filtered out\n");
}

fn an_eager_pool_of_five_and_a_consumer_holding_three_allocate_nothing() {
    let load = Load::start();
    let script = MockScript::new();
    script
        .open_ok(MockScript::props(64, 48, 30.0))
        .frames_forever(Duration::ZERO);
    // The manual clock keeps the supervisor parked: only the capture thread, this consumer
    // and the load run during the measurement.
    let clock = ManualClock::new();
    let first_frame_seen = Arc::new(AtomicBool::new(false));
    let seen = Arc::clone(&first_frame_seen);
    let stream = VideoStream::<MockBackend>::builder_with("mock://alloc", MockConfig::new(script))
        .clock(clock.clone())
        .stall_timeout(Duration::from_secs(5))
        .on_event(move |e| {
            if e.name() == "first_frame" {
                seen.store(true, Ordering::SeqCst);
            }
        })
        .frame_pool(5)
        .eager_frame_pool(true)
        .start()
        .unwrap();
    // At most 3 frames in hand at any time, the one just received included.
    let mut held = std::collections::VecDeque::with_capacity(3);
    let mut last = 0;
    let mut consume = |until: u64| {
        while last < until {
            if held.len() == 3 {
                held.pop_front();
            }
            let frame = stream.wait_next(last, PATIENCE).unwrap();
            last = frame.seq();
            held.push_back(frame);
        }
    };
    // The eager pool is filled right after the first frame; a few frames are plenty.
    consume(20);
    // The supervisor allocates as it reports the connection (events carry props): wait until
    // it has and is parked on the clock until the stall deadline, where it stays.
    let until = std::time::Instant::now() + PATIENCE;
    while !first_frame_seen.load(Ordering::SeqCst) {
        assert!(std::time::Instant::now() < until, "no first_frame event");
        std::thread::yield_now();
    }
    assert!(
        clock.wait_for_sleeper_after(Duration::from_secs(5), PATIENCE),
        "the supervisor is not parked on the stall deadline: {:?}",
        clock.sleepers()
    );
    let before_frames = stream.stats().frames_decoded;
    let before = ALLOCATIONS.load(Ordering::SeqCst);
    consume(2_000);
    let after = ALLOCATIONS.load(Ordering::SeqCst);
    drop(held);
    let stats = stream.stats();
    let published = stats.frames_decoded - before_frames;
    stream.stop();
    drop(load);
    assert!(published >= 1_000, "only {published} frames published");
    assert_eq!(
        (after - before, stats.frames_beyond_pool),
        (0, 0),
        "allocations and frames beyond the pool while {published} frames were published \
         (recent sizes {:?}, newest at {})",
        sizes(),
        (after + 15) % 16
    );
}
