//! Once warm, publishing a frame allocates nothing: a count, not a timing. Its own test binary
//! because it replaces the global allocator.

use rtsp_stream_core::{ManualClock, MockBackend, MockConfig, MockScript, VideoStream};
use std::alloc::{GlobalAlloc, Layout, System};
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

struct Counting;

static ALLOCATIONS: AtomicU64 = AtomicU64::new(0);
static SIZES: [AtomicU64; 16] = [const { AtomicU64::new(0) }; 16];

unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        let n = ALLOCATIONS.fetch_add(1, Ordering::Relaxed);
        SIZES[(n % 16) as usize].store(layout.size() as u64, Ordering::Relaxed);
        unsafe { System.alloc(layout) }
    }
    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        unsafe { System.dealloc(ptr, layout) }
    }
    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        ALLOCATIONS.fetch_add(1, Ordering::Relaxed);
        unsafe { System.realloc(ptr, layout, new_size) }
    }
}

#[global_allocator]
static GLOBAL: Counting = Counting;

#[test]
fn steady_state_publishing_allocates_nothing() {
    let script = MockScript::new();
    script
        .open_ok(MockScript::props(64, 48, 30.0))
        .frames_forever(Duration::ZERO);
    // The manual clock keeps the supervisor parked: only the capture thread and this reader
    // run during the measurement.
    let stream = VideoStream::<MockBackend>::builder_with("mock://alloc", MockConfig::new(script))
        .clock(ManualClock::new())
        .start()
        .unwrap();
    let patience = Duration::from_secs(10);
    // A consumer that holds up to three frames at a time, as a slow one would. The pool grows
    // to that working set during warm-up; after it, nothing is allocated.
    let mut held = Vec::with_capacity(4);
    let mut last = 0;
    let mut consume = |until: u64| {
        while last < until {
            let frame = stream.wait_next(last, patience).unwrap();
            last = frame.seq();
            if held.len() == 3 {
                held.clear();
            }
            held.push(frame);
        }
    };
    consume(500);
    let before_frames = stream.stats().frames_decoded;
    let before = ALLOCATIONS.load(Ordering::SeqCst);
    consume(5_000);
    let after = ALLOCATIONS.load(Ordering::SeqCst);
    drop(held);
    let published = stream.stats().frames_decoded - before_frames;
    stream.stop();
    assert!(published >= 4_000, "only {published} frames published");
    assert_eq!(
        after - before,
        0,
        "{} allocations while {published} frames were published: {:?}",
        after - before,
        SIZES
            .iter()
            .map(|s| s.load(Ordering::Relaxed))
            .collect::<Vec<_>>()
    );
}
