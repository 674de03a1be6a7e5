//! The scenarios. Each panics with a message saying what did not hold.

use super::helpers::{EventRecorder, StderrLogger, serial, wait_until};
use crate::{Codec, FaultProxy, PATTERN_COLOURS, ProxyMode, ServerOptions, TestServer};
use rtsp_stream_core::{
    CaptureBackend, ErrorKind, Event, Notice, PixelFormat, State, Transport, VideoStream,
    VideoStreamBuilder,
};
use std::net::{SocketAddr, TcpListener};
use std::time::{Duration, Instant};

/// The stop bound the tests assert (the goal is 100 ms; the machine is shared and noisy).
pub const STOP_BOUND: Duration = Duration::from_millis(500);
/// Stall deadline used by the suite.
pub const STALL: Duration = Duration::from_secs(2);
const FIRST_FRAME: Duration = Duration::from_secs(5);
const PATIENCE: Duration = Duration::from_secs(20);
/// Attempts allowed where a backend cannot tell a permanent failure from a transient one.
const BLIND_ATTEMPTS: u32 = 3;

/// What a backend can find out, for the few scenarios where a decoder library hides it. A
/// scenario asserts the exact behaviour where the backend can, and the best available one
/// where it cannot; each field says what that is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Abilities {
    /// Tells a wrong password (RTSP 401) from other failures, as [`ErrorKind::Authentication`].
    /// Without it: the stream fails its attempts with a transient error and gives up after
    /// `max_reconnect_attempts`, and the password still appears nowhere.
    pub reports_authentication: bool,
    /// Tells an unknown path (RTSP 404) from other failures, as [`ErrorKind::NotFound`].
    /// Without it: the stream gives up after `max_reconnect_attempts` with a clear message.
    pub reports_not_found: bool,
    /// Falls back from TCP to UDP by itself with a [`Notice::TransportFallback`] event, and
    /// refuses UDP when TCP is chosen explicitly ([`ErrorKind::TransportRefused`]). Without it:
    /// frames still arrive from a UDP-only server with the default transport (the library
    /// falls back silently), and an explicit transport is refused as a permanent error.
    pub reports_transport_fallback: bool,
    /// Opens several sources at once. Without it (a process-wide lock around opening), a
    /// blackholed camera delays the others' first frame by up to its open timeout; once open
    /// they must still keep their frame rate.
    pub opens_concurrently: bool,
}

impl Abilities {
    /// Everything: what the FFmpeg and GStreamer backends do.
    pub const ALL: Abilities = Abilities {
        reports_authentication: true,
        reports_not_found: true,
        reports_transport_fallback: true,
        opens_concurrently: true,
    };
}

impl Default for Abilities {
    fn default() -> Self {
        Abilities::ALL
    }
}

/// A builder with the suite's deadlines and a short back-off.
fn builder<B: CaptureBackend>(
    url: &str,
    config: &B::Config,
    events: &EventRecorder,
) -> VideoStreamBuilder<B> {
    VideoStream::<B>::builder_with(url, config.clone())
        .open_timeout(Duration::from_secs(5))
        .first_frame_timeout(Duration::from_secs(5))
        .stall_timeout(STALL)
        .reconnect_delay(Duration::from_millis(200))
        .reconnect_backoff(1.5)
        .max_reconnect_delay(Duration::from_secs(1))
        .on_event(events.handler())
}

fn server(options: ServerOptions) -> TestServer {
    TestServer::start(options).expect("the test server starts")
}

fn addr(port: u16) -> SocketAddr {
    SocketAddr::from(([127, 0, 0, 1], port))
}

fn close(a: u8, b: u8) -> bool {
    (a as i32 - b as i32).abs() <= 12
}

/// Asserts the three colour bars of the test picture within ±12 per channel (or in luma).
pub fn assert_pattern_colours(frame: &rtsp_stream_core::Frame) {
    let (w, h) = (frame.width(), frame.height());
    for (i, rgb) in PATTERN_COLOURS.iter().enumerate() {
        let x = w * (2 * i as u32 + 1) / 6;
        let px = frame.pixel(x, h / 4);
        let ok = match frame.pixel_format() {
            PixelFormat::Bgr8 => {
                close(px[0], rgb[2]) && close(px[1], rgb[1]) && close(px[2], rgb[0])
            }
            PixelFormat::Rgb8 => {
                close(px[0], rgb[0]) && close(px[1], rgb[1]) && close(px[2], rgb[2])
            }
            _ => {
                let luma = 0.299 * rgb[0] as f64 + 0.587 * rgb[1] as f64 + 0.114 * rgb[2] as f64;
                close(px[0], luma.round() as u8)
            }
        };
        assert!(
            ok,
            "bar {i} at ({x}, {}) in {}: got {px:?}, want RGB {rgb:?} (±12)",
            h / 4,
            frame.pixel_format()
        );
    }
}

/// First decodable frame within 5 s, right size, right pixel format, right colours.
pub fn first_frame_and_pixel_formats<B: CaptureBackend>(config: &B::Config) {
    let _serial = serial();
    let server = server(ServerOptions::default());
    for format in [PixelFormat::Bgr8, PixelFormat::Rgb8, PixelFormat::Gray8] {
        let events = EventRecorder::new();
        let stream = builder::<B>(&server.url(), config, &events)
            .pixel_format(format)
            .start()
            .unwrap();
        let t = Instant::now();
        let frame = stream
            .wait_next(0, FIRST_FRAME)
            .unwrap_or_else(|| panic!("no {format} frame within 5 s; events {:?}", events.names()));
        assert!(t.elapsed() <= FIRST_FRAME);
        assert_eq!((frame.width(), frame.height()), (320, 240));
        assert_eq!(frame.pixel_format(), format);
        assert!(frame.stride() >= 320 * format.bytes_per_pixel());
        assert_pattern_colours(&frame);
        stream.stop();
    }
}

/// Joining a stream that is already flowing (shared media, mid-way between key frames): the
/// first frame delivered is a decodable picture with the right colours, not a grey one
/// concealed before the first key frame; backends that know say it is a key frame.
pub fn joining_mid_stream_starts_at_a_decodable_frame<B: CaptureBackend>(config: &B::Config) {
    let _serial = serial();
    let server = server(ServerOptions::default());
    let events = EventRecorder::new();
    let first = builder::<B>(&server.url(), config, &events)
        .start()
        .unwrap();
    let mut seen = first.wait_next(0, FIRST_FRAME).expect("a frame");
    for join in 0..3 {
        // Let a few frames pass so the join lands at another point of the key-frame interval.
        for _ in 0..(3 + join) {
            seen = first
                .wait_next(seen.seq(), FIRST_FRAME)
                .expect("frames keep coming");
        }
        let events = EventRecorder::new();
        let joiner = builder::<B>(&server.url(), config, &events)
            .start()
            .unwrap();
        let frame = joiner
            .wait_next(0, FIRST_FRAME)
            .unwrap_or_else(|| panic!("join {join}: no frame; events {:?}", events.names()));
        assert_ne!(frame.is_key_frame(), Some(false), "join {join}");
        assert_pattern_colours(&frame);
        joiner.stop();
    }
    first.stop();
}

/// H.265 and MJPEG streams decode too: right colours, and the codec named `hevc` / `mjpeg`.
pub fn other_codecs_decode<B: CaptureBackend>(config: &B::Config) {
    let _serial = serial();
    for (codec, name) in [(Codec::H265, "hevc"), (Codec::Mjpeg, "mjpeg")] {
        let server = server(ServerOptions {
            codec,
            ..ServerOptions::default()
        });
        let events = EventRecorder::new();
        let stream = builder::<B>(&server.url(), config, &events)
            .start()
            .unwrap();
        let frame = stream
            .wait_next(0, PATIENCE)
            .unwrap_or_else(|| panic!("no {codec:?} frame; events {:?}", events.names()));
        assert_eq!((frame.width(), frame.height()), (320, 240));
        assert_pattern_colours(&frame);
        let props = stream.props().expect("props while a frame is in hand");
        assert_eq!(props.codec.as_deref(), Some(name), "{props:?}");
        stream.stop();
    }
}

/// Pictures large enough that every frame is split over many RTP packets (1280×720) decode
/// at the full rate without a single decode error.
pub fn large_pictures_decode_cleanly<B: CaptureBackend>(config: &B::Config) {
    let _serial = serial();
    let server = server(ServerOptions {
        width: 1280,
        height: 720,
        ..ServerOptions::default()
    });
    let events = EventRecorder::new();
    let stream = builder::<B>(&server.url(), config, &events)
        .start()
        .unwrap();
    let first = stream
        .wait_next(0, PATIENCE)
        .unwrap_or_else(|| panic!("no 720p frame; events {:?}", events.names()));
    assert_eq!((first.width(), first.height()), (1280, 720));
    assert_pattern_colours(&first);
    let (start, t) = (stream.stats().frames_decoded, Instant::now());
    let window = Duration::from_secs(3);
    let mut seq = first.seq();
    while t.elapsed() < window {
        if let Some(f) = stream.wait_next(seq, Duration::from_secs(1)) {
            seq = f.seq();
        }
    }
    let stats = stream.stats();
    let fps = (stats.frames_decoded - start) as f64 / t.elapsed().as_secs_f64();
    assert_eq!(stats.decode_errors, 0, "{stats:?}");
    assert!(fps >= 0.9 * 15.0, "720p decoded at {fps:.1} fps: {stats:?}");
    stream.stop();
}

/// fps, width and height reported by the stream match the server.
pub fn props_match_the_server<B: CaptureBackend>(config: &B::Config) {
    let _serial = serial();
    let server = server(ServerOptions::default());
    let events = EventRecorder::new();
    let stream = builder::<B>(&server.url(), config, &events)
        .start()
        .unwrap();
    assert!(stream.wait_next(0, FIRST_FRAME).is_some(), "no frame");
    assert_eq!((stream.frame_width(), stream.frame_height()), (320, 240));
    // Nominal, or measured when the backend cannot tell: wait for the measurement to settle.
    wait_until(PATIENCE, "fps close to 15", || {
        (stream.fps() - 15.0).abs() < 1.5
    });
    let props = stream.props().expect("props while connected");
    assert!(props.codec.is_some(), "no codec name in {props:?}");
    stream.stop();
}

/// Server stopped and started again on the same port: disconnect, back-off, reconnect, frames
/// with a higher seq and a new generation. Returns the time from the restart to the first new
/// frame.
pub fn server_restart_reconnects<B: CaptureBackend>(config: &B::Config) -> Duration {
    let _serial = serial();
    let server = server(ServerOptions::default());
    let events = EventRecorder::new();
    let disconnects = std::sync::Arc::new(std::sync::atomic::AtomicUsize::new(0));
    let d = disconnects.clone();
    let stream = builder::<B>(&server.url(), config, &events)
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
    let after = loop {
        let f = stream
            .wait_next(before.seq(), PATIENCE)
            .unwrap_or_else(|| panic!("no frame after the restart; events {:?}", events.names()));
        if f.generation() > before.generation() {
            break f;
        }
    };
    let took = restarted.elapsed();
    assert!(after.seq() > before.seq());
    assert!(disconnects.load(std::sync::atomic::Ordering::SeqCst) >= 1);
    assert!(events.count("connected") >= 2, "{:?}", events.names());
    stream.stop();
    took
}

/// A blackholed connection (nothing forwarded, nothing closed) is noticed within the stall
/// deadline + 1 s, and the stream reconnects once traffic passes again. Returns the time from
/// the blackhole to the stall event.
pub fn blackhole_is_detected<B: CaptureBackend>(config: &B::Config) -> Duration {
    let _serial = serial();
    let server = server(ServerOptions::default());
    let proxy = FaultProxy::start(addr(server.port())).unwrap();
    let events = EventRecorder::new();
    let stream = builder::<B>(&server.url_via(proxy.port()), config, &events)
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
    let after = loop {
        let f = stream
            .wait_next(before.seq(), PATIENCE)
            .unwrap_or_else(|| panic!("no frame after the blackhole; events {:?}", events.names()));
        if f.generation() > before.generation() {
            break f;
        }
    };
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

const RIGHT_PASSWORD: &str = "Sekr3t-Pa55";
const WRONG_PASSWORD: &str = "Wr0ng-Pa55w0rd";
const CHILD_ENV: &str = "RTSP_STREAM_CONFORMANCE_CHILD";

/// Wrong password: an authentication error, and neither password anywhere in the log lines,
/// error texts, or the whole stdout and stderr of the process (decoders write to stderr
/// directly, so the scenario runs in a child process, the current test binary re-run with
/// `--exact test_name`).
pub fn wrong_password<B: CaptureBackend>(config: &B::Config, test_name: &str, can: Abilities) {
    if std::env::var(CHILD_ENV).as_deref() == Ok("wrong_password") {
        wrong_password_child::<B>(config, can);
        return;
    }
    let _serial = serial();
    let output = std::process::Command::new(std::env::current_exe().unwrap())
        .args(["--exact", test_name, "--nocapture", "--test-threads=1"])
        .env(CHILD_ENV, "wrong_password")
        .output()
        .expect("run the child");
    let stdout = String::from_utf8_lossy(&output.stdout);
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(
        output.status.success() && stdout.contains("WRONG-PASSWORD-SCENARIO-OK"),
        "child failed: {}\nstdout:\n{stdout}\nstderr:\n{stderr}",
        output.status
    );
    for secret in [WRONG_PASSWORD, RIGHT_PASSWORD] {
        for (name, text) in [("stdout", &stdout), ("stderr", &stderr)] {
            assert!(
                !text.contains(secret),
                "{secret:?} appears in the child's {name}:\n{text}"
            );
        }
    }
    assert!(
        stderr.contains("***"),
        "the child logged nothing redacted?\n{stderr}"
    );
}

fn wrong_password_child<B: CaptureBackend>(config: &B::Config, can: Abilities) {
    StderrLogger::install();
    let server = server(ServerOptions {
        credentials: Some(("viewer".into(), RIGHT_PASSWORD.into())),
        ..ServerOptions::default()
    });
    let in_url = server
        .url()
        .replace("rtsp://", &format!("rtsp://viewer:{WRONG_PASSWORD}@"));
    for (url, separate) in [(in_url, false), (server.url(), true)] {
        let events = EventRecorder::new();
        let mut b = builder::<B>(&url, config, &events);
        if separate {
            b = b.credentials("viewer", WRONG_PASSWORD);
        }
        if !can.reports_authentication {
            b = b.max_reconnect_attempts(BLIND_ATTEMPTS);
        }
        let stream = b.start().unwrap();
        let (_, e) = events.wait_nth("gave_up", 0, PATIENCE);
        let Event::GaveUp { error } = e else {
            unreachable!()
        };
        if can.reports_authentication {
            assert_eq!(error.kind(), ErrorKind::Authentication, "{error}");
        } else {
            // The decoder cannot say why: retried as transient, then given up.
            assert!(error.is_transient(), "{error}");
            assert_eq!(events.count("connecting"), BLIND_ATTEMPTS as usize);
        }
        assert!(stream.read().is_none());
        println!("error: {error}");
        println!("debug: {error:?}");
        println!("stream: {stream:?}");
        println!("events: {:?}", events.events());
        assert_eq!(stream.state(), State::GaveUp);
    }
    // The right password works (the server really checks).
    let events = EventRecorder::new();
    let stream = builder::<B>(&server.url(), config, &events)
        .credentials("viewer", RIGHT_PASSWORD)
        .start()
        .unwrap();
    assert!(
        stream.wait_next(0, FIRST_FRAME).is_some(),
        "the right password is refused"
    );
    stream.stop();
    println!("WRONG-PASSWORD-SCENARIO-OK");
}

/// A server that refuses TCP (461): with the default transport, frames arrive over UDP after a
/// fallback that an event reports; with TCP chosen explicitly, a clear permanent error.
pub fn udp_only_server<B: CaptureBackend>(config: &B::Config, can: Abilities) {
    let _serial = serial();
    let server = server(ServerOptions {
        udp_only: true,
        ..ServerOptions::default()
    });
    let events = EventRecorder::new();
    let stream = builder::<B>(&server.url(), config, &events)
        .start()
        .unwrap();
    let frame = stream.wait_next(0, PATIENCE);
    assert!(
        frame.is_some(),
        "no frame over UDP; events {:?}",
        events.names()
    );
    let fell_back = events.events().iter().any(|(_, e)| {
        matches!(
            e,
            Event::Notice(Notice::TransportFallback {
                from: Transport::Tcp,
                to: Transport::Udp
            })
        )
    });
    assert_eq!(
        fell_back,
        can.reports_transport_fallback,
        "transport-fallback event: {:?}",
        events.names()
    );
    stream.stop();

    let events = EventRecorder::new();
    let stream = builder::<B>(&server.url(), config, &events)
        .transport(Transport::Tcp)
        .start()
        .unwrap();
    let (_, e) = events.wait_nth("gave_up", 0, PATIENCE);
    let Event::GaveUp { error } = e else {
        unreachable!()
    };
    if can.reports_transport_fallback {
        assert_eq!(error.kind(), ErrorKind::TransportRefused, "{error}");
    } else {
        assert!(!error.is_transient(), "{error}");
    }
    assert!(stream.read().is_none());
}

/// An unknown mount path: a clear, permanent error, no hang.
pub fn unknown_path<B: CaptureBackend>(config: &B::Config, can: Abilities) {
    let _serial = serial();
    let server = server(ServerOptions::default());
    let url = format!("rtsp://127.0.0.1:{}/no-such-path", server.port());
    let events = EventRecorder::new();
    let mut b = builder::<B>(&url, config, &events);
    if !can.reports_not_found {
        b = b.max_reconnect_attempts(BLIND_ATTEMPTS);
    }
    let stream = b.start().unwrap();
    let (_, e) = events.wait_nth("gave_up", 0, PATIENCE);
    let Event::GaveUp { error } = e else {
        unreachable!()
    };
    if can.reports_not_found {
        assert_eq!(error.kind(), ErrorKind::NotFound, "{error}");
    } else {
        assert_eq!(events.count("connecting"), BLIND_ATTEMPTS as usize);
    }
    assert!(!error.message().is_empty());
    assert!(stream.read().is_none());
}

/// A TCP port where something answers, but not RTSP: a clear error, no hang, no panic.
pub fn garbage_speaker<B: CaptureBackend>(config: &B::Config) {
    let _serial = serial();
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    listener.set_nonblocking(true).unwrap();
    let stop = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(false));
    let s = stop.clone();
    let speaker = std::thread::spawn(move || {
        use std::io::Write;
        let mut held = Vec::new();
        while !s.load(std::sync::atomic::Ordering::Relaxed) {
            match listener.accept() {
                Ok((mut c, _)) => {
                    let _ = c.write_all(b"\x16\x03\x01 garbage \xff\xfe not rtsp at all\r\n\r\n");
                    held.push(c);
                }
                Err(_) => std::thread::sleep(Duration::from_millis(5)),
            }
        }
    });
    let events = EventRecorder::new();
    let stream = builder::<B>(&format!("rtsp://127.0.0.1:{port}/x"), config, &events)
        .max_reconnect_attempts(2)
        .start()
        .unwrap();
    // Either a permanent error or two failed attempts end the stream; both within bounds.
    let (_, e) = events.wait_nth("gave_up", 0, PATIENCE);
    let Event::GaveUp { error } = e else {
        unreachable!()
    };
    assert!(!error.to_string().is_empty());
    assert!(stream.read().is_none());
    assert_eq!(stream.stats().frames_decoded, 0);
    stop.store(true, std::sync::atomic::Ordering::Relaxed);
    speaker.join().unwrap();
}

/// The server changes resolution between sessions: frames of the new size, a
/// resolution-changed event, updated props.
pub fn resolution_change<B: CaptureBackend>(config: &B::Config) {
    let _serial = serial();
    let server = server(ServerOptions::default());
    let events = EventRecorder::new();
    let stream = builder::<B>(&server.url(), config, &events)
        .start()
        .unwrap();
    let before = stream.wait_next(0, FIRST_FRAME).expect("first frame");
    assert_eq!((before.width(), before.height()), (320, 240));
    server.set_resolution(160, 120).unwrap();
    let after = loop {
        let f = stream
            .wait_next(before.seq(), PATIENCE)
            .unwrap_or_else(|| panic!("no frame after the change; events {:?}", events.names()));
        if (f.width(), f.height()) == (160, 120) {
            break f;
        }
    };
    assert!(after.generation() > before.generation());
    let (_, e) = events.wait_nth("resolution_changed", 0, PATIENCE);
    let Event::ResolutionChanged { props } = e else {
        unreachable!()
    };
    assert_eq!((props.width, props.height), (160, 120));
    wait_until(PATIENCE, "props updated", || {
        (stream.frame_width(), stream.frame_height()) == (160, 120)
    });
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
            s.wait_next(0, first_frame).is_some(),
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
        assert!(fps >= 0.9 * 15.0, "healthy stream {i} fell to {fps:.1} fps");
    }
    assert_eq!(dead.stats().frames_decoded, 0);
    for s in healthy {
        s.stop();
    }
    dead.stop();
}
