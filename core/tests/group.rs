//! `StreamGroup`: fair waiting over many cameras, keys on every event, staggered starts,
//! reconnections kept apart, and a stop bounded by one deadline for all.

mod common;

use common::{PATIENCE, wait_until};
use futures::StreamExt;
use rtsp_stream_core::{
    EndReason, ErrorKind, Event, ManualClock, MockBackend, MockConfig, MockScript, SeqMap,
    StreamGroup, VideoStream, VideoStreamBuilder, WaitError,
};
use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

fn camera(script: &MockScript) -> VideoStreamBuilder<MockBackend> {
    VideoStream::<MockBackend>::builder_with("mock://camera", MockConfig::new(script.clone()))
}

fn streaming(fps: f64) -> MockScript {
    let script = MockScript::new();
    script
        .open_ok(MockScript::props(32, 24, fps))
        .frames_forever(Duration::from_secs_f64(1.0 / fps));
    script
}

fn group() -> StreamGroup<String, MockBackend> {
    StreamGroup::<String, MockBackend>::builder()
        .stagger(Duration::ZERO)
        .build()
}

#[test]
fn the_frame_that_waited_longest_comes_first() {
    let (a, b) = (MockScript::new(), MockScript::new());
    for script in [&a, &b] {
        script
            .open_ok(MockScript::props(32, 24, 25.0))
            .frames(1)
            .hold();
    }
    let group = group();
    group.add("a".into(), camera(&a)).unwrap();
    wait_until("a's frame", || group.read(&"a".into()).is_some());
    group.add("b".into(), camera(&b)).unwrap();
    wait_until("b's frame", || group.read(&"b".into()).is_some());

    let mut seen = SeqMap::new();
    let (first, frame) = group.wait_any(&seen, PATIENCE).unwrap();
    assert_eq!(first, "a", "a's frame is older");
    seen.record(&first, &frame);
    let (second, frame) = group.wait_any(&seen, PATIENCE).unwrap();
    assert_eq!(second, "b");
    seen.record(&second, &frame);
    let nothing = group.wait_any(&seen, Duration::from_millis(20));
    assert!(matches!(nothing, Err(WaitError::Timeout)), "{nothing:?}");
}

#[test]
fn a_fast_and_a_slow_camera_both_reach_the_consumer_at_their_rates() {
    let group = group();
    group.add("fast".into(), camera(&streaming(30.0))).unwrap();
    group.add("slow".into(), camera(&streaming(15.0))).unwrap();
    let mut seen = SeqMap::new();
    let mut counts: HashMap<String, u64> = HashMap::new();
    // Counted from the first frame of each, over two seconds of real time.
    wait_until("both stream", || group.stats().streaming() == 2);
    let started = Instant::now();
    let window = Duration::from_secs(2);
    while started.elapsed() < window {
        match group.wait_any(&seen, PATIENCE) {
            Ok((key, frame)) => {
                seen.record(&key, &frame);
                *counts.entry(key).or_default() += 1;
            }
            Err(e) => panic!("{e}"),
        }
    }
    let elapsed = started.elapsed().as_secs_f64();
    for (key, fps) in [("fast", 30.0), ("slow", 15.0)] {
        let got = counts.get(key).copied().unwrap_or(0) as f64;
        // Loose: a frame overwritten before the consumer came is skipped, not queued.
        assert!(
            got >= 0.6 * fps * elapsed && got <= 1.1 * fps * elapsed + 2.0,
            "{key}: {got} frames in {elapsed:.2} s at {fps} fps ({counts:?})"
        );
    }
}

#[test]
fn every_event_carries_its_camera_key() {
    let events: Arc<Mutex<Vec<(String, &'static str)>>> = Arc::default();
    let group = {
        let events = Arc::clone(&events);
        StreamGroup::<String, MockBackend>::builder()
            .stagger(Duration::ZERO)
            .on_event(move |key: &String, event: &Event| {
                events.lock().unwrap().push((key.clone(), event.name()))
            })
            .build()
    };
    let scripts: Vec<_> = (0..3).map(|_| streaming(25.0)).collect();
    for (i, script) in scripts.iter().enumerate() {
        group.add(format!("cam{i}"), camera(script)).unwrap();
    }
    wait_until("all connected", || {
        let events = events.lock().unwrap();
        (0..3).all(|i| events.contains(&(format!("cam{i}"), "connected")))
    });
    group.stop();
    for i in 0..3 {
        let events = events.lock().unwrap();
        assert!(
            events.contains(&(format!("cam{i}"), "stopped")),
            "{events:?}"
        );
    }
    assert_eq!(group.stream(&"cam1".into()).unwrap().name(), Some("cam1"));
}

#[test]
fn starts_are_staggered_on_the_cameras_clock() {
    let clock = ManualClock::new();
    let group = StreamGroup::<u32, MockBackend>::builder()
        .stagger(Duration::from_secs(1))
        .build();
    let scripts: Vec<_> = (0..3).map(|_| streaming(25.0)).collect();
    for (i, script) in scripts.iter().enumerate() {
        group
            .add(i as u32, camera(script).clock(clock.clone()))
            .unwrap();
    }
    assert!(scripts[0].wait_for_opens(1, PATIENCE));
    // Cameras 1 and 2 wait on their start delays (about 1 s and 2 s; the streaming cameras'
    // watchdogs sleep 5 s), both parked before the clock moves.
    wait_until("cameras 1 and 2 parked on their start delays", || {
        let delays = clock.sleepers();
        let starting = |d: &&Duration| **d > Duration::ZERO && **d <= Duration::from_secs(2);
        delays.iter().filter(starting).count() == 2
    });
    for (next, script) in scripts.iter().enumerate().skip(1) {
        assert_eq!(script.open_count(), 0, "camera {next} started early");
        clock.advance(Duration::from_secs(1));
        assert!(script.wait_for_opens(1, PATIENCE), "camera {next}");
    }
}

#[test]
fn cameras_that_dropped_together_reconnect_apart() {
    let clock = ManualClock::new();
    let delays: Arc<Mutex<HashMap<u32, Duration>>> = Arc::default();
    let group = {
        let delays = Arc::clone(&delays);
        StreamGroup::<u32, MockBackend>::builder()
            .stagger(Duration::ZERO)
            .reconnect_jitter(0.5)
            .on_event(move |key: &u32, event: &Event| {
                if let Event::BackingOff { delay, .. } = event {
                    delays.lock().unwrap().entry(*key).or_insert(*delay);
                }
            })
            .build()
    };
    let scripts: Vec<_> = (0..8).map(|_| MockScript::new()).collect();
    for (i, script) in scripts.iter().enumerate() {
        script.open_fail(ErrorKind::ConnectionRefused);
        let builder = camera(script)
            .clock(clock.clone())
            .reconnect_delay(Duration::from_secs(10))
            .max_reconnect_delay(Duration::from_secs(10));
        group.add(i as u32, builder).unwrap();
    }
    wait_until("every camera backs off", || {
        delays.lock().unwrap().len() == 8
    });
    let delays = delays.lock().unwrap();
    let mut distinct: Vec<Duration> = delays.values().copied().collect();
    distinct.sort();
    distinct.dedup();
    assert!(
        distinct.len() >= 6,
        "8 cameras on one clock back off by only {} distinct delays: {delays:?}",
        distinct.len()
    );
    assert!(delays.values().all(|d| *d >= Duration::from_secs(5)));
}

#[test]
fn thirty_two_cameras_hung_in_read_stop_together_within_a_second() {
    let group = StreamGroup::<usize, MockBackend>::builder()
        .stagger(Duration::ZERO)
        .build();
    let scripts: Vec<_> = (0..32).map(|_| MockScript::new()).collect();
    for (i, script) in scripts.iter().enumerate() {
        script
            .open_ok(MockScript::props(32, 24, 25.0))
            .frames(1)
            .hang();
        group.add(i, camera(script)).unwrap();
    }
    wait_until("every camera hung in read", || {
        scripts.iter().all(|s| s.read_count() >= 2)
    });
    let started = Instant::now();
    group.stop();
    let took = started.elapsed();
    assert!(took < Duration::from_secs(1), "group stop took {took:?}");
    let stats = group.stats();
    assert_eq!(stats.cameras.len(), 32);
    assert!(
        stats.cameras.iter().all(|(_, s)| s.detached_threads >= 1),
        "a camera hung in read is left behind detached"
    );
    let ended = group.wait_any(&SeqMap::new(), PATIENCE);
    assert!(
        matches!(&ended, Err(WaitError::Ended(EndReason::Stopped))),
        "{ended:?}"
    );
    for script in &scripts {
        script.release();
    }
}

#[test]
fn the_wait_ends_when_every_camera_has_ended() {
    let group = group();
    let (a, b) = (MockScript::new(), MockScript::new());
    a.open_fail(ErrorKind::NotFound);
    b.open_ok(MockScript::props(32, 24, 25.0))
        .frames(2)
        .end_of_stream();
    group.add("a".into(), camera(&a)).unwrap();
    group.add("b".into(), camera(&b)).unwrap();
    let mut seen = SeqMap::new();
    let ended = loop {
        match group.wait_any(&seen, PATIENCE) {
            Ok((key, frame)) => seen.record(&key, &frame),
            Err(e) => break e,
        }
    };
    assert!(
        matches!(&ended, WaitError::Ended(EndReason::GaveUp(e)) if e.kind() == ErrorKind::NotFound),
        "the first camera's reason: {ended:?}"
    );
    assert_eq!(seen.get(&"b".into()), 2, "b's frames came before the end");
}

#[test]
fn a_camera_added_again_under_its_key_starts_afresh() {
    let group = group();
    let first = streaming(50.0);
    group.add("door".into(), camera(&first)).unwrap();
    let mut seen = SeqMap::new();
    for _ in 0..5 {
        let (key, frame) = group.wait_any(&seen, PATIENCE).unwrap();
        seen.record(&key, &frame);
    }
    assert!(seen.get(&"door".into()) >= 5);
    assert!(group.remove(&"door".into()));
    assert!(!group.remove(&"door".into()));
    assert!(group.add("door".into(), camera(&streaming(50.0))).is_ok());
    assert!(group.add("door".into(), camera(&streaming(50.0))).is_err());
    let (_, frame) = group.wait_any(&seen, PATIENCE).unwrap();
    assert!(
        frame.seq() < 5,
        "the new camera's frames count from 1: {}",
        frame.seq()
    );
}

#[test]
fn async_forms_yield_keyed_frames_and_end() {
    let group = group();
    let (a, b) = (MockScript::new(), MockScript::new());
    for script in [&a, &b] {
        script
            .open_ok(MockScript::props(32, 24, 25.0))
            .frames(3)
            .end_of_stream();
    }
    group.add("a".into(), camera(&a)).unwrap();
    group.add("b".into(), camera(&b)).unwrap();
    futures::executor::block_on(async {
        let seen = SeqMap::new();
        let (key, frame) = group.next_any(&seen).await.unwrap();
        assert!(key == "a" || key == "b");
        assert!(frame.seq() >= 1);
        let mut frames = group.frame_stream();
        let mut last: HashMap<String, u64> = HashMap::new();
        while let Some((key, frame)) = frames.next().await {
            let before = last.insert(key.clone(), frame.seq()).unwrap_or(0);
            assert!(frame.seq() > before, "{key}: a frame twice");
        }
        assert!(matches!(frames.end_reason(), Some(EndReason::Finished)));
        assert_eq!(last.get("a"), Some(&3));
        assert_eq!(last.get("b"), Some(&3));
    });
}

#[test]
fn group_stats_add_up() {
    let group = group();
    for i in 0..4 {
        group
            .add(format!("cam{i}"), camera(&streaming(25.0)))
            .unwrap();
    }
    wait_until("all stream", || group.stats().streaming() == 4);
    let stats = group.stats();
    assert_eq!(group.keys(), ["cam0", "cam1", "cam2", "cam3"]);
    assert_eq!(
        stats.frames_decoded(),
        stats
            .cameras
            .iter()
            .map(|(_, s)| s.frames_decoded)
            .sum::<u64>()
    );
    assert!(
        stats.live_threads() >= 8,
        "a supervisor and a capture thread each"
    );
    group.stop();
    wait_until("threads end", || group.stats().live_threads() == 0);
}
