//! GStreamer's debug output (`GST_DEBUG`), scrubbed.
//!
//! At its most verbose GStreamer prints what rtspsrc and souphttpsrc send and receive —
//! `Authorization` headers, URLs with their parameters — to standard error through its default
//! log function, past every scrubbing. Once a stream with credentials or secret parameters
//! opens while GStreamer's debug output is active, that function is replaced, for the rest of
//! the process, by one that prints the same lines with every secret of every live stream
//! removed (and camera text on one line). Without `GST_DEBUG` nothing changes.

use gstreamer as gst;
use rtsp_stream_core::raw::{one_line, redact_everywhere};
use std::io::Write;
use std::sync::Once;

/// Replaces GStreamer's default log function by a scrubbing one, if debug output is on.
pub(crate) fn scrub_debug_output() {
    static REPLACED: Once = Once::new();
    if !gst::log::is_active() {
        return;
    }
    REPLACED.call_once(|| {
        gst::log::add_log_function(|category, level, file, function, line, object, message| {
            // Called from C: a panic must not unwind into it.
            let _ = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
                let Some(text) = message.get() else {
                    return;
                };
                let object = object.map(|o| o.to_string()).unwrap_or_default();
                let clean = one_line(&redact_everywhere(&text)).into_owned();
                let object = one_line(&redact_everywhere(&object)).into_owned();
                let _ = writeln!(
                    std::io::stderr().lock(),
                    "{:?} {:>7} {:>20} {file}:{line}:{function}:<{object}> {clean}",
                    std::thread::current().id(),
                    level.name(),
                    category.name(),
                );
            }));
        });
        gst::log::remove_default_log_function();
    });
}
