//! One formatted FFmpeg line, as the callback hands it on: pure text handling, tested over
//! its input space.

use rtsp_stream_core::raw::{one_line, redact_everywhere};

/// A line ready for the `log` crate.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Line {
    /// The level it is logged at.
    pub level: log::Level,
    /// The text: scrubbed, on one line, bounded.
    pub text: String,
    /// The RTSP status of a failed request the line reports, if it reports one.
    pub rtsp_status: Option<u16>,
    /// The picture size a decoder refused, if the line reports one.
    pub refused_size: Option<(u32, u32)>,
    /// RTP packets the demuxer found missing, if the line reports some.
    pub missed_packets: Option<u32>,
}

/// FFmpeg's levels (`AV_LOG_*`) that map to ours: up to `ERROR` a warning (the stream reports
/// its own errors), `WARNING` info, `INFO` debug, the rest trace.
const AV_LOG_ERROR: i32 = 16;
const AV_LOG_WARNING: i32 = 24;
const AV_LOG_INFO: i32 = 32;

/// What the callback does with one formatted line (`raw`, any bytes, as FFmpeg wrote them) at
/// FFmpeg's `level`: `None` for an empty line; else the line scrubbed of every secret of
/// every live stream, on one bounded line, at our level, with the RTSP status it reports.
pub fn handle_line(level: i32, raw: &[u8]) -> Option<Line> {
    let text = String::from_utf8_lossy(raw);
    let text = text.trim_end();
    if text.is_empty() {
        return None;
    }
    let level = match level {
        l if l <= AV_LOG_ERROR => log::Level::Warn,
        l if l <= AV_LOG_WARNING => log::Level::Info,
        l if l <= AV_LOG_INFO => log::Level::Debug,
        _ => log::Level::Trace,
    };
    Some(Line {
        level,
        rtsp_status: rtsp_status(text),
        refused_size: refused_size(text),
        missed_packets: missed_packets(text),
        text: one_line(&redact_everywhere(text)).into_owned(),
    })
}

/// The status of "method DESCRIBE failed: 404 Not Found" (whatever follows the three digits,
/// a reason phrase in any language or no phrase at all); `None` for any other text.
pub fn rtsp_status(text: &str) -> Option<u16> {
    let rest = text.split("failed: ").nth(1)?;
    let digits = rest.as_bytes().get(..3)?;
    if !digits.iter().all(u8::is_ascii_digit) {
        return None;
    }
    let after = rest.as_bytes().get(3);
    if after.is_some_and(u8::is_ascii_digit) {
        return None;
    }
    let code = digits
        .iter()
        .fold(0u16, |n, d| n * 10 + u16::from(d - b'0'));
    (100..=599).contains(&code).then_some(code)
}

/// The count of "RTP: missed 3 packets" (libavformat's reorder queue moving past a gap in the
/// sequence numbers: data lost over UDP); `None` for any other text.
pub fn missed_packets(text: &str) -> Option<u32> {
    let rest = text.split("RTP: missed ").nth(1)?;
    let (count, tail) = rest.split_once(' ')?;
    if !tail.starts_with("packets") || count.is_empty() {
        return None;
    }
    count.parse().ok()
}

/// The size of "Picture size 16000x16000 is invalid" or "… exceeds specified max pixel
/// count …" (libavutil's check of every size a decoder is about to allocate for); `None` for
/// any other text.
pub fn refused_size(text: &str) -> Option<(u32, u32)> {
    let rest = text.split("Picture size ").nth(1)?;
    let (size, tail) = rest.split_once(' ')?;
    if !(tail.starts_with("is invalid") || tail.starts_with("exceeds")) {
        return None;
    }
    let (w, h) = size.split_once('x')?;
    Some((w.parse().ok()?, h.parse().ok()?))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_status_of_a_failed_request_is_read_in_any_language() {
        for (text, status) in [
            (
                "[rtsp @ 0x55] method SETUP failed: 461 Unsupported transport",
                Some(461),
            ),
            (
                "[rtsp @ 0x55] method DESCRIBE failed: 404 未找到",
                Some(404),
            ),
            ("method DESCRIBE failed: 401", Some(401)),
            ("method DESCRIBE failed: 4044 x", None),
            ("method DESCRIBE failed: 4x4", None),
            ("method DESCRIBE failed: 未", None),
            ("nothing failed here", None),
        ] {
            assert_eq!(rtsp_status(text), status, "{text}");
        }
    }

    #[test]
    fn missed_packets_are_read() {
        assert_eq!(
            missed_packets("[rtsp @ 0x55] RTP: missed 3 packets"),
            Some(3)
        );
        assert_eq!(missed_packets("RTP: missed 65535 packets"), Some(65535));
        assert_eq!(missed_packets("RTP: missed -1 packets"), None);
        assert_eq!(missed_packets("RTP: missed packets"), None);
        assert_eq!(missed_packets("RTP: missed 3 frames"), None);
        assert_eq!(
            missed_packets("RTP: dropping old packet received too late"),
            None
        );
    }

    #[test]
    fn a_refused_picture_size_is_read() {
        assert_eq!(
            refused_size("[h264 @ 0x5] Picture size 16000x16000 is invalid"),
            Some((16000, 16000))
        );
        assert_eq!(
            refused_size(
                "[IMGUTILS @ 0x7f] Picture size 16000x16000 exceeds specified max pixel count \
                 8847360, see the documentation if you wish to increase it"
            ),
            Some((16000, 16000))
        );
        assert_eq!(refused_size("Picture size 16000x is invalid"), None);
        assert_eq!(refused_size("Picture size 64x48 is fine"), None);
    }

    #[test]
    fn lines_are_scrubbed_and_kept_on_one_line() {
        let line = handle_line(
            AV_LOG_ERROR,
            "Opening 'rtsp://u:pw1234@h/x'\r\n[ERROR forged] 未 password=pw1234\n".as_bytes(),
        )
        .unwrap();
        assert_eq!(line.level, log::Level::Warn);
        assert!(!line.text.contains("pw1234"), "{}", line.text);
        assert!(!line.text.contains('\n'), "{}", line.text);
        assert_eq!(handle_line(AV_LOG_INFO, b"  \n"), None);
    }
}
