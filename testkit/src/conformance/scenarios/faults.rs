//! Faults of the network and the server: restarts, blackholes, refused connections, stop()
//! while blocked, one dead camera among several.

use super::{
    Abilities, FIRST_FRAME, PATIENCE, STALL, STOP_BOUND, Stage, addr, builder,
    next_connection_frame, server,
};
use crate::conformance::helpers::{EventRecorder, serial, wait_until};
use crate::{FaultProxy, ProxyMode, ServerOptions};
use rtsp_stream_core::{CaptureBackend, ErrorKind, Event};
use std::time::{Duration, Instant};

/// Server stopped and started again on the same port: disconnect, back-off, reconnect, frames
/// with a higher seq and a new generation. Returns the time from the restart to the first new
/// frame.
pub fn server_restart_reconnects<B: CaptureBackend>(config: &B::Config) -> Duration {
    let stage = Stage::new();
    let (server, events) = (&stage.server, &stage.events);
    let disconnects = std::sync::Arc::new(std::sync::atomic::AtomicUsize::new(0));
    let d = disconnects.clone();
    let stream = stage
        .builder::<B>(config, None)
        .on_disconnect(move || {
            d.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
        })
        .start()
        .unwrap();
    let before = stream.wait_next(0, FIRST_FRAME).expect("first frame");
    server.stop();
    events.wait_nth("disconnected", 0, STALL + Duration::from_secs(3));
    events.wait_nth("backing_off", 0, PATIENCE);
    let restarted = Instant::now();
    server.restart().unwrap();
    let after = next_connection_frame(&stream, &before, events, "the restart");
    let took = restarted.elapsed();
    assert!(after.seq() > before.seq());
    assert!(disconnects.load(std::sync::atomic::Ordering::SeqCst) >= 1);
    // Events come from the supervising thread, a moment after the frame may be read.
    events.wait_nth("connected", 1, PATIENCE);
    stream.stop();
    took
}

/// A blackholed connection (nothing forwarded, nothing closed) is noticed within the stall
/// deadline + 1 s, and the stream reconnects once traffic passes again. Returns the time from
/// the blackhole to the stall event.
pub fn blackhole_is_detected<B: CaptureBackend>(config: &B::Config) -> Duration {
    let stage = Stage::new();
    let events = &stage.events;
    let proxy = FaultProxy::start(addr(stage.server.port())).unwrap();
    let stream = stage
        .builder::<B>(config, Some(proxy.port()))
        .start()
        .unwrap();
    let before = stream
        .wait_next(0, FIRST_FRAME)
        .expect("first frame through the proxy");
    events.wait_nth("first_frame", 0, PATIENCE);
    let n = events.len();
    proxy.set_mode(ProxyMode::Blackhole);
    let t = Instant::now();
    let (_, at, _) = events.wait_for(
        n,
        STALL + Duration::from_secs(3),
        "stall or disconnect",
        |e| matches!(e, Event::Stalled { .. } | Event::Disconnected { .. }),
    );
    let noticed = at - t;
    assert!(
        noticed <= STALL + Duration::from_secs(1),
        "noticed after {noticed:?}, stall deadline {STALL:?}"
    );
    proxy.set_mode(ProxyMode::Pass);
    let after = next_connection_frame(&stream, &before, events, "the blackhole");
    assert!(after.seq() > before.seq());
    stream.stop();
    noticed
}

/// Connection refused: attempts are counted and the back-off delays grow as configured.
pub fn refused_connections_back_off<B: CaptureBackend>(config: &B::Config) {
    let _serial = serial();
    let server = server(ServerOptions::default());
    let proxy = FaultProxy::start(addr(server.port())).unwrap();
    proxy.set_mode(ProxyMode::Refuse);
    wait_until(PATIENCE, "the proxy refuses", || {
        std::net::TcpStream::connect(addr(proxy.port())).is_err()
    });
    let events = EventRecorder::new();
    let stream = builder::<B>(&server.url_via(proxy.port()), config, &events)
        .reconnect_delay(Duration::from_millis(100))
        .reconnect_backoff(2.0)
        .max_reconnect_delay(Duration::from_millis(400))
        .start()
        .unwrap();
    let mut delays = Vec::new();
    let mut starts = Vec::new();
    for n in 0..4 {
        let (at, e) = events.wait_nth("backing_off", n, PATIENCE);
        let Event::BackingOff { delay, .. } = e else {
            unreachable!()
        };
        delays.push(delay);
        starts.push(at);
    }
    assert_eq!(
        delays,
        [100, 200, 400, 400].map(Duration::from_millis),
        "back-off delays"
    );
    // The waits really happened: each attempt came no sooner than its delay.
    for i in 1..4 {
        assert!(
            starts[i] - starts[i - 1] >= delays[i - 1],
            "attempt {i} came early"
        );
    }
    wait_until(PATIENCE, "3 reconnects counted", || {
        stream.reconnect_count() >= 3
    });
    let err = stream.stats().last_error.expect("an error");
    assert!(err.is_transient(), "refused must be transient: {err}");
    assert_eq!(err.kind(), ErrorKind::ConnectionRefused, "{err}");
    assert_eq!(stream.frame_width(), 0);
    stream.stop();
}

/// `stop()` returns within the bound while an open is blocked on a blackholed connection and
/// while backing off. Returns the two stop times.
pub fn stop_is_bounded<B: CaptureBackend>(config: &B::Config) -> (Duration, Duration) {
    let _serial = serial();
    let server = server(ServerOptions::default());
    let proxy = FaultProxy::start(addr(server.port())).unwrap();
    proxy.set_mode(ProxyMode::Blackhole);
    let events = EventRecorder::new();
    let stream = builder::<B>(&server.url_via(proxy.port()), config, &events)
        .open_timeout(Duration::from_secs(60))
        .start()
        .unwrap();
    wait_until(PATIENCE, "the open is under way", || proxy.accepted() >= 1);
    let t = Instant::now();
    stream.stop();
    let in_open = t.elapsed();
    assert!(
        in_open <= STOP_BOUND,
        "stop during a blocked open took {in_open:?}"
    );

    proxy.set_mode(ProxyMode::Refuse);
    wait_until(PATIENCE, "the proxy refuses", || {
        std::net::TcpStream::connect(addr(proxy.port())).is_err()
    });
    let events = EventRecorder::new();
    let stream = builder::<B>(&server.url_via(proxy.port()), config, &events)
        .reconnect_delay(Duration::from_secs(60))
        .max_reconnect_delay(Duration::from_secs(60))
        .start()
        .unwrap();
    let (_, _, e) = events.wait_for(0, PATIENCE, "back-off or give-up", |e| {
        matches!(e, Event::BackingOff { .. } | Event::GaveUp { .. })
    });
    assert!(matches!(e, Event::BackingOff { .. }), "{e:?}");
    let t = Instant::now();
    stream.stop();
    let in_backoff = t.elapsed();
    assert!(
        in_backoff <= STOP_BOUND,
        "stop while backing off took {in_backoff:?}"
    );
    (in_open, in_backoff)
}

/// Four streams in one process, one of them blackholed: the other three keep at least 90 % of
/// their frame rate. The dead one starts first, so its blocked open is under way while the
/// others connect — except for a backend that opens one source at a time, where the dead one
/// starts once the others stream (its repeated opens then run beside their reads).
pub fn one_dead_camera_does_not_slow_the_others<B: CaptureBackend>(
    config: &B::Config,
    can: Abilities,
) {
    let _serial = serial();
    let server = server(ServerOptions::default());
    let proxy = FaultProxy::start(addr(server.port())).unwrap();
    proxy.set_mode(ProxyMode::Blackhole);
    let dead_events = EventRecorder::new();
    let start_dead = || {
        builder::<B>(&server.url_via(proxy.port()), config, &dead_events)
            .start()
            .unwrap()
    };
    let mut dead = can.opens_concurrently.then(start_dead);
    let healthy: Vec<_> = (0..3)
        .map(|_| {
            let events = EventRecorder::new();
            builder::<B>(&server.url(), config, &events)
                .start()
                .unwrap()
        })
        .collect();
    // One at a time, each open waits for the others' (in any order).
    let first_frame = if can.opens_concurrently {
        FIRST_FRAME
    } else {
        FIRST_FRAME * healthy.len() as u32
    };
    for s in &healthy {
        assert!(
            s.wait_next(0, first_frame).is_ok(),
            "a healthy stream has no frame"
        );
    }
    let dead = dead.get_or_insert_with(start_dead);
    wait_until(PATIENCE, "the dead stream is trying", || {
        proxy.accepted() >= 1
    });
    let window = Duration::from_secs(4);
    let start: Vec<u64> = healthy.iter().map(|s| s.stats().frames_decoded).collect();
    let t = Instant::now();
    wait_until(window * 2, "the measuring window passes", || {
        t.elapsed() >= window
    });
    let elapsed = t.elapsed().as_secs_f64();
    for (i, s) in healthy.iter().enumerate() {
        let fps = (s.stats().frames_decoded - start[i]) as f64 / elapsed;
        assert!(
            fps >= 0.9 * 15.0,
            "healthy stream {i} fell to {fps:.1} fps: {:?}",
            s.stats()
        );
    }
    assert_eq!(dead.stats().frames_decoded, 0);
    for s in healthy {
        s.stop();
    }
    dead.stop();
}
