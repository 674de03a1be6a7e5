//! Many drop/reconnect cycles: nothing may leak.

use super::helpers::{EventRecorder, serial, settle};
use super::scenarios::next_connection_frame;
use crate::process::{fd_count, rss_bytes, thread_count, trim_heap};
use crate::{FaultProxy, ServerOptions, TestServerProcess};
use rtsp_stream_core::{CaptureBackend, VideoStream};
use std::net::SocketAddr;
use std::time::Duration;

/// What the endurance run measured.
#[derive(Debug, Clone)]
pub struct EnduranceReport {
    /// Threads, open descriptors and RSS (bytes) after cycle 5.
    pub after_5: (usize, usize, u64),
    /// The same after the last cycle, once settled.
    pub after_100: (usize, usize, u64),
    /// Cycles run (cuts plus restarts).
    pub cycles: usize,
}

/// 100 drop/reconnect cycles through the proxy's cut plus 3 real server restarts: thread count
/// and open file descriptors after cycle 100 equal those after cycle 5, and RSS grows by less
/// than 5 MB between them.
///
/// RSS is read after the allocator returned its free pages to the system
/// ([`trim_heap`](crate::process::trim_heap)): it then follows live memory, not heap
/// fragmentation, which otherwise moves it by a few megabytes either way from one cycle to the
/// next.
///
/// The server runs in a child process (the current test binary re-run with `--exact
/// test_name`), so that only the stream and the proxy are measured; the test must call
/// [`TestServerProcess::serve_child_if_requested`] first thing.
pub fn endurance<B: CaptureBackend>(config: &B::Config, test_name: &str) -> EnduranceReport {
    let _serial = serial();
    let args = ["--exact", test_name, "--nocapture", "--test-threads=1"];
    let mut options = ServerOptions {
        fps: 30,
        key_interval: 3,
        ..ServerOptions::default()
    };
    let mut server = TestServerProcess::spawn(&options, &args).expect("server process");
    options.port = server.port();
    let proxy = FaultProxy::start(SocketAddr::from(([127, 0, 0, 1], server.port()))).unwrap();
    let events = EventRecorder::new();
    let stream = VideoStream::<B>::builder_with(
        format!("rtsp://127.0.0.1:{}{}", proxy.port(), options.mount),
        config.clone(),
    )
    .reconnect_delay(Duration::from_millis(20))
    .max_reconnect_delay(Duration::from_millis(200))
    .stall_timeout(Duration::from_secs(3))
    .open_timeout(Duration::from_secs(5))
    .on_event(events.handler())
    .start()
    .unwrap();
    let mut last = stream
        .wait_next(0, Duration::from_secs(30))
        .expect("first frame");
    let counts = || (thread_count(None), fd_count(None));
    let mut after_5 = None;
    const CYCLES: usize = 100;
    for cycle in 1..=CYCLES {
        if cycle % 33 == 0 {
            // A real restart: the server process goes away and comes back on the same port.
            drop(server);
            server = TestServerProcess::spawn(&options, &args).expect("server restarts");
        } else {
            proxy.cut();
        }
        last = next_connection_frame(&stream, &last, &events, &format!("drop {cycle}"));
        if cycle % 10 == 0 {
            trim_heap();
            eprintln!(
                "endurance cycle {cycle}: {} threads, {} descriptors, RSS {} KiB",
                thread_count(None),
                fd_count(None),
                rss_bytes(None) / 1024
            );
        }
        if cycle == 5 {
            let counts = settle(counts, None, Duration::from_secs(10));
            trim_heap();
            after_5 = Some((counts.0, counts.1, rss_bytes(None)));
        }
    }
    let after_5 = after_5.expect("cycle 5 ran");
    // Threads of cut connections end asynchronously: wait until the counts come back.
    let counts = settle(
        counts,
        Some((after_5.0, after_5.1)),
        Duration::from_secs(10),
    );
    trim_heap();
    let after_100 = (counts.0, counts.1, rss_bytes(None));
    stream.stop();
    assert_eq!(after_100.0, after_5.0, "threads after cycle 5 vs {CYCLES}");
    assert_eq!(
        after_100.1, after_5.1,
        "open descriptors after cycle 5 vs {CYCLES}"
    );
    let growth = after_100.2.saturating_sub(after_5.2);
    assert!(
        growth < 5 * 1024 * 1024,
        "RSS grew by {} KiB between cycle 5 and {CYCLES}",
        growth / 1024
    );
    EnduranceReport {
        after_5,
        after_100,
        cycles: CYCLES,
    }
}
