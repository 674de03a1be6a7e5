//! Many cameras in one group through faults of their own.

use super::super::helpers::{EventRecorder, serial, wait_until};
use super::{FIRST_FRAME, PATIENCE, STALL, addr, builder, server};
use crate::{FaultProxy, ProxyMode, ServerOptions};
use rtsp_stream_core::{CaptureBackend, Event, SeqMap, StreamGroup};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

/// What [`group_rides_out_faults`] measured.
#[derive(Debug, Clone)]
pub struct GroupFaultReport {
    /// The healthy cameras' frames over the fault window, as a share of the nominal count.
    pub delivered: Vec<f64>,
    /// Every gap between consecutive frames the consumer received from a healthy camera
    /// during the fault window, sorted.
    pub gaps: Vec<Duration>,
    /// The server's frame interval.
    pub frame_interval: Duration,
    /// From the fault to the first frame of a new connection: the cut camera, the blackholed one.
    pub recovered_after: [Duration; 2],
}

const CAMERAS: usize = 6;
const CUT: usize = 4;
const BLACKHOLED: usize = 5;

/// Six cameras of one group, each through its own fault proxy in front of one server; during
/// the fault window one proxy cuts its connection and refuses new ones for 1 s, another
/// blackholes until its camera notices the stall. The four healthy cameras each deliver at
/// least 80 % of their nominal frames over the window with no gap longer than half the stall
/// timeout (as a consumer of `wait_any` sees them); the two recover; every event arrives under
/// its camera's key (only the faulty cameras report a drop).
pub fn group_rides_out_faults<B: CaptureBackend>(config: &B::Config) -> GroupFaultReport {
    let _serial = serial();
    let options = ServerOptions::default();
    let frame_interval = Duration::from_secs_f64(1.0 / f64::from(options.fps));
    let nominal_fps = f64::from(options.fps);
    let server = server(options);
    let proxies: Vec<FaultProxy> = (0..CAMERAS)
        .map(|_| FaultProxy::start(addr(server.port())).expect("a proxy"))
        .collect();
    let events: Arc<Mutex<Vec<(usize, Event)>>> = Arc::default();
    let group = {
        let events = Arc::clone(&events);
        StreamGroup::<usize, B>::builder()
            .on_event(move |key, event| events.lock().unwrap().push((*key, event.clone())))
            .build()
    };
    let unused = EventRecorder::new();
    for (key, proxy) in proxies.iter().enumerate() {
        let url = server.url_via(proxy.port());
        group
            .add(key, builder::<B>(&url, config, &unused))
            .expect("the camera starts");
    }
    wait_until(FIRST_FRAME * CAMERAS as u32, "every camera streams", || {
        (0..CAMERAS).all(|key| group.read(&key).is_some())
    });

    // The consumer: every frame wait_any hands out, with its camera's key.
    let received: Arc<Mutex<Vec<(usize, Instant)>>> = Arc::default();
    let done = Arc::new(AtomicBool::new(false));
    std::thread::scope(|scope| {
        scope.spawn(|| {
            let mut seen = SeqMap::new();
            while !done.load(Ordering::Acquire) {
                if let Ok((key, frame)) = group.wait_any(&seen, Duration::from_millis(200)) {
                    seen.record(&key, &frame);
                    received
                        .lock()
                        .unwrap()
                        .push((key, frame.received_instant()));
                }
            }
        });
        let before: Vec<u64> = (0..CAMERAS).map(|k| frames_of(&group, k)).collect();
        let fault = Instant::now();
        let cut = &proxies[CUT];
        cut.set_mode(ProxyMode::Refuse);
        cut.cut();
        proxies[BLACKHOLED].set_mode(ProxyMode::Blackhole);
        let events_since = |key: usize, name: &str| {
            events
                .lock()
                .unwrap()
                .iter()
                .filter(|(k, e)| *k == key && e.name() == name)
                .count()
        };
        let first_frames_before = [CUT, BLACKHOLED].map(|k| events_since(k, "first_frame"));
        wait_until(PATIENCE, "a second of refusals", || {
            fault.elapsed() >= Duration::from_secs(1)
        });
        cut.set_mode(ProxyMode::Pass);
        wait_until(PATIENCE, "the blackholed camera notices", || {
            events_since(BLACKHOLED, "stalled") + events_since(BLACKHOLED, "disconnected") >= 1
        });
        proxies[BLACKHOLED].set_mode(ProxyMode::Pass);
        let mut recovered_after = [Duration::ZERO; 2];
        for (i, key) in [CUT, BLACKHOLED].into_iter().enumerate() {
            wait_until(PATIENCE, "the faulty camera recovers", || {
                events_since(key, "first_frame") > first_frames_before[i]
            });
            recovered_after[i] = fault.elapsed();
        }
        // The window: from the fault until both faulty cameras are back, at least 4 s.
        wait_until(PATIENCE, "the fault window passes", || {
            fault.elapsed() >= Duration::from_secs(4)
        });
        let window = fault.elapsed();
        let after: Vec<u64> = (0..CAMERAS).map(|k| frames_of(&group, k)).collect();
        done.store(true, Ordering::Release);

        let received = received.lock().unwrap().clone();
        let mut delivered = Vec::new();
        let mut gaps = Vec::new();
        for key in (0..CAMERAS).filter(|k| ![CUT, BLACKHOLED].contains(k)) {
            let share = (after[key] - before[key]) as f64 / (nominal_fps * window.as_secs_f64());
            assert!(
                share >= 0.8,
                "healthy camera {key} delivered {:.0} % of its frames during the faults: {:?}",
                share * 100.0,
                group.stream(&key).map(|s| s.stats())
            );
            delivered.push(share);
            let times: Vec<Instant> = received
                .iter()
                .filter(|(k, at)| *k == key && *at >= fault && *at <= fault + window)
                .map(|(_, at)| *at)
                .collect();
            for pair in times.windows(2) {
                gaps.push(pair[1] - pair[0]);
            }
            let worst = times.windows(2).map(|p| p[1] - p[0]).max();
            assert!(
                worst.is_some_and(|w| w <= STALL / 2),
                "healthy camera {key}: longest gap {worst:?} (bound {:?})",
                STALL / 2
            );
        }
        gaps.sort();
        let events = events.lock().unwrap();
        for (key, event) in events.iter() {
            let drop = matches!(event, Event::Disconnected { .. } | Event::Stalled { .. });
            assert!(
                !drop || [CUT, BLACKHOLED].contains(key),
                "healthy camera {key} reported {event:?}"
            );
        }
        for key in [CUT, BLACKHOLED] {
            assert!(
                events
                    .iter()
                    .any(|(k, e)| *k == key && matches!(e, Event::Disconnected { .. })),
                "camera {key}: no drop reported under its key"
            );
        }
        group.stop();
        GroupFaultReport {
            delivered,
            gaps,
            frame_interval,
            recovered_after,
        }
    })
}

fn frames_of<B: CaptureBackend>(group: &StreamGroup<usize, B>, key: usize) -> u64 {
    group.stream(&key).map_or(0, |s| s.stats().frames_decoded)
}

impl GroupFaultReport {
    /// The gap at quantile `q` (0–1), in frame intervals.
    pub fn gap_in_frames(&self, q: f64) -> f64 {
        let Some(last) = self.gaps.len().checked_sub(1) else {
            return 0.0;
        };
        let at = ((last as f64) * q).round() as usize;
        self.gaps[at].as_secs_f64() / self.frame_interval.as_secs_f64()
    }

    /// One line: delivery, gaps in frame intervals, recovery.
    pub fn summary(&self) -> String {
        let worst = self.delivered.iter().copied().fold(f64::INFINITY, f64::min);
        format!(
            "healthy cameras delivered ≥ {:.1} %; gaps p50 {:.2}, p95 {:.2}, max {:.2} frame \
             intervals ({} gaps); recovered after {:.2} s (cut) and {:.2} s (blackhole)",
            worst * 100.0,
            self.gap_in_frames(0.5),
            self.gap_in_frames(0.95),
            self.gap_in_frames(1.0),
            self.gaps.len(),
            self.recovered_after[0].as_secs_f64(),
            self.recovered_after[1].as_secs_f64(),
        )
    }
}
