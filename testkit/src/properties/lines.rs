//! Text a camera or a decoder library sends: RTSP statuses and FFmpeg's log lines.
//!
//! Generators: every status code 0–65535; reason phrases of arbitrary characters (any
//! language, control characters); log lines of arbitrary bytes (invalid UTF-8 included) with a
//! registered secret, a status report or a line break inserted anywhere.
//!
//! Oracles: a status is a refusal exactly when it is 4xx or 5xx, and permanent exactly for the
//! answers retrying cannot change (the table of RFC 2326 below, written apart from the
//! code's); a status report is read back whatever its reason phrase; a handled log line is on
//! one line, bounded, and holds no registered secret.

use super::ensure;
use proptest::prelude::*;
use proptest::test_runner::TestCaseError;
use rtsp_stream_core::raw::{OpenRequest, QUOTE_LIMIT, rtsp_status_kind};
use rtsp_stream_core::{ErrorKind, StreamOptions};

/// The refusals retrying cannot change, from RFC 2326 and RFC 7826.
const PERMANENT: &[u16] = &[
    400, 401, 403, 404, 405, 406, 407, 410, 413, 414, 415, 451, 456, 457, 458, 459, 460, 461, 501,
    505, 551,
];

/// The oracle for one status code.
pub fn check_status(status: u16) -> Result<(), TestCaseError> {
    let kind = rtsp_status_kind(status);
    let refusal = (400..=599).contains(&status);
    ensure(kind.is_some() == refusal, || {
        format!("status {status}: {kind:?}")
    })?;
    if let Some(kind) = kind {
        let permanent = PERMANENT.contains(&status);
        ensure(kind.is_transient() != permanent, || {
            format!(
                "status {status} is {kind:?}, transient: {}",
                kind.is_transient()
            )
        })?;
        let credentials = matches!(status, 401 | 403 | 407);
        ensure((kind == ErrorKind::Authentication) == credentials, || {
            format!("status {status} is {kind:?}")
        })?;
    }
    Ok(())
}

/// A status report as FFmpeg logs one: the code and a reason phrase of any characters.
pub fn status_report() -> impl Strategy<Value = (u16, String)> {
    (
        100u16..=599,
        proptest::string::string_regex("[ -~é未找到ЖÄ\t\u{1b}\u{7f}]{0,20}")
            .expect("a valid pattern"),
    )
}

/// The oracle for a status report: the code is read back, whatever the phrase.
pub fn check_status_report(code: u16, reason: &str) -> Result<(), TestCaseError> {
    let line = format!("[rtsp @ 0x55d0] method DESCRIBE failed: {code} {reason}");
    let read = rtsp_stream_ffmpeg_log::rtsp_status(&line);
    ensure(read == Some(code), || format!("{line:?} read as {read:?}"))
}

/// A log line of arbitrary bytes, with the secret `marker` and a line break somewhere in it.
pub fn log_line() -> impl Strategy<Value = (i32, Vec<u8>, usize, usize)> {
    (
        prop_oneof![
            Just(8),
            Just(16),
            Just(24),
            Just(32),
            Just(48),
            any::<i32>()
        ],
        proptest::collection::vec(any::<u8>(), 0..600),
        any::<usize>(),
        any::<usize>(),
    )
}

/// The oracle for one log line: `marker` is registered as a stream's password while the line
/// is handled.
pub fn check_log_line(
    level: i32,
    mut bytes: Vec<u8>,
    at: usize,
    newline_at: usize,
) -> Result<(), TestCaseError> {
    const MARKER: &str = "Zq9-Secret";
    let request = OpenRequest::new(
        format!("rtsp://admin:{MARKER}@cam/x"),
        None,
        StreamOptions::default(),
    );
    let at = at % (bytes.len() + 1);
    bytes.splice(at..at, MARKER.bytes());
    let newline_at = newline_at % (bytes.len() + 1);
    bytes.insert(newline_at, b'\n');
    let handled = rtsp_stream_ffmpeg_log::handle_line(level, &bytes);
    drop(request);
    let Some(line) = handled else {
        let blank = String::from_utf8_lossy(&bytes).trim_end().is_empty();
        return ensure(blank, || format!("a line with text was dropped: {bytes:?}"));
    };
    ensure(!line.text.contains(MARKER), || {
        format!("the secret was logged: {:?}", line.text)
    })?;
    ensure(!line.text.chars().any(char::is_control), || {
        format!("a control character was logged: {:?}", line.text)
    })?;
    let chars = line.text.chars().count();
    ensure(chars <= QUOTE_LIMIT * 6 + 40, || {
        format!("a line of {chars} characters")
    })
}
