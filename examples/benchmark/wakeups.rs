//! How soon a waiter learns that the stream was stopped: a thread blocked in `wait_next` and a
//! task awaiting `next_frame`, each waiting for a frame that never comes, timed from the
//! `stop()` call to their return; and two streams stopped together with `stop_async()`.

use crate::report::quantile;
use rtsp_stream::{
    AnyBackend, CaptureBackend, EndReason, MockBackend, MockConfig, MockScript, VideoStream,
    WaitError,
};
use rtsp_stream_testkit::{ServerOptions, TestServer};
use std::sync::mpsc;
use std::time::{Duration, Instant};

const PATIENCE: Duration = Duration::from_secs(20);
/// Longer than any wake-up: a waiter that returns by this timeout was not woken.
const WAITER_TIMEOUT: Duration = Duration::from_secs(10);

pub struct Wakeups {
    pub backend: String,
    pub blocking: Vec<Duration>,
    pub task: Vec<Duration>,
    /// Two streams of this backend stopped with `stop_async`, both awaited.
    pub two_stop_async: Vec<Duration>,
}

pub fn measure(backends: &[&str], stops: usize) -> Vec<Wakeups> {
    let server = TestServer::start(ServerOptions::default()).expect("the test server starts");
    let mut all = Vec::new();
    for backend in backends {
        let config = crate::config_of(backend);
        let build = || {
            VideoStream::<AnyBackend>::builder_with(server.url().as_str(), config.clone())
                .build()
                .expect("the stream builds")
        };
        let (blocking, task) = wake_ups(&build, stops);
        let pair = [build(), build()];
        let two_stop_async = (0..stops.div_ceil(4)).map(|_| stop_two(&pair)).collect();
        eprintln!("  {backend}: {stops} stops timed");
        all.push(Wakeups {
            backend: backend.to_string(),
            blocking,
            task,
            two_stop_async,
        });
    }
    let mock = || {
        let script = MockScript::new();
        script
            .open_ok(MockScript::props(64, 48, 30.0))
            .frames_forever(Duration::from_millis(33));
        VideoStream::<MockBackend>::builder_with("mock://bench", MockConfig::new(script))
            .build()
            .expect("the mock stream builds")
    };
    let (blocking, task) = wake_ups(&mock, stops);
    all.push(Wakeups {
        backend: "mock".into(),
        blocking,
        task,
        two_stop_async: Vec::new(),
    });
    all
}

/// `stops` times: a stream from `make` started, its first frame, a thread and a task waiting
/// for a frame that cannot come (newer than `u64::MAX`: only the end wakes them), stop; the
/// delay of each from the `stop()` call.
fn wake_ups<B: CaptureBackend>(
    make: &dyn Fn() -> VideoStream<B>,
    stops: usize,
) -> (Vec<Duration>, Vec<Duration>) {
    let (mut blocking, mut task) = (Vec::new(), Vec::new());
    for _ in 0..stops {
        let stream = &make();
        stream.start().expect("the stream starts");
        stream.wait_next(0, PATIENCE).expect("a frame");
        let (ready_tx, ready) = mpsc::channel();
        let (stopped_at, returned) = std::thread::scope(|scope| {
            let ready_tx2 = ready_tx.clone();
            let thread = scope.spawn(move || {
                let _ = ready_tx.send(());
                let answer = stream.wait_next(u64::MAX, WAITER_TIMEOUT);
                let at = Instant::now();
                assert!(
                    matches!(answer, Err(WaitError::Ended(EndReason::Stopped))),
                    "{answer:?}"
                );
                at
            });
            let task = scope.spawn(move || {
                futures::executor::block_on(async {
                    let _ = ready_tx2.send(());
                    let answer = stream.next_frame(u64::MAX).await;
                    let at = Instant::now();
                    assert!(matches!(answer, Err(EndReason::Stopped)), "{answer:?}");
                    at
                })
            });
            ready.recv().expect("the thread waits");
            ready.recv().expect("the task waits");
            // Both are past their signal and blocked by now; a benchmark may settle.
            std::thread::sleep(Duration::from_millis(20));
            let stopped_at = Instant::now();
            stream.stop();
            (
                stopped_at,
                [
                    thread.join().expect("the thread"),
                    task.join().expect("the task"),
                ],
            )
        });
        blocking.push(returned[0].saturating_duration_since(stopped_at));
        task.push(returned[1].saturating_duration_since(stopped_at));
    }
    (blocking, task)
}

/// Two streams streaming, both stopped with `stop_async` and awaited together.
fn stop_two<B: CaptureBackend>(pair: &[VideoStream<B>; 2]) -> Duration {
    for stream in pair {
        let seq = stream.stats().last_seq;
        stream.start().expect("the stream starts");
        stream.wait_next(seq, PATIENCE).expect("a frame");
    }
    let started = Instant::now();
    futures::executor::block_on(async {
        let stops = [pair[0].stop_async(), pair[1].stop_async()];
        for stop in stops {
            stop.await;
        }
    });
    started.elapsed()
}

pub fn render(all: &[Wakeups], quick: bool) -> String {
    let mut out = String::new();
    if quick {
        out.push_str("(quick pass — not figures to quote)\n\n");
    }
    out.push_str(
        "#### Wake-up after `stop()`\n\nA thread blocked in `wait_next` and a task awaiting \
         `next_frame` (on `futures::executor`), both waiting for a frame that cannot come, \
         timed from the `stop()` call to their return, streaming at 320×240.\n\n\
         | backend | waiter | stops | p50 (ms) | p95 (ms) | max (ms) |\n|---|---|---:|---:|---:|---:|\n",
    );
    let ms = |d: &[Duration]| -> Vec<f64> { d.iter().map(|d| d.as_secs_f64() * 1000.0).collect() };
    for w in all {
        for (waiter, times) in [
            ("thread, wait_next", &w.blocking),
            ("task, next_frame", &w.task),
        ] {
            let t = ms(times);
            out.push_str(&format!(
                "| {} | {waiter} | {} | {:.3} | {:.3} | {:.3} |\n",
                w.backend,
                t.len(),
                quantile(&t, 0.5),
                quantile(&t, 0.95),
                quantile(&t, 1.0)
            ));
        }
    }
    out.push_str(
        "\n#### Two streams stopped with `stop_async()`, awaited together\n\n\
         | backend | shutdowns | p50 (ms) | p95 (ms) | max (ms) |\n|---|---:|---:|---:|---:|\n",
    );
    for w in all.iter().filter(|w| !w.two_stop_async.is_empty()) {
        let t = ms(&w.two_stop_async);
        out.push_str(&format!(
            "| {} | {} | {:.2} | {:.2} | {:.2} |\n",
            w.backend,
            t.len(),
            quantile(&t, 0.5),
            quantile(&t, 0.95),
            quantile(&t, 1.0)
        ));
    }
    out
}
