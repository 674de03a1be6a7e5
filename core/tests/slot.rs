//! The latest-frame slot: freshness, read_new / wait_next, pixel formats, frames that stay
//! intact while held.

mod common;

use common::{EventLog, PATIENCE, advance_when_parked, mock_stream, take_backoff, wait_until};
use rtsp_stream_core::mock::MockStep;
use rtsp_stream_core::{ErrorKind, ManualClock, MockScript, PixelFormat, WaitError};
use std::collections::HashSet;
use std::time::{Duration, Instant};

fn props(w: u32, h: u32) -> rtsp_stream_core::StreamProps {
    MockScript::props(w, h, 30.0)
}

/// The mock writes its per-connection frame counter into the last 8 bytes.
fn counter(frame: &rtsp_stream_core::Frame) -> u64 {
    let d = frame.data();
    u64::from_le_bytes(d[d.len() - 8..].try_into().unwrap())
}

#[test]
fn read_is_none_before_the_first_frame_and_after_a_drop() {
    let script = MockScript::new();
    script.push(MockStep::OpenBlock);
    let (clock, log) = (ManualClock::new(), EventLog::default());
    let stream = mock_stream(&script, &clock, &log)
        .open_timeout(Duration::from_secs(2))
        .start()
        .unwrap();
    assert!(script.wait_for_opens(1, PATIENCE));
    assert!(stream.read().is_none());
    script
        .open_ok(props(16, 8))
        .frames(1)
        .read_error(ErrorKind::ConnectionLost);
    advance_when_parked(&clock, Duration::from_secs(2)); // the open times out
    take_backoff(&log, &clock, 0);
    log.wait_nth("disconnected", 0);
    assert!(
        stream.read().is_none(),
        "the frame of a dropped feed is still readable"
    );
    assert_eq!(stream.stats().frames_decoded, 1);
    stream.stop();
}

#[test]
fn read_new_never_returns_a_frame_twice() {
    let script = MockScript::new();
    script
        .open_ok(props(32, 24))
        .frames_forever(Duration::from_micros(200));
    let (clock, log) = (ManualClock::new(), EventLog::default());
    let stream = mock_stream(&script, &clock, &log).start().unwrap();
    let mut seen = HashSet::new();
    let mut last = 0;
    let until = Instant::now() + PATIENCE;
    while seen.len() < 300 {
        assert!(Instant::now() < until, "only {} frames", seen.len());
        if let Some(f) = stream.read_new(last) {
            assert!(f.seq() > last);
            assert!(seen.insert(f.seq()), "seq {} twice", f.seq());
            last = f.seq();
        } else {
            std::thread::yield_now();
        }
    }
    assert!(stream.read_new(u64::MAX).is_none());
    stream.stop();
}

#[test]
fn wait_next_wakes_on_a_new_frame_and_times_out_otherwise() {
    let script = MockScript::new();
    script.open_ok(props(16, 8)).frames(1);
    script.push(MockStep::Frames {
        count: 1,
        interval: Duration::from_millis(100),
    });
    script.stall();
    let (clock, log) = (ManualClock::new(), EventLog::default());
    let stream = mock_stream(&script, &clock, &log).start().unwrap();
    let first = stream.wait_next(0, PATIENCE).expect("first frame");
    assert_eq!(first.seq(), 1);
    // Returns at once when a newer frame already exists.
    assert_eq!(
        stream.wait_next(0, Duration::ZERO).unwrap().seq(),
        stream.read().unwrap().seq()
    );
    let second = stream
        .wait_next(1, PATIENCE)
        .expect("woken by the second frame");
    assert_eq!(second.seq(), 2);
    let t = Instant::now();
    assert!(matches!(
        stream.wait_next(2, Duration::from_millis(50)),
        Err(WaitError::Timeout)
    ));
    assert!(t.elapsed() >= Duration::from_millis(50));
    stream.stop();
}

#[test]
fn frames_carry_seq_generation_times_and_layout() {
    let script = MockScript::new();
    script
        .open_ok(props(16, 8))
        .frames(2)
        .stall()
        .open_ok(props(16, 8))
        .frames(1)
        .stall();
    let (clock, log) = (ManualClock::new(), EventLog::default());
    let stream = mock_stream(&script, &clock, &log).start().unwrap();
    let a = stream.wait_next(1, PATIENCE).unwrap();
    log.wait_nth("first_frame", 0);
    advance_when_parked(&clock, Duration::from_secs(5)); // stall timeout
    take_backoff(&log, &clock, 0); // 1 s
    let b = stream.wait_next(2, PATIENCE).unwrap();
    assert_eq!((a.seq(), a.generation()), (2, 1));
    assert_eq!((b.seq(), b.generation()), (3, 2));
    assert_eq!(
        b.received_instant() - a.received_instant(),
        Duration::from_secs(6)
    );
    assert_eq!(
        b.received_at().duration_since(a.received_at()).unwrap(),
        Duration::from_secs(6)
    );
    assert_eq!((b.width(), b.height(), b.stride()), (16, 8, 48));
    assert_eq!(b.data().len(), 16 * 8 * 3);
    assert_eq!(b.pixel_format(), PixelFormat::Bgr8);
    stream.stop();
}

#[test]
fn pixel_formats_are_delivered_as_asked() {
    for (format, expected) in [
        (PixelFormat::Bgr8, vec![40u8, 120, 200]),
        (PixelFormat::Rgb8, vec![200, 120, 40]),
        (
            PixelFormat::Gray8,
            vec![((29 * 40 + 150 * 120 + 77 * 200) >> 8) as u8],
        ),
    ] {
        let script = MockScript::new();
        script.open_ok(props(8, 4)).frames(1).stall();
        let (clock, log) = (ManualClock::new(), EventLog::default());
        let stream = mock_stream(&script, &clock, &log)
            .pixel_format(format)
            .start()
            .unwrap();
        let f = stream.wait_next(0, PATIENCE).unwrap();
        assert_eq!(f.pixel_format(), format);
        assert_eq!(f.stride(), 8 * format.bytes_per_pixel());
        assert_eq!(f.pixel(0, 0), &expected[..], "{format}");
        assert_eq!(f.pixel(7, 2), &expected[..], "{format}");
        stream.stop();
    }
}

#[test]
fn a_held_frame_stays_intact_while_many_more_are_published() {
    let script = MockScript::new();
    script.open_ok(props(64, 48)).frames_forever(Duration::ZERO);
    let (clock, log) = (ManualClock::new(), EventLog::default());
    let stream = mock_stream(&script, &clock, &log).start().unwrap();
    let held = stream.wait_next(0, PATIENCE).unwrap();
    let (seq, count, bytes) = (held.seq(), counter(&held), held.data().to_vec());
    let later = stream.wait_next(seq + 500, PATIENCE).unwrap();
    assert!(later.seq() > seq + 500);
    assert_eq!(held.seq(), seq);
    assert_eq!(counter(&held), count);
    assert_eq!(
        held.data(),
        &bytes[..],
        "a held frame was recycled under the reader"
    );
    // Readers on several threads each see consistent frames.
    std::thread::scope(|s| {
        for _ in 0..4 {
            s.spawn(|| {
                let mut last = 0;
                for _ in 0..200 {
                    let f = stream.wait_next(last, PATIENCE).unwrap();
                    assert!(f.seq() > last);
                    assert_eq!(f.pixel(0, 0), &[40, 120, 200]);
                    assert_eq!(f.generation(), 1);
                    last = f.seq();
                }
            });
        }
    });
    stream.stop();
}

#[test]
fn frames_nobody_read_are_counted() {
    let script = MockScript::new();
    script.open_ok(props(8, 8)).frames(10).stall();
    let (clock, log) = (ManualClock::new(), EventLog::default());
    let stream = mock_stream(&script, &clock, &log).start().unwrap();
    wait_until("10 frames", || stream.stats().frames_decoded == 10);
    let stats = stream.stats();
    assert_eq!(stats.frames_overwritten_unread, 9);
    assert_eq!(stream.read().unwrap().seq(), 10);
    stream.stop();
}

#[test]
fn frames_held_for_aligned_reads_still_count_as_unread() {
    let script = MockScript::new();
    script.open_ok(props(8, 8)).frames(10).stall();
    let (clock, log) = (ManualClock::new(), EventLog::default());
    let stream = mock_stream(&script, &clock, &log)
        .aligned_history(Duration::from_secs(1))
        .start()
        .unwrap();
    wait_until("10 frames", || stream.stats().frames_decoded == 10);
    let stats = stream.stats();
    // The stream's clock does not move: every frame lies within the history's second.
    assert_eq!(stats.aligned_history, (10, 10 * 8 * 8 * 3));
    assert_eq!(stats.frames_overwritten_unread, 9);
    stream.stop();
    assert_eq!(
        stream.stats().aligned_history,
        (0, 0),
        "stop lets the history go"
    );
}

/// A frame in hand comes with the stream connected and reporting that frame's size, even while
/// the supervising thread is busy (here: stuck in a slow callback) and has not caught up.
#[test]
fn a_frame_in_hand_comes_with_its_size_in_the_props() {
    let script = MockScript::new();
    // The hold keeps the resized frame back until the test has looked at the first one.
    script
        .open_ok(props(16, 8))
        .frames(1)
        .hold()
        .resize(32, 16)
        .frames(1)
        .stall();
    let (clock, log) = (ManualClock::new(), EventLog::default());
    let (release, gate) = std::sync::mpsc::channel::<()>();
    let gate = std::sync::Mutex::new(gate);
    let stream = mock_stream(&script, &clock, &log)
        .on_event(move |e| {
            if e.name() == "connected" {
                // A slow application callback: the supervisor waits here.
                let _ = gate.lock().unwrap().recv_timeout(PATIENCE);
            }
        })
        .start()
        .unwrap();
    let first = stream.wait_next(0, PATIENCE).expect("a frame");
    assert_eq!((first.width(), first.height()), (16, 8));
    assert!(stream.is_connected());
    assert_eq!(
        (stream.frame_width(), stream.frame_height()),
        (16, 8),
        "props of the first frame"
    );
    script.proceed();
    let second = stream
        .wait_next(first.seq(), PATIENCE)
        .expect("the resized frame");
    assert_eq!((second.width(), second.height()), (32, 16));
    assert_eq!(
        (stream.frame_width(), stream.frame_height()),
        (32, 16),
        "props lag behind the frame in hand"
    );
    release.send(()).unwrap();
    stream.stop();
}

#[test]
fn a_consumer_holding_more_than_the_pool_loses_nothing_and_the_overflow_is_counted() {
    const FRAMES: u64 = 12;
    const POOL: u64 = 4;
    let script = MockScript::new();
    script.open_ok(MockScript::props(32, 16, 30.0));
    // One frame at a time: the consumer receives every frame before the next is decoded.
    for _ in 0..FRAMES {
        script.frames(1).hold();
    }
    let stream = rtsp_stream_core::VideoStream::<rtsp_stream_core::MockBackend>::builder_with(
        "mock://hoard",
        rtsp_stream_core::MockConfig::new(script.clone()),
    )
    .clock(ManualClock::new())
    .frame_pool(POOL as usize)
    .start()
    .unwrap();
    // Keep every frame.
    let mut held = Vec::new();
    for seq in 1..=FRAMES {
        let frame = stream.wait_next(seq - 1, PATIENCE).expect("a frame");
        assert_eq!(frame.seq(), seq, "a frame was skipped");
        held.push(frame);
        script.proceed();
    }
    let stats = stream.stats();
    assert_eq!(stats.frames_decoded, FRAMES, "a frame was dropped");
    assert_eq!(stats.frames_overwritten_unread, 0);
    // The first POOL frames filled the pool; every later one was allocated beyond it.
    assert_eq!(stats.frames_beyond_pool, FRAMES - POOL);
    // Held frames were never reused: each still carries its own number (the mock writes the
    // connection's frame count into the last 8 bytes).
    let counters: Vec<u64> = held
        .iter()
        .map(|f| {
            let d = f.data();
            u64::from_le_bytes(d[d.len() - 8..].try_into().unwrap())
        })
        .collect();
    assert_eq!(
        counters,
        (1..=FRAMES).collect::<Vec<_>>(),
        "a held frame was overwritten"
    );
    stream.stop();
}
