//! No password in any log line, event, error, Display or Debug string — also when the backend
//! echoes the URL with its password in its messages (the mock does, as real decoders do).

mod common;

use common::{EventLog, PATIENCE, take_backoff, wait_until};
use rtsp_stream_core::{
    ErrorKind, Event, ManualClock, MockBackend, MockConfig, MockScript, VideoStream,
};

fn run_and_collect(source: &str, separate: Option<(&str, &str)>, secrets: &[&str]) {
    common::install_log_capture();
    let script = MockScript::new();
    script
        .open_fail(ErrorKind::ConnectionRefused)
        .open_ok(MockScript::props(8, 8, 10.0))
        .frames(1)
        .read_error(ErrorKind::ConnectionLost)
        .open_fail(ErrorKind::Authentication);
    let clock = ManualClock::new();
    let log = EventLog::default();
    let mut builder =
        VideoStream::<MockBackend>::builder_with(source, MockConfig::new(script.clone()))
            .clock(clock.clone())
            .on_event(log.handler());
    if let Some((user, password)) = separate {
        builder = builder.credentials(user, password);
    }
    let stream = builder.start().unwrap();
    take_backoff(&log, &clock, 0);
    log.wait_nth("disconnected", 0);
    take_backoff(&log, &clock, 1);
    let (_, gave_up) = log.wait_for("gave up", |e| matches!(e, Event::GaveUp { .. }));
    wait_until("worker ends", || !stream.is_running());
    let Event::GaveUp { error } = &gave_up else {
        unreachable!()
    };
    assert_eq!(error.kind(), ErrorKind::Authentication);
    // The mock put the full URL into its message; the stream must have scrubbed it.
    assert!(error.message().contains("scripted failure opening"));

    let mut texts = common::captured_logs();
    texts.extend(log.events().iter().map(|e| format!("{e:?}")));
    texts.push(error.to_string());
    texts.push(format!("{error:?}"));
    texts.push(format!("{:?}", stream.stats()));
    texts.push(format!("{stream:?}"));
    texts.push(stream.source().to_string());
    texts.push(format!("{:?}", stream.source()));
    texts.extend(script.calls().iter().map(|c| format!("{c:?}")));
    let mut source_chain = std::error::Error::source(&**error);
    while let Some(s) = source_chain {
        texts.push(s.to_string());
        source_chain = s.source();
    }
    for secret in secrets {
        for text in &texts {
            assert!(!text.contains(secret), "{secret:?} leaked in: {text}");
        }
    }
    assert!(
        texts.iter().any(|t| t.contains("***")),
        "nothing was redacted?"
    );
    let _ = PATIENCE;
}

#[test]
fn password_in_the_url() {
    run_and_collect(
        "rtsp://admin:Tr0ub4dor@10.1.2.3:554/live",
        None,
        &["Tr0ub4dor"],
    );
}

#[test]
fn password_with_unescaped_at_and_colon() {
    run_and_collect(
        "rtsp://admin:p@ss:w0rd!x@cam.example/stream1",
        None,
        &["p@ss:w0rd!x", "ss:w0rd"],
    );
}

#[test]
fn secrets_in_query_parameters() {
    run_and_collect(
        "http://cam.example/video.mjpg?user=viewer&pwd=QuerySecret9&token=tk-8812aa",
        None,
        &["QuerySecret9", "tk-8812aa"],
    );
}

#[test]
fn credentials_given_apart_from_the_url() {
    run_and_collect(
        "rtsp://cam.example/stream1",
        Some(("operator", "S3parate!pw")),
        &["S3parate!pw", "S3parate%21pw"],
    );
}
