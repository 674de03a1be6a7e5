//! What the GStreamer backend does beyond the shared suite: key frames, custom pipelines, and
//! no thread left behind.

use rtsp_stream_core::{ErrorKind, VideoStream};
use rtsp_stream_gstreamer::{GstreamerBackend, GstreamerConfig};
use rtsp_stream_testkit::conformance::{
    EventRecorder, builder, default_server, first_frame, give_up, settle, start, wait_until,
};
use rtsp_stream_testkit::process::thread_count;
use std::time::Duration;

const PATIENCE: Duration = Duration::from_secs(20);

#[test]
fn a_custom_pipeline_runs_with_the_streams_source_and_format() {
    let (_serial, server) = default_server();
    let events = EventRecorder::new();
    let mut config = GstreamerConfig::default();
    config.pipeline = Some(
        "rtspsrc name=src latency=0 protocols=tcp ! rtph264depay ! h264parse \
         ! avdec_h264 ! videoconvert ! appsink name=frames"
            .into(),
    );
    config.appsink_name = "frames".into();
    let s = VideoStream::<GstreamerBackend>::builder_with(server.url(), config)
        .pixel_format(rtsp_stream_core::PixelFormat::Gray8)
        .on_event(events.handler())
        .start()
        .unwrap();
    let frame = first_frame(&s, &events);
    assert_eq!(frame.pixel_format(), rtsp_stream_core::PixelFormat::Gray8);
    assert_eq!((frame.width(), frame.height()), (320, 240));
    rtsp_stream_testkit::conformance::assert_pattern_colours(&frame);
    s.stop();
}

#[test]
fn a_custom_pipeline_without_its_appsink_is_a_permanent_error() {
    let mut config = GstreamerConfig::default();
    config.pipeline = Some("videotestsrc ! fakesink".into());
    let (error, _) = give_up::<GstreamerBackend>("rtsp://127.0.0.1:1/x", &config);
    assert_eq!(error.kind(), ErrorKind::InvalidConfig, "{error}");
    assert!(error.message().contains("appsink"), "{error}");
}

#[test]
fn stop_leaves_no_thread_behind() {
    let (_serial, server) = default_server();
    let cycle = || {
        let events = EventRecorder::new();
        // Leaks, not stop latency, are what this measures: a pipeline's teardown may outlast
        // the default 100 ms on a busy machine, and the thread would be detached by design.
        let s = builder::<GstreamerBackend>(&server.url(), &GstreamerConfig::default(), &events)
            .stop_timeout(Duration::from_secs(5))
            .start()
            .expect("the stream starts");
        assert!(s.wait_next(0, PATIENCE).is_ok(), "{:?}", events.names());
        s.stop();
        assert_eq!(s.stats().detached_threads, 0);
    };
    for _ in 0..3 {
        cycle();
    }
    let baseline = settle(|| thread_count(None), None, Duration::from_secs(10));
    for _ in 0..5 {
        cycle();
    }
    let after = settle(
        || thread_count(None),
        Some(baseline),
        Duration::from_secs(10),
    );
    assert_eq!(after, baseline, "threads after 5 more start/stop cycles");
}

/// An RTSP open abandoned while its peer answers a byte a second is ended by shutting its own
/// connection down — only its own: a socket of the application to the same peer, opened
/// meanwhile, and a second camera streaming beside it stay connected. 50 times.
#[test]
fn an_abandoned_open_shuts_down_only_its_own_connection() {
    use rtsp_stream_testkit::{HostilePeer, Hostility};
    use std::io::{ErrorKind as IoKind, Read, Write};
    let (_serial, server) = default_server();
    let peer = HostilePeer::start(vec![Hostility::SlowAnswer(Duration::from_secs(1))]).unwrap();
    let events = EventRecorder::new();
    let camera = start::<GstreamerBackend>(&server.url(), &GstreamerConfig::default(), &events);
    let mut seq = first_frame(&camera, &events).seq();
    for round in 0..50 {
        let accepted = peer.accepted();
        let slow =
            VideoStream::<GstreamerBackend>::builder_with(peer.url(), GstreamerConfig::default())
                .open_timeout(Duration::from_secs(30))
                .start()
                .unwrap();
        rtsp_stream_testkit::conformance::wait_until(PATIENCE, "the peer accepts", || {
            peer.accepted() > accepted
        });
        // Long enough for the open to have seen its connection appear.
        std::thread::sleep(Duration::from_millis(100));
        let mut other = std::net::TcpStream::connect(("127.0.0.1", peer.port())).unwrap();
        rtsp_stream_testkit::conformance::wait_until(PATIENCE, "the peer accepts it", || {
            peer.accepted() > accepted + 1
        });
        slow.stop();
        drop(slow);
        other
            .write_all(b"OPTIONS rtsp://x/ RTSP/1.0\r\nCSeq: 1\r\n\r\n")
            .unwrap_or_else(|e| panic!("round {round}: the application's socket was shut: {e}"));
        other
            .set_read_timeout(Some(Duration::from_millis(200)))
            .unwrap();
        let mut byte = [0u8; 1];
        match other.read(&mut byte) {
            Ok(1) => {}
            Ok(_) => panic!("round {round}: the application's socket was shut down"),
            Err(e) if matches!(e.kind(), IoKind::WouldBlock | IoKind::TimedOut) => {}
            Err(e) => panic!("round {round}: the application's socket broke: {e}"),
        }
        let frame = camera
            .wait_next(seq, PATIENCE)
            .unwrap_or_else(|e| panic!("round {round}: the second camera stopped: {e}"));
        assert_eq!(
            frame.generation(),
            1,
            "round {round}: the second camera reconnected"
        );
        seq = frame.seq();
    }
    camera.stop();
}

const GST_DEBUG_CHILD: &str = "RTSP_STREAM_GST_DEBUG_CHILD";
const DEBUG_PASSWORD: &str = "Gst-Debug-Pw-Zq5";
const DEBUG_TOKEN: &str = "Gst-Tok-Zq9";

/// With `GST_DEBUG=*:6` (everything GStreamer says, requests and answers included), a stream
/// with credentials prints them nowhere: GStreamer's debug output goes through the scrubber.
#[test]
fn gstreamer_debug_output_is_scrubbed() {
    if let Ok(url) = std::env::var(GST_DEBUG_CHILD) {
        let events = EventRecorder::new();
        let s = start::<GstreamerBackend>(&url, &GstreamerConfig::default(), &events);
        first_frame(&s, &events);
        s.stop();
        println!("GST-DEBUG-CHILD-DONE");
        std::process::exit(0);
    }
    // The server runs here, without GST_DEBUG: only the child's stream is watched.
    let _serial = rtsp_stream_testkit::conformance::serial();
    let server = rtsp_stream_testkit::TestServer::start(rtsp_stream_testkit::ServerOptions {
        credentials: Some(("viewer".into(), DEBUG_PASSWORD.into())),
        ..rtsp_stream_testkit::ServerOptions::default()
    })
    .unwrap();
    // The token rides in the URL, where GStreamer prints it (the password goes through
    // `user-pw`, which it does not print).
    let url = format!(
        "{}?token={DEBUG_TOKEN}",
        server
            .url()
            .replace("rtsp://", &format!("rtsp://viewer:{DEBUG_PASSWORD}@"))
    );
    let out = std::process::Command::new(std::env::current_exe().unwrap())
        .args([
            "--exact",
            "gstreamer_debug_output_is_scrubbed",
            "--nocapture",
        ])
        .env(GST_DEBUG_CHILD, url)
        .env("GST_DEBUG", "*:6")
        .env("GST_DEBUG_NO_COLOR", "1")
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    let stderr = String::from_utf8_lossy(&out.stderr);
    let tail = &stderr[stderr.len().saturating_sub(4000)..];
    assert!(stdout.contains("GST-DEBUG-CHILD-DONE"), "{stdout}\n{tail}");
    assert!(
        stderr.contains("rtspsrc"),
        "no GStreamer debug output at all"
    );
    assert!(
        stderr.contains("token=***"),
        "GStreamer printed no URL: the test would not notice a leak"
    );
    // base64("viewer:Gst-Debug-Pw-Zq5"), as an Authorization header carries it.
    let basic = "dmlld2VyOkdzdC1EZWJ1Zy1Qdy1acTU=";
    for secret in [DEBUG_PASSWORD, basic, DEBUG_TOKEN] {
        if let Some(line) = stderr.lines().find(|l| l.contains(secret)) {
            panic!("GStreamer's debug output printed a secret: {line}");
        }
    }
}

/// The keep-alive `GET_PARAMETER` a camera refuses (405, as firmware without the method
/// answers) is only a refused request: the session and its frames go on.
#[test]
fn a_camera_that_refuses_get_parameter_keeps_streaming() {
    // Apart from the tests that count the process's threads.
    let _serial = rtsp_stream_testkit::conformance::serial();
    use rtsp_stream_testkit::camera::{CameraServer, Scenario};
    use rtsp_stream_testkit::content::ContentSpec;
    let mut scenario = Scenario::new(ContentSpec::small());
    scenario.answers = vec![("GET_PARAMETER".into(), 405)];
    let camera = CameraServer::start(scenario).expect("the camera starts");
    let events = EventRecorder::new();
    let s = builder::<GstreamerBackend>(&camera.url(), &GstreamerConfig::default(), &events)
        .start()
        .expect("the stream starts");
    let first = first_frame(&s, &events);
    let refused = || {
        camera
            .log()
            .requests
            .iter()
            .filter(|(_, method, status)| method == "GET_PARAMETER" && *status == 405)
            .count()
    };
    wait_until(PATIENCE, "three keep-alives were refused", || {
        refused() >= 3
    });
    let later = s.wait_next(first.seq() + 20, PATIENCE);
    assert!(later.is_ok(), "{later:?}; events {:?}", events.names());
    assert_eq!(events.count("disconnected"), 0, "{:?}", events.names());
    s.stop();
}

/// A camera that never answers the keep-alive `GET_PARAMETER`: the capture sends the next one
/// only once the previous one is answered (rtspsrc 1.22 aborts the process when they pile
/// up), so the camera sees exactly one however often the keep-alive falls due, and the
/// pictures keep coming.
#[test]
fn keep_alives_wait_for_the_previous_answer() {
    // Apart from the tests that count the process's threads.
    let _serial = rtsp_stream_testkit::conformance::serial();
    use rtsp_stream_testkit::camera::{CameraServer, Scenario};
    use rtsp_stream_testkit::content::ContentSpec;
    let mut scenario = Scenario::new(ContentSpec::small());
    scenario.unanswered = vec!["GET_PARAMETER".into()];
    let camera = CameraServer::start(scenario).expect("the camera starts");
    let events = EventRecorder::new();
    let mut config = GstreamerConfig::default();
    config.keep_alive = Some(Duration::from_millis(50));
    let s = builder::<GstreamerBackend>(&camera.url(), &config, &events)
        .start()
        .expect("the stream starts");
    let first = first_frame(&s, &events);
    let asked = || {
        camera
            .log()
            .requests
            .iter()
            .filter(|(_, method, _)| method == "GET_PARAMETER")
            .count()
    };
    wait_until(PATIENCE, "a first keep-alive", || asked() >= 1);
    // Thirty keep-alive intervals, in frames (15 fps): none but the first may be sent.
    let later = s.wait_next(first.seq() + 25, PATIENCE);
    assert!(later.is_ok(), "{later:?}; events {:?}", events.names());
    assert_eq!(asked(), 1, "{:?}", camera.log().requests);
    s.stop();
}
