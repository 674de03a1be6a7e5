//! `stop()` in every state returns within the stop bound and leaves no thread behind: the
//! runtime is the capture thread's own. A binary of its own, because it counts the threads of
//! the whole process (the server runs in a child process).

use rtsp_stream_core::{CaptureBackend, Event, VideoStream};
use rtsp_stream_retina::{RetinaBackend, RetinaConfig};
use rtsp_stream_testkit::conformance::{EventRecorder, builder, wait_until};
use rtsp_stream_testkit::process::thread_count;
use rtsp_stream_testkit::{ServerOptions, TestServerProcess};
use std::net::TcpListener;
use std::time::{Duration, Instant};

const PATIENCE: Duration = Duration::from_secs(20);
/// Loose: the figure is in the benchmark; this catches a stop that waits on the network.
const STOP_BOUND: Duration = Duration::from_millis(500);

fn stop_and_count<B: CaptureBackend>(state: &str, stream: VideoStream<B>, before: usize) {
    let t = Instant::now();
    stream.stop();
    let took = t.elapsed();
    assert!(took <= STOP_BOUND, "stop while {state} took {took:?}");
    drop(stream);
    wait_until(
        Duration::from_secs(1),
        &format!("threads back to {before} after a stop while {state}"),
        || thread_count(None) <= before,
    );
    println!("figure: stop while {state} took {took:?}");
}

#[test]
fn stop_is_bounded_in_every_state_and_leaves_no_thread() {
    TestServerProcess::serve_child_if_requested();
    let server = TestServerProcess::spawn(
        &ServerOptions::default(),
        &[
            "--exact",
            "stop_is_bounded_in_every_state_and_leaves_no_thread",
            "--nocapture",
            "--test-threads=1",
        ],
    )
    .unwrap();
    let config = RetinaConfig::default();
    let before = thread_count(None);

    // Connecting to a peer that accepts and never answers.
    let silent = TcpListener::bind("127.0.0.1:0").unwrap();
    let url = format!("rtsp://{}/x", silent.local_addr().unwrap());
    let events = EventRecorder::new();
    let stream = builder::<RetinaBackend>(&url, &config, &events)
        .open_timeout(Duration::from_secs(60))
        .start()
        .unwrap();
    events.wait_nth("connecting", 0, PATIENCE);
    stop_and_count("connecting to a silent peer", stream, before);

    // Streaming.
    let events = EventRecorder::new();
    let stream = builder::<RetinaBackend>(&server.url(), &config, &events)
        .start()
        .unwrap();
    stream.wait_next(0, PATIENCE).expect("a frame");
    stop_and_count("streaming", stream, before);

    // Backing off after a refused connection.
    let refused = {
        let l = TcpListener::bind("127.0.0.1:0").unwrap();
        l.local_addr().unwrap()
    };
    let events = EventRecorder::new();
    let stream = builder::<RetinaBackend>(&format!("rtsp://{refused}/x"), &config, &events)
        .reconnect_delay(Duration::from_secs(60))
        .max_reconnect_delay(Duration::from_secs(60))
        .start()
        .unwrap();
    events.wait_for(0, PATIENCE, "backing off", |e| {
        matches!(e, Event::BackingOff { .. })
    });
    stop_and_count("backing off", stream, before);

    // A frozen feed: the server process stopped with SIGSTOP, the connection still open.
    let events = EventRecorder::new();
    let stream = builder::<RetinaBackend>(&server.url(), &config, &events)
        .stall_timeout(Duration::from_secs(60))
        .start()
        .unwrap();
    stream.wait_next(0, PATIENCE).expect("a frame");
    let pid = server.pid().to_string();
    let signal = |sig: &str| {
        std::process::Command::new("kill")
            .args([sig, &pid])
            .status()
            .expect("kill runs")
    };
    assert!(signal("-STOP").success());
    // Frozen once no frame comes for 300 ms (frames already in flight may still land).
    let mut seq = 0;
    let deadline = Instant::now() + Duration::from_secs(5);
    loop {
        match stream.wait_next(seq, Duration::from_millis(300)) {
            Ok(frame) => seq = frame.seq(),
            Err(_) => break,
        }
        assert!(
            Instant::now() < deadline,
            "frames kept coming from a stopped server"
        );
    }
    stop_and_count("the feed is frozen", stream, before);
    assert!(signal("-CONT").success());
}
