//! `stop()` in every state a stream can be in, for every backend, timed.

use crate::report::StopTimes;
use rtsp_stream::{AnyBackend, MockBackend, MockConfig, MockScript, VideoStream};
use rtsp_stream_testkit::conformance::wait_until;
use rtsp_stream_testkit::{FaultProxy, ProxyMode, ServerOptions, TestServer};
use std::net::SocketAddr;
use std::sync::mpsc;
use std::time::{Duration, Instant};

const PATIENCE: Duration = Duration::from_secs(20);

pub fn measure(backends: &[&str], reps: usize) -> Vec<StopTimes> {
    let server = TestServer::start(ServerOptions::default()).expect("the test server starts");
    let proxy =
        FaultProxy::start(SocketAddr::from(([127, 0, 0, 1], server.port()))).expect("a proxy");
    let via_proxy = server.url_via(proxy.port());
    let mut all = Vec::new();
    for backend in backends {
        let config = crate::config_of(backend);
        let start = |url: &str,
                     tune: &dyn Fn(
            rtsp_stream::VideoStreamBuilder<AnyBackend>,
        ) -> rtsp_stream::VideoStreamBuilder<AnyBackend>| {
            let (tx, rx) = mpsc::channel();
            let builder =
                VideoStream::<AnyBackend>::builder_with(url, config.clone()).on_event(move |e| {
                    let _ = tx.send(e.name());
                });
            (tune(builder).start().expect("the stream starts"), rx)
        };
        let mut times = |state: &'static str, run: &mut dyn FnMut() -> Duration| {
            let t: Vec<Duration> = (0..reps).map(|_| run()).collect();
            eprintln!("  {backend} stop while {state}: {t:?}");
            all.push(StopTimes {
                backend: backend.to_string(),
                state,
                times: t,
            });
        };
        times("streaming", &mut || {
            let (s, _) = start(&server.url(), &|b| b);
            s.wait_next(0, PATIENCE).expect("a frame");
            timed_stop(&s)
        });
        times("opening (connection blackholed)", &mut || {
            proxy.set_mode(ProxyMode::Blackhole);
            let accepted = proxy.accepted();
            let (s, _) = start(&via_proxy, &|b| b.open_timeout(Duration::from_secs(60)));
            wait_until(PATIENCE, "the open is under way", || {
                proxy.accepted() > accepted
            });
            let took = timed_stop(&s);
            proxy.cut();
            proxy.set_mode(ProxyMode::Pass);
            took
        });
        times("backing off", &mut || {
            proxy.set_mode(ProxyMode::Refuse);
            let (s, events) = start(&via_proxy, &|b| {
                b.reconnect_delay(Duration::from_secs(60))
                    .max_reconnect_delay(Duration::from_secs(60))
            });
            while events.recv_timeout(PATIENCE).expect("an event") != "backing_off" {}
            let took = timed_stop(&s);
            proxy.set_mode(ProxyMode::Pass);
            took
        });
        times("reading a frozen feed", &mut || {
            let (s, _) = start(&via_proxy, &|b| b);
            s.wait_next(0, PATIENCE).expect("a frame");
            proxy.set_mode(ProxyMode::Blackhole);
            wait_until(PATIENCE, "the feed is frozen", || {
                s.stats()
                    .since_last_frame
                    .is_some_and(|d| d >= Duration::from_millis(300))
            });
            let took = timed_stop(&s);
            proxy.cut();
            proxy.set_mode(ProxyMode::Pass);
            took
        });
    }
    // A backend that ignores cancellation altogether, blocked in open and in read.
    for (state, hang_in_open) in [
        ("blocked in open, ignoring cancellation", true),
        ("blocked in read, ignoring cancellation", false),
    ] {
        let times = (0..reps)
            .map(|_| {
                let script = MockScript::new();
                if hang_in_open {
                    script.push(rtsp_stream::mock::MockStep::OpenHang);
                } else {
                    script
                        .open_ok(MockScript::props(64, 48, 30.0))
                        .frames(1)
                        .hang();
                }
                let s = VideoStream::<MockBackend>::builder_with(
                    "mock://bench",
                    MockConfig::new(script.clone()),
                )
                .start()
                .expect("the mock stream starts");
                if hang_in_open {
                    script.wait_for_opens(1, PATIENCE);
                } else {
                    s.wait_next(0, PATIENCE).expect("a mock frame");
                    wait_until(PATIENCE, "the read hangs", || script.read_count() >= 2);
                }
                let took = timed_stop(&s);
                script.release();
                took
            })
            .collect();
        all.push(StopTimes {
            backend: "mock".into(),
            state,
            times,
        });
    }
    all
}

fn timed_stop<B: rtsp_stream::CaptureBackend>(s: &VideoStream<B>) -> Duration {
    let t = Instant::now();
    s.stop();
    t.elapsed()
}
