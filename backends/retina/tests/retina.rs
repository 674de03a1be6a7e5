//! What the retina backend does beyond the shared suite: the H.264 profiles each decoder
//! decodes, Digest authentication, TEARDOWN at stop, `rtsps://` refused.

use rtsp_stream_core::{ErrorKind, Event};
use rtsp_stream_retina::{RetinaBackend, RetinaConfig, RetinaDecoder};
use rtsp_stream_testkit::conformance::{
    EventRecorder, assert_pattern_colours, builder, first_frame, give_up, serial, start, wait_until,
};
use rtsp_stream_testkit::{H264Profile, ServerOptions, TestServer, decode_stamp};
use std::time::Duration;

const PATIENCE: Duration = Duration::from_secs(20);

fn decoders() -> Vec<RetinaDecoder> {
    vec![
        RetinaDecoder::OpenH264,
        #[cfg(feature = "ffmpeg")]
        RetinaDecoder::Libavcodec,
    ]
}

/// Every profile of the test server decodes with every decoder, openh264 included (Main and
/// High with CABAC, the 8×8 transform and B-frames): the pictures right, in display order.
#[test]
fn each_profile_decodes_with_each_decoder() {
    let _serial = serial();
    for profile in H264Profile::ALL {
        let server = TestServer::start(ServerOptions {
            profile,
            ..ServerOptions::default()
        })
        .unwrap();
        for decoder in decoders() {
            let config = RetinaConfig::with_decoder(decoder);
            let events = EventRecorder::new();
            let stream = start::<RetinaBackend>(&server.url(), &config, &events);
            let (mut seq, mut last_stamp, mut last_pts) = (0, 0, None);
            for _ in 0..10 {
                let frame = stream.wait_next(seq, PATIENCE).unwrap_or_else(|e| {
                    panic!(
                        "{profile:?} with {decoder:?}: {e}; events {:?}",
                        events.names()
                    )
                });
                assert_eq!((frame.width(), frame.height()), (320, 240));
                assert_pattern_colours(&frame);
                // In display order (B-frames are decoded out of it), with their own time stamps.
                let stamp = decode_stamp(&frame).expect("the picture's stamp");
                assert!(
                    stamp > last_stamp,
                    "{profile:?} with {decoder:?}: out of order"
                );
                assert!(frame.pts() > last_pts, "{profile:?} with {decoder:?}: pts");
                (seq, last_stamp, last_pts) = (frame.seq(), stamp, frame.pts());
            }
            assert_eq!(
                stream.stats().decode_errors,
                0,
                "{profile:?} with {decoder:?}"
            );
            stream.stop();
        }
    }
}

#[test]
fn digest_authentication() {
    let _serial = serial();
    let server = TestServer::start(ServerOptions {
        credentials: Some(("admin".into(), "s3cr:t@#".into())),
        digest: true,
        ..ServerOptions::default()
    })
    .unwrap();
    let url = server.url();
    let events = EventRecorder::new();
    let stream = builder::<RetinaBackend>(&url, &RetinaConfig::default(), &events)
        .credentials("admin", "s3cr:t@#")
        .start()
        .unwrap();
    let frame = first_frame(&stream, &events);
    assert_pattern_colours(&frame);
    stream.stop();

    let wrong = url.replacen("rtsp://", "rtsp://admin:wrong@", 1);
    let (error, events) = give_up::<RetinaBackend>(&wrong, &RetinaConfig::default());
    assert_eq!(error.kind(), ErrorKind::Authentication, "{error}");
    assert_eq!(
        events.count("connecting"),
        1,
        "a wrong password was retried"
    );
    assert!(!format!("{error} {error:?}").contains("wrong"));
}

#[test]
fn rtsps_is_refused_and_names_the_backends_that_can() {
    let (error, _) = give_up::<RetinaBackend>("rtsps://127.0.0.1:1/x", &RetinaConfig::default());
    assert_eq!(error.kind(), ErrorKind::Unsupported, "{error}");
    assert!(error.to_string().contains("TLS"), "{error}");
}

#[test]
fn stop_tears_the_session_down() {
    let _serial = serial();
    let server = TestServer::start(ServerOptions::default()).unwrap();
    let events = EventRecorder::new();
    let stream = start::<RetinaBackend>(&server.url(), &RetinaConfig::default(), &events);
    first_frame(&stream, &events);
    assert_eq!(server.session_count(), 1);
    stream.stop();
    // Without a TEARDOWN the session would stay until its 60 s timeout.
    wait_until(
        Duration::from_secs(2),
        "the server dropped the session",
        || server.session_count() == 0,
    );
}

#[test]
fn connected_carries_the_props_and_the_transport() {
    let _serial = serial();
    let server = TestServer::start(ServerOptions::default()).unwrap();
    let events = EventRecorder::new();
    let stream = start::<RetinaBackend>(&server.url(), &RetinaConfig::default(), &events);
    let (_, _, connected) = events.wait_for(0, PATIENCE, "connected", |e| {
        matches!(e, Event::Connected { .. })
    });
    let Event::Connected { props, .. } = connected else {
        unreachable!()
    };
    assert_eq!((props.width, props.height), (320, 240), "{props:?}");
    assert_eq!(props.codec.as_deref(), Some("h264"));
    assert_eq!(props.fps, Some(15.0), "{props:?}");
    stream.stop();
}

/// Eight clients joining one shared media as it starts (a group of cameras on one server):
/// each follows the packets it gets, not the sequence number the server announced in its PLAY
/// answer (gst-rtsp-server announces one that packets already queued for a joining client do
/// not follow), and none is dropped as "out-of-order packet or large loss". The second round
/// joins as the first round's sessions are torn down, where the mismatch showed.
#[test]
fn clients_joining_a_shared_media_stay_connected() {
    let _serial = serial();
    let server = TestServer::start(ServerOptions {
        width: 640,
        height: 480,
        fps: 30,
        key_interval: 30,
        ..ServerOptions::default()
    })
    .unwrap();
    for round in 0..2 {
        let clients: Vec<_> = (0..8)
            .map(|_| {
                let events = EventRecorder::new();
                let stream =
                    start::<RetinaBackend>(&server.url(), &RetinaConfig::default(), &events);
                (stream, events)
            })
            .collect();
        for (i, (stream, events)) in clients.iter().enumerate() {
            let mut seq = 0;
            for _ in 0..15 {
                seq = stream
                    .wait_next(seq, PATIENCE)
                    .unwrap_or_else(|e| panic!("round {round}, client {i}: {e}"))
                    .seq();
            }
            assert_eq!(
                events.count("disconnected"),
                0,
                "round {round}, client {i} was dropped: {:?}",
                stream.stats().last_error
            );
        }
    }
}

/// A camera that announces a body of 4 GB and sends it without end, or a header line
/// without end: retina's buffering is bounded, so the attempt fails at once with an error (not
/// at the open deadline) and memory does not grow with what the camera sends.
#[test]
fn what_a_camera_sends_is_buffered_within_bounds() {
    use rtsp_stream_testkit::process::rss_bytes;
    use rtsp_stream_testkit::{HostilePeer, Hostility};
    let _serial = serial();
    for hostility in [Hostility::EndlessBody, Hostility::HugeHeader(256 << 20)] {
        let peer = HostilePeer::start(vec![hostility.clone()]).unwrap();
        let before = rss_bytes(None);
        let events = EventRecorder::new();
        let stream = builder::<RetinaBackend>(&peer.url(), &RetinaConfig::default(), &events)
            .open_timeout(Duration::from_secs(60))
            .max_reconnect_attempts(1)
            .start()
            .unwrap();
        let started = std::time::Instant::now();
        let error = events.gave_up(PATIENCE);
        let took = started.elapsed();
        let grew = rss_bytes(None).saturating_sub(before);
        stream.stop();
        assert!(
            took < Duration::from_secs(10),
            "{hostility:?}: {took:?} ({error})"
        );
        assert!(
            error.message().contains("message-too-large")
                || error.message().contains("larger than"),
            "{hostility:?}: {error}"
        );
        assert!(
            grew < 64 << 20,
            "{hostility:?}: RSS grew by {} MB",
            grew >> 20
        );
    }
}

/// A request no server can take (a path of 100 KB) is answered with `400 Bad Request`, or the
/// server closes the connection: either way the stream gives up at once, with no retry.
#[test]
fn a_request_the_server_refuses_as_bad_is_not_retried() {
    let _serial = serial();
    let server = TestServer::start(ServerOptions::default()).unwrap();
    let url = format!("{}/{}", server.url(), "x".repeat(100 * 1024));
    let events = EventRecorder::new();
    let stream = builder::<RetinaBackend>(&url, &RetinaConfig::default(), &events)
        .max_reconnect_attempts(3)
        .start()
        .unwrap();
    let error = events.gave_up(PATIENCE);
    stream.stop();
    assert!(!error.is_transient(), "{error}");
    assert_eq!(
        events.count("connecting"),
        1,
        "{:?}: {error}",
        events.names()
    );
}

/// retina's libavcodec decoder, fed broken access units (a camera over UDP losing packets,
/// joined between key frames), writes nothing to standard error: libavcodec's complaints reach
/// the `log` sink under `rtsp_stream::ffmpeg`, scrubbed. In a child process, whose standard
/// error is the decoder's only way past the logger.
#[cfg(feature = "ffmpeg")]
#[test]
fn libavcodec_complaints_reach_the_log_not_stderr() {
    const CHILD: &str = "RETINA_LIBAV_LOG_CHILD";
    const PASSWORD: &str = "Zq9-libav-secret";
    if std::env::var_os(CHILD).is_some() {
        libav_log_child(PASSWORD);
        return;
    }
    let _serial = serial();
    let out = std::process::Command::new(std::env::current_exe().unwrap())
        .args([
            "--exact",
            "libavcodec_complaints_reach_the_log_not_stderr",
            "--nocapture",
            "--test-threads=1",
        ])
        .env(CHILD, "1")
        .output()
        .expect("the child runs");
    let stdout = String::from_utf8_lossy(&out.stdout);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "child failed:\n{stdout}\n{stderr}");
    // The decoder's complaints about the damaged slices, at warning level or above.
    let complaints = stdout
        .lines()
        .filter(|l| {
            l.starts_with("RECORD WARN rtsp_stream::ffmpeg ")
                || l.starts_with("RECORD ERROR rtsp_stream::ffmpeg ")
        })
        .count();
    assert!(
        complaints > 0,
        "no complaint of libavcodec reached the log sink:\n{stdout}"
    );
    // libavcodec's own format, `[h264 @ 0x…] …`, is what it writes when nobody routes it.
    assert!(
        !stderr.contains(" @ 0x"),
        "libavcodec wrote to stderr:\n{stderr}"
    );
    for text in [&*stdout, &*stderr] {
        assert!(
            !text.contains(PASSWORD),
            "the password was printed:\n{text}"
        );
    }
}

#[cfg(feature = "ffmpeg")]
fn libav_log_child(password: &str) {
    use rtsp_stream_testkit::camera::{Auth, AuthKind, CameraServer, Impairment, Scenario};
    use rtsp_stream_testkit::content::ContentSpec;

    struct Recorder;
    impl log::Log for Recorder {
        fn enabled(&self, _: &log::Metadata<'_>) -> bool {
            true
        }
        fn log(&self, record: &log::Record<'_>) {
            let text = record.args().to_string().replace(['\n', '\r'], " ");
            println!("RECORD {} {} {text}", record.level(), record.target());
        }
        fn flush(&self) {}
    }
    log::set_logger(&Recorder).expect("the only logger");
    log::set_max_level(log::LevelFilter::Trace);

    let mut scenario = Scenario::new(ContentSpec::camera(320, 240, 15, 300));
    scenario.auth = Some(Auth {
        kind: AuthKind::Digest,
        user: "viewer".into(),
        password: password.into(),
        ask_again_after: None,
        stale_after: None,
    });
    scenario.start_at_key_frame = false;
    scenario.impairment = Impairment {
        drop: 0.02,
        corrupt: 0.2,
        seed: 7,
        ..Impairment::default()
    };
    let camera = CameraServer::start(scenario).expect("the camera starts");
    let url = camera
        .url()
        .replace("rtsp://", &format!("rtsp://viewer:{password}@"));
    let events = EventRecorder::new();
    let stream = builder::<RetinaBackend>(
        &url,
        &RetinaConfig::with_decoder(RetinaDecoder::Libavcodec),
        &events,
    )
    .transport(rtsp_stream_core::Transport::Udp)
    .start()
    .expect("the stream starts");
    // Frames decode between the broken ones; a few seconds of losses are plenty.
    wait_until(PATIENCE, "decode errors and frames", || {
        let stats = stream.stats();
        stats.decode_errors >= 3 && stats.frames_decoded >= 15
    });
    stream.stop();
}
