//! Waiting that ends when the stream ends: every form of waiter (blocking, iterator, async
//! under three executors) returns within a second of `stop()`, of a give-up and of the end of
//! the source, with the reason; frames published before the end come first; no waker is left
//! behind by a dropped future or stream.

mod common;

use common::PATIENCE;
use futures::StreamExt;
use rtsp_stream_core::mock::MockStep;
use rtsp_stream_core::{
    EndReason, ErrorKind, Event, MockBackend, MockConfig, MockScript, State, VideoStream,
    VideoStreamBuilder, WaitError,
};
use std::future::Future;
use std::pin::pin;
use std::sync::Arc;
use std::sync::mpsc;
use std::task::{Context, Poll, Wake, Waker};
use std::time::{Duration, Instant};

/// How long after the end a waiter may take to notice it: far above the few milliseconds it
/// takes, far below the waiters' own 10 s timeout.
const WITHIN: Duration = Duration::from_secs(1);
const WAITER_TIMEOUT: Duration = Duration::from_secs(10);

#[derive(Clone, Copy, Debug)]
enum Ending {
    Stop,
    GiveUp,
    EndOfSource,
}

#[derive(Clone, Copy, Debug)]
enum Waiter {
    Blocking,
    Iterator,
    TokioMultiThread,
    TokioCurrentThread,
    FuturesExecutor,
    AsyncStream,
}

const WAITERS: [Waiter; 6] = [
    Waiter::Blocking,
    Waiter::Iterator,
    Waiter::TokioMultiThread,
    Waiter::TokioCurrentThread,
    Waiter::FuturesExecutor,
    Waiter::AsyncStream,
];

/// A script that opens a 64×48 camera at 30 fps and delivers one frame; the test writes what
/// comes next.
fn one_frame_script() -> MockScript {
    let script = MockScript::new();
    script.open_ok(MockScript::props(64, 48, 30.0)).frames(1);
    script
}

/// A stream of `url` run by `script`.
fn mock_builder(url: &str, script: &MockScript) -> VideoStreamBuilder<MockBackend> {
    VideoStream::<MockBackend>::builder_with(url, MockConfig::new(script.clone()))
}

/// A stream that delivered one frame and is held, its next step being `ending`'s.
fn one_frame_then(ending: Ending) -> (Arc<VideoStream<MockBackend>>, MockScript) {
    let script = one_frame_script();
    script.hold();
    match ending {
        Ending::Stop => script.stall(),
        Ending::GiveUp => script.read_error(ErrorKind::Unsupported),
        Ending::EndOfSource => script.end_of_stream(),
    };
    let stream = mock_builder("mock://camera/waiting", &script)
        .start()
        .unwrap();
    let first = stream.wait_next(0, PATIENCE).expect("the first frame");
    assert_eq!(first.seq(), 1);
    assert!(script.wait_for_holds(1, PATIENCE));
    (Arc::new(stream), script)
}

fn on_tokio<F: Future>(multi_thread: bool, f: F) -> F::Output {
    let runtime = if multi_thread {
        tokio::runtime::Builder::new_multi_thread()
            .worker_threads(2)
            .build()
    } else {
        tokio::runtime::Builder::new_current_thread().build()
    };
    runtime.unwrap().block_on(f)
}

/// Runs `waiter` on a thread of its own, waiting for a frame after the first; returns, once
/// the waiter is about to block, a receiver of what it got (as the reason the wait ended) and
/// when.
fn spawn_waiter(
    stream: &Arc<VideoStream<MockBackend>>,
    waiter: Waiter,
) -> mpsc::Receiver<(Result<u64, EndReason>, Instant)> {
    let (tx, rx) = mpsc::channel();
    let (ready_tx, ready) = mpsc::channel();
    let stream = Arc::clone(stream);
    std::thread::spawn(move || {
        let answer = match waiter {
            Waiter::Blocking => {
                ready_tx.send(()).unwrap();
                match stream.wait_next(1, WAITER_TIMEOUT) {
                    Ok(frame) => Ok(frame.seq()),
                    Err(WaitError::Ended(reason)) => Err(reason),
                    Err(other) => panic!("the blocking waiter got {other:?}"),
                }
            }
            Waiter::Iterator => {
                let mut frames = stream.frames();
                let first = frames.next().expect("the frame in the slot").seq();
                assert_eq!(first, 1);
                ready_tx.send(()).unwrap();
                match frames.next() {
                    Some(frame) => Ok(frame.seq()),
                    None => Err(frames.end_reason().cloned().expect("a reason")),
                }
            }
            Waiter::TokioMultiThread | Waiter::TokioCurrentThread => {
                ready_tx.send(()).unwrap();
                on_tokio(
                    matches!(waiter, Waiter::TokioMultiThread),
                    stream.next_frame(1),
                )
                .map(|f| f.seq())
            }
            Waiter::FuturesExecutor => {
                ready_tx.send(()).unwrap();
                futures::executor::block_on(stream.next_frame(1)).map(|f| f.seq())
            }
            Waiter::AsyncStream => on_tokio(false, async {
                let mut frames = stream.frame_stream();
                assert_eq!(frames.next().await.expect("the frame in the slot").seq(), 1);
                ready_tx.send(()).unwrap();
                match frames.next().await {
                    Some(frame) => Ok(frame.seq()),
                    None => Err(frames.end_reason().cloned().expect("a reason")),
                }
            }),
        };
        let _ = tx.send((answer, Instant::now()));
    });
    ready
        .recv_timeout(PATIENCE)
        .expect("the waiter got the first frame");
    rx
}

/// Every waiter form, blocked on a running stream, returns within [`WITHIN`] of `ending`
/// with the reason.
fn every_waiter_returns_promptly(ending: Ending) {
    for waiter in WAITERS {
        let (stream, script) = one_frame_then(ending);
        let answer = spawn_waiter(&stream, waiter);
        let ended_at = Instant::now();
        match ending {
            Ending::Stop => stream.stop(),
            Ending::GiveUp | Ending::EndOfSource => script.proceed(),
        }
        let (got, returned_at) = answer
            .recv_timeout(WAITER_TIMEOUT + PATIENCE)
            .expect("the waiter returns");
        let after = returned_at.saturating_duration_since(ended_at);
        assert!(
            after <= WITHIN,
            "{waiter:?} returned {after:?} after the {ending:?}"
        );
        match (ending, got) {
            (Ending::Stop, Err(EndReason::Stopped))
            | (Ending::EndOfSource, Err(EndReason::Finished)) => {}
            (Ending::GiveUp, Err(EndReason::GaveUp(error))) => {
                assert_eq!(error.kind(), ErrorKind::Unsupported)
            }
            (_, other) => panic!("{waiter:?} after the {ending:?} got {other:?}"),
        }
    }
}

#[test]
fn every_waiter_returns_within_a_second_of_stop() {
    every_waiter_returns_promptly(Ending::Stop);
}

#[test]
fn every_waiter_returns_within_a_second_of_a_give_up() {
    every_waiter_returns_promptly(Ending::GiveUp);
}

#[test]
fn every_waiter_returns_within_a_second_of_the_end_of_the_source() {
    every_waiter_returns_promptly(Ending::EndOfSource);
}

#[test]
fn frames_published_before_the_end_come_first_and_then_the_end_at_once() {
    let script = one_frame_script();
    script.hold().frames(1).end_of_stream();
    let stream = mock_builder("mock://file/clip", &script).start().unwrap();
    assert_eq!(stream.wait_next(0, PATIENCE).unwrap().seq(), 1);
    script.proceed();
    common::wait_until("the end of the source", || stream.end_reason().is_some());
    assert_eq!(stream.state(), State::Finished);
    // Frame 2 was published before the end: every form returns it first.
    assert_eq!(stream.wait_next(1, WAITER_TIMEOUT).unwrap().seq(), 2);
    assert_eq!(
        futures::executor::block_on(stream.next_frame(1))
            .unwrap()
            .seq(),
        2
    );
    let mut frames = stream.frames();
    assert_eq!(frames.next().map(|f| f.seq()), Some(2));
    assert!(frames.next().is_none());
    assert!(matches!(frames.end_reason(), Some(EndReason::Finished)));
    // Then the end, at once, for every form.
    let started = Instant::now();
    assert!(matches!(
        stream.wait_next(2, WAITER_TIMEOUT),
        Err(WaitError::Ended(EndReason::Finished))
    ));
    assert!(matches!(
        futures::executor::block_on(stream.next_frame(2)),
        Err(EndReason::Finished)
    ));
    assert!(started.elapsed() < WITHIN);
}

#[test]
fn waiting_on_a_stream_that_is_not_running_reports_the_end_at_once() {
    let script = one_frame_script();
    script.stall();
    let stream = mock_builder("mock://camera/idle", &script).build().unwrap();
    let started = Instant::now();
    assert!(matches!(stream.end_reason(), Some(EndReason::Stopped)));
    assert!(matches!(
        stream.wait_next(0, WAITER_TIMEOUT),
        Err(WaitError::Ended(EndReason::Stopped))
    ));
    assert_eq!(stream.frames().count(), 0);
    assert!(started.elapsed() < WITHIN);
    // Started, the end is gone; stopped, it is back, and a restart clears it again.
    stream.start().unwrap();
    assert!(stream.end_reason().is_none());
    assert_eq!(stream.wait_next(0, PATIENCE).unwrap().seq(), 1);
    stream.stop();
    assert!(matches!(stream.end_reason(), Some(EndReason::Stopped)));
    script
        .open_ok(MockScript::props(64, 48, 30.0))
        .frames(1)
        .stall();
    stream.start().unwrap();
    assert_eq!(stream.wait_next(1, PATIENCE).unwrap().seq(), 2);
    assert!(matches!(
        stream.wait_next(2, Duration::from_millis(20)),
        Err(WaitError::Timeout)
    ));
}

#[test]
fn a_give_up_is_not_overwritten_by_a_later_stop() {
    let script = MockScript::new();
    script.open_fail(ErrorKind::NotFound);
    let stream = mock_builder("mock://camera/missing", &script)
        .start()
        .unwrap();
    let reason = match stream.wait_next(0, WAITER_TIMEOUT) {
        Err(WaitError::Ended(reason)) => reason,
        other => panic!("expected the give-up, got {other:?}"),
    };
    assert!(matches!(&reason, EndReason::GaveUp(e) if e.kind() == ErrorKind::NotFound));
    stream.stop();
    assert!(matches!(stream.end_reason(), Some(EndReason::GaveUp(_))));
}

/// A waker that counts its live clones: what a future keeps registered shows in the count.
struct CountingWaker;

impl Wake for CountingWaker {
    fn wake(self: Arc<Self>) {}
}

fn counting_waker() -> (Arc<CountingWaker>, Waker) {
    let counter = Arc::new(CountingWaker);
    let waker = Waker::from(Arc::clone(&counter));
    (counter, waker)
}

/// Live clones of the waker besides the test's own two handles.
fn registered(counter: &Arc<CountingWaker>) -> usize {
    Arc::strong_count(counter) - 2
}

#[test]
fn dropped_futures_and_streams_leave_no_waker_behind() {
    let (stream, script) = one_frame_then(Ending::Stop);
    let (counter, waker) = counting_waker();
    let mut cx = Context::from_waker(&waker);
    {
        let mut pending: Vec<_> = (0..100).map(|_| stream.next_frame(1)).collect();
        for future in &mut pending {
            assert!(pin!(future).poll(&mut cx).is_pending());
        }
        assert_eq!(registered(&counter), 100);
        // Polled again by the same task: no second clone.
        assert!(pin!(&mut pending[0]).poll(&mut cx).is_pending());
        assert_eq!(registered(&counter), 100);
    }
    assert_eq!(registered(&counter), 0, "dropped futures kept their wakers");
    {
        let mut frames = stream.frame_stream();
        assert!(matches!(
            frames.poll_next_unpin(&mut cx),
            Poll::Ready(Some(_))
        ));
        assert!(frames.poll_next_unpin(&mut cx).is_pending());
        let mut events = stream.events();
        assert!(events.poll_next_unpin(&mut cx).is_pending());
        assert_eq!(registered(&counter), 2);
    }
    assert_eq!(registered(&counter), 0, "dropped streams kept their wakers");
    // A future that completes lets go of its waker without being dropped.
    let mut next = stream.next_frame(1);
    assert!(pin!(&mut next).poll(&mut cx).is_pending());
    assert_eq!(registered(&counter), 1);
    stream.stop();
    assert!(matches!(
        pin!(&mut next).poll(&mut cx),
        Poll::Ready(Err(EndReason::Stopped))
    ));
    assert_eq!(registered(&counter), 0);
    drop(script);
}

#[test]
fn stop_async_requests_the_stop_at_once_and_never_blocks_the_caller() {
    // A backend blocked in read, ignoring cancellation: the stop has to wait out its bound.
    let script = one_frame_script();
    script.hang();
    let stop_timeout = Duration::from_secs(2);
    let stream = mock_builder("mock://camera/stuck", &script)
        .stop_timeout(stop_timeout)
        .start()
        .unwrap();
    let seq = stream.wait_next(0, PATIENCE).unwrap().seq();
    common::wait_until("the read hangs", || script.read_count() >= 2);
    let (counter, waker) = counting_waker();
    let mut cx = Context::from_waker(&waker);
    let called = Instant::now();
    let mut stopping = stream.stop_async();
    // Requested now: waiters see the end before the worker has wound down…
    assert!(matches!(stream.end_reason(), Some(EndReason::Stopped)));
    assert!(matches!(
        stream.wait_next(seq, WAITER_TIMEOUT),
        Err(WaitError::Ended(EndReason::Stopped))
    ));
    // …while the stop itself is still waiting for the stuck backend, off this thread.
    assert!(pin!(&mut stopping).poll(&mut cx).is_pending());
    assert_eq!(registered(&counter), 1);
    futures::executor::block_on(&mut stopping);
    assert!(called.elapsed() <= stop_timeout + WITHIN);
    assert_eq!(registered(&counter), 0);
    assert_eq!(stream.state(), State::Stopped);
    assert!(!stream.is_running());
    assert_eq!(stream.stats().detached_threads, 1);
    // Stopping again, or from a handle, resolves at once.
    futures::executor::block_on(stream.stop_async());
    futures::executor::block_on(stream.stop_handle().stop_async());
    script.release();
}

#[test]
fn a_plain_stop_waits_for_a_stop_async_in_progress_and_start_follows_it() {
    let script = one_frame_script();
    script.hang();
    let stream = mock_builder("mock://camera/stuck", &script)
        .stop_timeout(Duration::from_millis(400))
        .start()
        .unwrap();
    stream.wait_next(0, PATIENCE).unwrap();
    common::wait_until("the read hangs", || script.read_count() >= 2);
    let stopping = stream.stop_async();
    // The second stop returns only once the run is muted, as `stop()` promises.
    stream.stop();
    assert_eq!(stream.state(), State::Stopped);
    assert_eq!(stream.stats().detached_threads, 1);
    futures::executor::block_on(stopping);
    script.push(MockStep::OpenFail(ErrorKind::NotFound));
    stream.start().unwrap();
    assert!(matches!(
        stream.wait_next(1, WAITER_TIMEOUT),
        Err(WaitError::Ended(EndReason::GaveUp(_)))
    ));
    script.release();
}

#[test]
fn the_event_stream_sees_a_run_from_start_to_stop_and_then_ends() {
    let script = one_frame_script();
    script.stall();
    let stream = mock_builder("mock://camera/events", &script)
        .build()
        .unwrap();
    // Subscribed before start(): the whole run.
    let events = stream.events();
    stream.start().unwrap();
    stream.wait_next(0, PATIENCE).unwrap();
    let names = on_tokio(true, async {
        let mut events = events;
        let mut names = Vec::new();
        while let Some(item) = events.next().await {
            let event = item.expect("no lag with a handful of events");
            names.push(event.name());
            if matches!(event, Event::FirstFrame { .. }) {
                stream.stop_async().await;
            }
        }
        names
    });
    assert_eq!(
        names,
        ["connecting", "connected", "first_frame", "stopped"],
        "the stream ends after the run's last event"
    );
}
