//! What the GStreamer backend does beyond the shared suite: key frames, custom pipelines, and
//! no thread left behind.

use rtsp_stream_core::{ErrorKind, VideoStream};
use rtsp_stream_gstreamer::{GstreamerBackend, GstreamerConfig};
use rtsp_stream_testkit::conformance::{
    EventRecorder, default_server, first_frame, give_up, settle, start,
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
        let s = start::<GstreamerBackend>(&server.url(), &GstreamerConfig::default(), &events);
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
