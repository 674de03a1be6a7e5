//! Choosing a backend at run time: by name, from the environment (through an injected
//! lookup), automatically — never the mock.

use rtsp_stream::{
    AnyBackend, AnyConfig, ErrorKind, ManualClock, MockConfig, MockScript, VideoStream,
};
use std::time::Duration;

#[test]
fn by_name_is_case_insensitive() {
    assert_eq!(AnyConfig::by_name("mock").unwrap().name(), "mock");
    assert_eq!(AnyConfig::by_name(" MOCK ").unwrap().name(), "mock");
}

#[test]
fn unknown_and_missing_backends_are_typed_errors() {
    let err = AnyConfig::by_name("vlc").unwrap_err();
    assert_eq!(err.kind(), ErrorKind::BackendUnavailable);
    assert!(err.to_string().contains("unknown backend"), "{err}");
    for name in AnyConfig::PRIORITY {
        if !AnyConfig::available().contains(name) {
            let err = AnyConfig::by_name(name).unwrap_err();
            assert_eq!(err.kind(), ErrorKind::BackendUnavailable);
            assert!(err.to_string().contains("not compiled in"), "{err}");
        }
    }
}

#[test]
fn the_environment_variable_chooses() {
    let env = |value: Option<&'static str>| {
        move |key: &str| {
            assert_eq!(key, rtsp_stream::BACKEND_ENV_VAR);
            value.map(str::to_owned)
        }
    };
    assert_eq!(
        AnyConfig::from_lookup(env(Some("mock"))).unwrap().name(),
        "mock"
    );
    assert_eq!(
        AnyConfig::from_lookup(env(Some("nonesuch")))
            .unwrap_err()
            .kind(),
        ErrorKind::BackendUnavailable
    );
    // Unset or empty: automatic choice, which is never the mock.
    for value in [None, Some("")] {
        match AnyConfig::from_lookup(env(value)) {
            Ok(config) => assert_ne!(config.name(), "mock"),
            Err(e) => assert_eq!(e.kind(), ErrorKind::BackendUnavailable),
        }
    }
}

#[test]
fn a_misspelt_name_is_an_error_that_lists_the_compiled_in_decoders() {
    let err = AnyConfig::from_lookup(|_| Some("ffmpge".to_owned())).unwrap_err();
    assert_eq!(err.kind(), ErrorKind::BackendUnavailable);
    assert!(err.message().contains("\"ffmpge\""), "{err}");
    for name in AnyConfig::available() {
        assert!(err.message().contains(name), "{name} not listed: {err}");
    }
}

/// Without any decoder compiled in, the default choice cannot run: `start()` says so
/// instead of returning `Ok` and doing nothing.
#[cfg(not(any(
    feature = "ffmpeg",
    feature = "gstreamer",
    feature = "opencv",
    feature = "webcam"
)))]
#[test]
fn with_no_decoder_compiled_in_start_is_an_error() {
    let stream = VideoStream::<AnyBackend>::builder("rtsp://camera/stream")
        .build()
        .expect("building checks only the options");
    let err = stream.start().unwrap_err();
    assert_eq!(err.kind(), ErrorKind::BackendUnavailable);
    assert!(err.message().contains("no decoder backend"), "{err}");
    assert!(!stream.is_running());
    let err = VideoStream::<AnyBackend>::builder("rtsp://camera/stream")
        .start()
        .unwrap_err();
    assert_eq!(err.kind(), ErrorKind::BackendUnavailable);
}

#[test]
fn auto_follows_the_priority_order_and_never_picks_the_mock() {
    let real: Vec<_> = AnyConfig::available()
        .into_iter()
        .filter(|n| *n != "mock")
        .collect();
    match AnyConfig::auto() {
        Ok(config) => assert_eq!(Some(&config.name()), real.first()),
        Err(e) => {
            assert!(real.is_empty());
            assert_eq!(e.kind(), ErrorKind::BackendUnavailable);
        }
    }
    assert_eq!(AnyConfig::available().last(), Some(&"mock"));
}

#[test]
fn a_stream_runs_through_any_backend() {
    let script = MockScript::new();
    script
        .open_ok(MockScript::props(16, 16, 5.0))
        .frames(2)
        .stall();
    let stream = VideoStream::<AnyBackend>::builder_with(
        "mock://any",
        AnyConfig::Mock(MockConfig::new(script.clone())),
    )
    .clock(ManualClock::new())
    .start()
    .unwrap();
    let frame = stream.wait_next(1, Duration::from_secs(10)).unwrap();
    assert_eq!(frame.seq(), 2);
    assert_eq!(stream.backend_name(), "mock");
    stream.stop();
    assert_eq!(script.open_count(), 1);
}

/// Which backend the automatic choice takes for each kind of source, in whatever feature
/// combination this test is built with: the first compiled-in one, in the measured order, that
/// opens the source.
#[test]
fn auto_chooses_per_source() {
    let features = [
        ("retina", cfg!(feature = "retina")),
        ("gstreamer", cfg!(feature = "gstreamer")),
        ("ffmpeg", cfg!(feature = "ffmpeg")),
        ("opencv", cfg!(feature = "opencv")),
        ("webcam", cfg!(feature = "webcam")),
    ];
    let compiled = |name: &str| features.contains(&(name, true));
    // source → the backends that open it, in the order tried.
    let table: [(&str, &[&str]); 8] = [
        (
            "rtsp://cam/stream",
            &["retina", "gstreamer", "ffmpeg", "opencv"],
        ),
        (
            "RTSP://cam/stream",
            &["retina", "gstreamer", "ffmpeg", "opencv"],
        ),
        ("rtsps://cam/stream", &["gstreamer", "ffmpeg", "opencv"]),
        ("http://cam/video.mjpg", &["gstreamer", "ffmpeg", "opencv"]),
        ("/videos/clip.mp4", &["gstreamer", "ffmpeg", "opencv"]),
        ("0", &["opencv", "webcam"]),
        ("/dev/video2", &["opencv", "webcam"]),
        ("/dev/v4l/by-id/usb-cam-video-index0", &["opencv", "webcam"]),
    ];
    for (source, openers) in table {
        let expected = openers.iter().find(|name| compiled(name));
        let chosen = AnyConfig::auto_for(&rtsp_stream::SourceUrl::new(source));
        match (expected, chosen) {
            (Some(name), Ok(config)) => assert_eq!(config.name(), *name, "{source}"),
            (None, Err(e)) => assert_eq!(e.kind(), ErrorKind::BackendUnavailable, "{source}"),
            (None, Ok(config)) => assert_eq!(
                AnyConfig::available(),
                ["mock"],
                "{source}: {} chosen",
                config.name()
            ),
            (Some(name), Err(e)) => panic!("{source}: expected {name}, got {e}"),
        }
    }
}
