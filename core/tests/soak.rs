//! A month unattended, in seconds: 8,640 drop/reconnect cycles (one every five minutes for 30
//! days) on the mock backend and the manual clock, with stalls, refused connections, slow
//! opens and resolution changes mixed in. Cycle 100 and the last cycle are compared at the
//! same phase of the script (same resolution, parked in the same back-off): the same number
//! of threads, live heap within 4 KiB, live allocations within 16; every counter equals the
//! script's count of its kind, and sequence numbers only grow.
//!
//! It counts every allocation of the process, so it runs without the test harness (whose
//! threads allocate when they like): `harness = false`.
// A counting global allocator is an `unsafe impl` wrapping the system's.
#![allow(unsafe_code)]

use rtsp_stream_core::mock::MockStep;
use rtsp_stream_core::{
    ErrorKind, Event, ManualClock, MockBackend, MockConfig, MockScript, VideoStream,
};
use std::alloc::{GlobalAlloc, Layout, System};
use std::sync::Arc;
use std::sync::atomic::{AtomicI64, AtomicU64, Ordering};
use std::time::{Duration, Instant};

struct Counting;

static LIVE_BYTES: AtomicI64 = AtomicI64::new(0);
static LIVE_COUNT: AtomicI64 = AtomicI64::new(0);

// SAFETY: every call is passed on unchanged to the system allocator; the counters are atomics
// and never allocate.
unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        LIVE_BYTES.fetch_add(layout.size() as i64, Ordering::Relaxed);
        LIVE_COUNT.fetch_add(1, Ordering::Relaxed);
        // SAFETY: the caller's layout, passed on.
        unsafe { System.alloc(layout) }
    }
    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        LIVE_BYTES.fetch_sub(layout.size() as i64, Ordering::Relaxed);
        LIVE_COUNT.fetch_sub(1, Ordering::Relaxed);
        // SAFETY: `ptr` came from `System` through this allocator, with this layout.
        unsafe { System.dealloc(ptr, layout) }
    }
    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        LIVE_BYTES.fetch_add(new_size as i64 - layout.size() as i64, Ordering::Relaxed);
        // SAFETY: as for dealloc; the new size is the caller's.
        unsafe { System.realloc(ptr, layout, new_size) }
    }
}

#[global_allocator]
static GLOBAL: Counting = Counting;

const CYCLES: u64 = 8_640;
const PATIENCE: Duration = Duration::from_secs(10);
const BACKOFF: Duration = Duration::from_secs(1);
const OPEN: Duration = Duration::from_secs(7);
const STALL: Duration = Duration::from_secs(5);
const FRAMES: u64 = 3;

/// Events counted by kind, without storing any (storing would grow the heap).
#[derive(Default)]
struct Counts {
    connecting: AtomicU64,
    connected: AtomicU64,
    disconnected: AtomicU64,
    stalled: AtomicU64,
    resolution_changed: AtomicU64,
    backing_off: AtomicU64,
}

/// What the script asked for so far.
#[derive(Default, Debug, PartialEq)]
struct Expected {
    attempts: u64,
    opened: u64,
    frames: u64,
    stalls: u64,
    resolution_changes: u64,
    backoffs: u64,
}

struct Snapshot {
    threads: usize,
    live_bytes: i64,
    live_count: i64,
}

fn snapshot() -> Snapshot {
    Snapshot {
        threads: std::fs::read_dir("/proc/self/task").map_or(0, |d| d.count()),
        live_bytes: LIVE_BYTES.load(Ordering::SeqCst),
        live_count: LIVE_COUNT.load(Ordering::SeqCst),
    }
}

/// Waits until the supervisor is parked exactly `after` ahead, and advances.
fn advance_when_parked(clock: &ManualClock, after: Duration, cycle: u64) {
    assert!(
        clock.wait_for_sleeper_after(after, PATIENCE),
        "cycle {cycle}: no sleeper {after:?} ahead; sleepers {:?}",
        clock.sleepers()
    );
    clock.advance(after);
}

/// Queues cycle `cycle`'s steps and books what they will cause: a connection that works and
/// then drops, sometimes after a refusal or a hanging open, sometimes by freezing or with a
/// resolution change inside.
fn script_cycle(script: &MockScript, cycle: u64, expected: &mut Expected) {
    match cycle % 10 {
        7 => {
            script.open_fail(ErrorKind::ConnectionRefused);
            expected.attempts += 1;
            expected.backoffs += 1;
        }
        8 => {
            script.push(MockStep::OpenBlock);
            expected.attempts += 1;
            expected.backoffs += 1;
        }
        _ => {}
    }
    script
        .open_ok(MockScript::props(64, 48, 30.0))
        .frames(FRAMES);
    expected.attempts += 1;
    expected.opened += 1;
    expected.frames += FRAMES;
    match cycle % 10 {
        6 => {
            script.stall();
            expected.stalls += 1;
        }
        9 => {
            // Back to 64×48 on the next connection: a second change.
            script
                .resize(32, 24)
                .frames(FRAMES)
                .read_error(ErrorKind::ConnectionLost);
            expected.frames += FRAMES;
            expected.resolution_changes += 2;
        }
        _ => {
            script.read_error(ErrorKind::ConnectionLost);
        }
    }
    expected.backoffs += 1;
}

/// Waits (real time) until `frames` frames were published.
fn wait_for_frames(stream: &VideoStream<MockBackend>, frames: u64, cycle: u64) {
    let until = Instant::now() + PATIENCE;
    while stream.stats().frames_decoded < frames {
        assert!(Instant::now() < until, "cycle {cycle}: frames missing");
        std::thread::yield_now();
    }
}

fn main() {
    const NAME: &str = "a_month_of_drops_leaks_nothing_and_counts_everything";
    println!("\nrunning 1 test");
    a_month_of_drops_leaks_nothing_and_counts_everything();
    println!("test {NAME} ... ok\n");
    println!("test result: ok. 1 passed; 0 failed; 0 ignored; 0 measured; 0 filtered out\n");
}

fn a_month_of_drops_leaks_nothing_and_counts_everything() {
    let started = Instant::now();
    let script = MockScript::new();
    let clock = ManualClock::new();
    let counts = Arc::new(Counts::default());
    let c = Arc::clone(&counts);
    let mut expected = Expected::default();
    // Each cycle's steps are queued before the back-off that precedes it ends, so that its
    // first attempt finds them; the first cycle's before the stream starts (queued after it,
    // a busy machine let the first attempt find an empty script once).
    script_cycle(&script, 1, &mut expected);
    let stream =
        VideoStream::<MockBackend>::builder_with("mock://soak", MockConfig::new(script.clone()))
            .clock(clock.clone())
            .reconnect_delay(BACKOFF)
            .open_timeout(OPEN)
            .first_frame_timeout(Duration::from_secs(10))
            .stall_timeout(STALL)
            .on_event(move |e| {
                let counter = match e {
                    Event::Connecting { .. } => &c.connecting,
                    Event::Connected { .. } => &c.connected,
                    Event::Disconnected { .. } => &c.disconnected,
                    Event::Stalled { .. } => &c.stalled,
                    Event::ResolutionChanged { .. } => &c.resolution_changed,
                    Event::BackingOff { .. } => &c.backing_off,
                    _ => return,
                };
                counter.fetch_add(1, Ordering::SeqCst);
            })
            .start()
            .unwrap();
    let mut at_100 = None;
    let mut last_seq = 0;
    for cycle in 1..=CYCLES {
        match cycle % 10 {
            // A refused attempt first, then its back-off.
            7 => advance_when_parked(&clock, BACKOFF, cycle),
            // An open that hangs until its deadline, then its back-off.
            8 => {
                advance_when_parked(&clock, OPEN, cycle);
                advance_when_parked(&clock, BACKOFF, cycle);
            }
            _ => {}
        }
        if cycle % 10 == 6 {
            // The feed freezes: the stall deadline ends the connection (once every frame
            // before it is in, so that none is left unread).
            wait_for_frames(&stream, expected.frames, cycle);
            advance_when_parked(&clock, STALL, cycle);
        }
        // Parked in the back-off after this cycle's drop: the phase compared.
        assert!(
            clock.wait_for_sleeper_after(BACKOFF, PATIENCE),
            "cycle {cycle}: not backing off; sleepers {:?}",
            clock.sleepers()
        );
        let stats = stream.stats();
        assert!(stats.last_seq >= last_seq, "seq went back at cycle {cycle}");
        last_seq = stats.last_seq;
        assert_eq!(stats.frames_decoded, expected.frames, "cycle {cycle}");
        script.take_calls();
        if cycle == 100 {
            at_100 = Some(snapshot());
        }
        if cycle < CYCLES {
            script_cycle(&script, cycle + 1, &mut expected);
            clock.advance(BACKOFF);
        }
    }
    let at_end = snapshot();
    let at_100 = at_100.expect("cycle 100 ran");
    let stats = stream.stats();
    let events = |c: &AtomicU64| c.load(Ordering::SeqCst);
    let counted = Expected {
        attempts: events(&counts.connecting),
        opened: events(&counts.connected),
        frames: stats.frames_decoded,
        stalls: events(&counts.stalled),
        resolution_changes: events(&counts.resolution_changed),
        backoffs: events(&counts.backing_off),
    };
    stream.stop();
    assert_eq!(counted, expected, "events and stats against the script");
    assert_eq!(
        stats.last_seq, expected.frames,
        "every frame got the next seq"
    );
    assert_eq!(
        stats.reconnects,
        expected.attempts - 1,
        "one run: every attempt but the first"
    );
    assert_eq!(
        stats.generation, expected.opened,
        "a generation per connection that opened"
    );
    assert_eq!(
        events(&counts.disconnected),
        expected.opened,
        "each open connection ended once"
    );
    assert_eq!(
        at_end.threads, at_100.threads,
        "threads at cycle 100 and {CYCLES}"
    );
    let bytes = at_end.live_bytes - at_100.live_bytes;
    let count = at_end.live_count - at_100.live_count;
    assert!(
        bytes.abs() <= 4096,
        "live heap moved by {bytes} bytes from cycle 100 to {CYCLES}"
    );
    assert!(
        count.abs() <= 16,
        "live allocations moved by {count} from cycle 100 to {CYCLES}"
    );
    println!(
        "soak: {CYCLES} cycles ({} attempts, {} frames) in {:?}; from cycle 100 to the last: \
         threads {} → {}, live heap {bytes:+} bytes, live allocations {count:+}",
        expected.attempts,
        expected.frames,
        started.elapsed(),
        at_100.threads,
        at_end.threads
    );
}
