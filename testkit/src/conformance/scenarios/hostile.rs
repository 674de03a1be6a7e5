//! Hostile peers and absurd settings: slow answers, huge headers, error statuses, session
//! descriptions with nothing to decode, timeouts of `Duration::MAX`, pictures too large.

use super::{
    Abilities, BLIND_ATTEMPTS, FIRST_FRAME, PATIENCE, Stage, builder, first_frame, server,
};
use crate::conformance::helpers::{EventRecorder, serial};
use crate::process::{fd_count, process_inventory, thread_count};
use crate::{HostilePeer, HostilePeerProcess, Hostility, ServerOptions};
use rtsp_stream_core::{CaptureBackend, ErrorKind, Event, Notice};
use std::time::{Duration, Instant};

/// Open timeout of the slow-peer attempts.
pub const SLOW_PEER_OPEN: Duration = Duration::from_millis(500);

/// What [`slow_peers_cost_nothing`] measured.
#[derive(Debug, Clone)]
pub struct SlowPeerReport {
    /// For each attempt, how long it outlasted the open timeout.
    pub overruns: Vec<Duration>,
    /// Threads after attempt 10 and after the last one.
    pub threads: (usize, usize),
    /// Open descriptors after attempt 10 and after the last one.
    pub fds: (usize, usize),
    /// Attempts past the last one it took the counts to come back to those of attempt 10.
    pub settling_attempts: usize,
}

/// A peer that answers one byte a second, alternating with one that answers with a 10 MiB
/// header line (in a child process, so that only the stream is measured): every attempt ends
/// within `open_timeout + cancel_grace + 0.5 s`, and the threads and open descriptors after
/// the last attempt come back (within 40 s more of failing attempts) to those after attempt
/// 10. The peer is the current executable re-run
/// with `child_args` (for a test: `--exact` and its own name); the executable must call
/// [`TestServerProcess::serve_child_if_requested`](crate::TestServerProcess::serve_child_if_requested)
/// first thing.
pub fn slow_peers_cost_nothing<B: CaptureBackend>(
    config: &B::Config,
    child_args: &[&str],
    attempts: usize,
) -> SlowPeerReport {
    assert!(attempts > 10, "attempts are compared with attempt 10");
    let _serial = serial();
    let args = child_args;
    let peer = HostilePeerProcess::spawn(
        &[
            Hostility::SlowAnswer(Duration::from_secs(1)),
            Hostility::HugeHeader(10 << 20),
        ],
        args,
    )
    .expect("the hostile peer starts");
    let grace = Duration::from_secs(1);
    let bound = SLOW_PEER_OPEN + grace + Duration::from_millis(500);
    // Threads and descriptors are counted while the stream backs off, when the attempt before
    // has ended (its capture thread joined, or left behind and counted): the fewest seen over
    // most of the pause, since GStreamer hands finished task threads back to a pool a moment
    // later.
    let pause = Duration::from_millis(400);
    let events = EventRecorder::new();
    let stream = builder::<B>(&peer.url(), config, &events)
        .open_timeout(SLOW_PEER_OPEN)
        .cancel_grace(grace)
        .reconnect_delay(pause)
        .max_reconnect_delay(pause)
        .start()
        .unwrap();
    let counts = || {
        let until = Instant::now() + pause * 3 / 4;
        let mut fewest = (usize::MAX, usize::MAX);
        while Instant::now() < until {
            fewest = fewest.min((thread_count(None), fd_count(None)));
            std::thread::sleep(Duration::from_millis(20));
        }
        fewest
    };
    let mut overruns = Vec::with_capacity(attempts);
    let mut at_10 = (0, 0);
    for n in 0..attempts {
        let (started, _) = events.wait_nth("connecting", n, PATIENCE);
        let (ended, e) = events.wait_nth("backing_off", n, PATIENCE);
        if n + 1 == 10 {
            at_10 = counts();
        }
        let took = ended - started;
        assert!(
            took <= bound,
            "attempt {n} took {took:?} (bound {bound:?}); events {:?}",
            events.names()
        );
        assert!(matches!(e, Event::BackingOff { .. }));
        overruns.push(took.saturating_sub(SLOW_PEER_OPEN));
    }
    // A leak grows with the attempts and never comes back; an attempt's teardown that a busy
    // machine delays (a thread left behind until its library's own timeout) does. So the
    // stream goes on failing for up to SETTLE more, and the counts must come back to those of
    // attempt 10 in one of those pauses.
    const SETTLE: Duration = Duration::from_secs(40);
    let settle_until = Instant::now() + SETTLE;
    let mut last = counts();
    let mut n = attempts;
    while !(last.0 <= at_10.0 && last.1 <= at_10.1) && Instant::now() < settle_until {
        events.wait_nth("backing_off", n, PATIENCE);
        last = counts();
        n += 1;
    }
    let threads_left = stream.stats().detached_threads;
    stream.stop();
    assert!(
        last.0 <= at_10.0 && last.1 <= at_10.1,
        "(threads, descriptors) {last:?} after attempt {n}, {SETTLE:?} after attempt {attempts}, \
         vs {at_10:?} after attempt 10 ({threads_left} threads left behind): {}",
        process_inventory()
    );
    assert_eq!(stream.stats().frames_decoded, 0);
    SlowPeerReport {
        overruns,
        threads: (at_10.0, last.0),
        fds: (at_10.1, last.1),
        settling_attempts: n - attempts,
    }
}

/// A server that answers `400 Bad Request`: retrying cannot fix the request, so the stream
/// gives up at once with a permanent error (a backend that cannot see the status gives up
/// after its attempts, with the password nowhere).
pub fn bad_request_is_permanent<B: CaptureBackend>(config: &B::Config, can: Abilities) {
    let _serial = serial();
    let peer = HostilePeer::start(vec![Hostility::Status(400)]).unwrap();
    let events = EventRecorder::new();
    let stream = builder::<B>(&peer.url(), config, &events)
        .max_reconnect_attempts(BLIND_ATTEMPTS)
        .start()
        .unwrap();
    let error = events.gave_up(PATIENCE);
    if can.reports_rtsp_status {
        assert!(!error.is_transient(), "400 was retried: {error}");
        assert_eq!(events.count("connecting"), 1, "{:?}", events.names());
    } else {
        assert_eq!(events.count("connecting"), BLIND_ATTEMPTS as usize);
    }
    assert!(!error.message().is_empty());
    stream.stop();
}

/// A session description with no picture in it (a metadata-only profile): a permanent
/// "unsupported" error, and no fallback to UDP, since the server refused no transport.
pub fn no_usable_media_is_not_a_transport_refusal<B: CaptureBackend>(
    config: &B::Config,
    can: Abilities,
) {
    let _serial = serial();
    let peer = HostilePeer::start(vec![Hostility::Session {
        sdp: Hostility::metadata_only_sdp(),
        setup_status: 200,
    }])
    .unwrap();
    let events = EventRecorder::new();
    let stream = builder::<B>(&peer.url(), config, &events)
        .max_reconnect_attempts(BLIND_ATTEMPTS)
        .start()
        .unwrap();
    let error = events.gave_up(PATIENCE);
    let fell_back = events
        .events()
        .iter()
        .any(|e| matches!(e, Event::Notice(Notice::TransportFallback { .. })));
    assert!(!fell_back, "a fallback without a 461: {:?}", events.names());
    if can.reports_rtsp_status {
        assert_eq!(error.kind(), ErrorKind::Unsupported, "{error}");
        assert_eq!(events.count("connecting"), 1, "{:?}", events.names());
    }
    stream.stop();
}

/// Timeouts of `Duration::MAX` (a way of saying "never") neither panic a thread nor make an
/// open fail: frames flow, and `stop()` is bounded.
pub fn huge_timeouts_are_harmless<B: CaptureBackend>(config: &B::Config) {
    let stage = Stage::new();
    let events = &stage.events;
    let stream = stage
        .builder::<B>(config, None)
        .open_timeout(Duration::MAX)
        .first_frame_timeout(Duration::MAX)
        .stall_timeout(Duration::MAX)
        .max_reconnect_delay(Duration::MAX)
        .cancel_grace(Duration::MAX)
        .start()
        .unwrap();
    let frame = first_frame(&stream, events);
    assert_eq!((frame.width(), frame.height()), (320, 240));
    let t = Instant::now();
    stream.stop();
    assert!(
        t.elapsed() < Duration::from_secs(2),
        "stop took {:?}",
        t.elapsed()
    );
}

/// Pictures larger than `max_frame_pixels`: a permanent error that names the size and the
/// option, and no frame.
pub fn pictures_over_the_limit_are_refused<B: CaptureBackend>(config: &B::Config) {
    let stage = Stage::new();
    let events = &stage.events;
    let stream = stage
        .builder::<B>(config, None)
        .max_frame_pixels(160 * 120)
        .start()
        .unwrap();
    let error = events.gave_up(FIRST_FRAME + PATIENCE);
    assert_eq!(error.kind(), ErrorKind::Unsupported, "{error}");
    let message = error.message();
    assert!(
        message.contains("320×240") && message.contains("max_frame_pixels"),
        "{message}"
    );
    assert_eq!(stream.stats().frames_decoded, 0);
    assert!(stream.read().is_none());
}

/// A password holding every character URLs use (`@ : / ? # !`), written into the URL as
/// people paste it: the stream reads it right, connects, and prints it nowhere.
pub fn awkward_passwords_connect<B: CaptureBackend>(config: &B::Config) {
    let _serial = serial();
    const PASSWORD: &str = "p@ss:w/rd#?!";
    let server = server(ServerOptions {
        credentials: Some(("viewer".into(), PASSWORD.into())),
        ..ServerOptions::default()
    });
    let url = server
        .url()
        .replace("rtsp://", &format!("rtsp://viewer:{PASSWORD}@"));
    let events = EventRecorder::new();
    let stream = builder::<B>(&url, config, &events).start().unwrap();
    first_frame(&stream, &events);
    let printed = format!("{stream:?} {} {:?}", stream.source(), events.events());
    assert!(!printed.contains(PASSWORD), "{printed}");
    stream.stop();
}

/// A camera whose answers carry line breaks, escape sequences and a line of its choosing (an
/// unparseable session description): what the stream reports — its error, its events — is on
/// one line, bounded, with the camera's control characters escaped.
pub fn camera_text_stays_on_one_line<B: CaptureBackend>(config: &B::Config) {
    let _serial = serial();
    let forged = "\r\n[ERROR rtsp_stream] forged line \u{1b}[31m";
    let sdp = format!(
        "v=0\r\no=- 1 1 IN IP4 127.0.0.1\r\ns={forged}\r\nm=video 0 RTP/AVP 96\r\n\
         a=rtpmap:96 H264/90000\r\na=fmtp:96 sprop-parameter-sets=%%%{forged}\r\n{}",
        "a=x-junk:".repeat(2000)
    );
    let peer = HostilePeer::start(vec![Hostility::Session {
        sdp,
        setup_status: 200,
    }])
    .unwrap();
    let events = EventRecorder::new();
    let stream = builder::<B>(&peer.url(), config, &events)
        .max_reconnect_attempts(1)
        .start()
        .unwrap();
    let error = events.gave_up(PATIENCE);
    stream.stop();
    let printed = [
        error.to_string(),
        format!("{error:?}"),
        format!("{:?}", events.events()),
    ];
    for text in &printed {
        assert!(
            !text.contains(['\n', '\r', '\u{1b}']),
            "a camera's control characters in: {text}"
        );
    }
    assert!(error.to_string().chars().count() < 1500, "{error}");
}
