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
