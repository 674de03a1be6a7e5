//! The one owner of FFmpeg's process-wide log callback in `rtsp-stream`.
//!
//! FFmpeg has one log callback per process, shared by every library in it that uses FFmpeg:
//! the FFmpeg backend, retina's libavcodec decoder, OpenCV's videoio. By default FFmpeg prints
//! its lines to standard error, past every scrubbing, an RTSP URL with its password among
//! them. [`route`] replaces that with a callback that sends every line to the `log` crate
//! under the target `rtsp_stream::ffmpeg`, with every secret of every live stream removed
//! (`raw::redact_everywhere`), credential headers of HTTP dumps masked, and camera text kept on
//! one bounded line. Each backend that links or loads FFmpeg calls it before it uses FFmpeg;
//! no backend depends on another for it.
//!
//! The callback also notes what only FFmpeg's log tells: the RTSP status of a failed request
//! on the thread that made it ([`take_rtsp_status`]), and a decoder's "Reinit context to W×H"
//! line ([`on_decoder_reinit`]).
//!
//! libavutil's functions are looked up in the process at run time (Unix: `dlsym`), so this
//! crate needs no FFmpeg development files and works with whichever libavutil the process
//! loaded. Every call into the callback runs inside `catch_unwind`: a panic (of a logger the
//! application installed, say) never crosses into C.
// Unsafe code here: FFmpeg's log callback is a C function with a va_list.
#![allow(unsafe_code)]
#![cfg_attr(docsrs, feature(doc_cfg))]

mod callback;
mod line;

pub use line::{Line, handle_line, missed_packets, refused_size, rtsp_status};

use std::cell::Cell;
use std::sync::OnceLock;

/// The `log` target of FFmpeg's lines.
pub const TARGET: &str = "rtsp_stream::ffmpeg";

thread_local! {
    static RTSP_STATUS: Cell<Option<u16>> = const { Cell::new(None) };
    static REFUSED_SIZE: Cell<Option<(u32, u32)>> = const { Cell::new(None) };
    static MISSED_PACKETS: Cell<u64> = const { Cell::new(0) };
}

/// Installs the callback, once per process, and sets FFmpeg's level from `log`'s maximum
/// level (FFmpeg formats nothing that would be filtered out anyway). Returns whether
/// libavutil was found in the process; before it is loaded there is nothing to route.
pub fn route() -> bool {
    callback::install()
}

/// [`route`] for a crate that links libavutil itself and passes its functions (found even
/// where the process's global lookup cannot see them: a Python extension module's libraries
/// are loaded locally):
///
/// ```ignore
/// use ffmpeg_next::ffi;
/// unsafe {
///     rtsp_stream_ffmpeg_log::route_linked(
///         ffi::av_log_set_callback as *const _,
///         ffi::av_log_set_level as *const _,
///         ffi::av_log_get_level as *const _,
///         ffi::av_log_format_line2 as *const _,
///     )
/// };
/// ```
///
/// The first libavutil given or found stays the one routed.
///
/// # Safety
///
/// The pointers are libavutil's `av_log_set_callback`, `av_log_set_level`,
/// `av_log_get_level` and `av_log_format_line2`, all of the same libavutil.
pub unsafe fn route_linked(
    av_log_set_callback: *const std::ffi::c_void,
    av_log_set_level: *const std::ffi::c_void,
    av_log_get_level: *const std::ffi::c_void,
    av_log_format_line2: *const std::ffi::c_void,
) -> bool {
    // SAFETY: the caller's promise.
    unsafe {
        callback::install_linked(
            av_log_set_callback,
            av_log_set_level,
            av_log_get_level,
            av_log_format_line2,
        )
    }
}

/// The RTSP status of the last failed request FFmpeg logged on this thread, cleared by
/// reading ("method DESCRIBE failed: 401 Unauthorized" → 401): libavformat reports it only
/// as a generic error code.
pub fn take_rtsp_status() -> Option<u16> {
    RTSP_STATUS.with(Cell::take)
}

/// Forgets the RTSP status noted on this thread (before a new request).
pub fn clear_rtsp_status() {
    RTSP_STATUS.with(|s| s.set(None));
}

pub(crate) fn note_rtsp_status(status: u16) {
    RTSP_STATUS.with(|s| s.set(Some(status)));
}

/// The picture size a decoder on this thread refused last ("Picture size 16000x16000 is
/// invalid": over its `max_pixels`, or absurd), cleared by reading: libavcodec reports it only
/// as an invalid-argument error.
pub fn take_refused_size() -> Option<(u32, u32)> {
    REFUSED_SIZE.with(Cell::take)
}

/// RTP packets the demuxer on this thread found missing since the last call ("RTP: missed 3
/// packets", logged by libavformat's reorder queue over UDP), cleared by reading: libavformat
/// marks nothing in the packets it returns after a gap.
pub fn take_missed_packets() -> u64 {
    MISSED_PACKETS.with(Cell::take)
}

pub(crate) fn note_missed_packets(count: u32) {
    MISSED_PACKETS.with(|m| m.set(m.get().saturating_add(u64::from(count))));
}

pub(crate) fn note_refused_size(size: (u32, u32)) {
    REFUSED_SIZE.with(|s| s.set(Some(size)));
}

/// Called with every "Reinit context to W×H" line of a decoder, on the decoding thread, while
/// the callback is installed (formatted even when the level would filter it out): for
/// libraries that decode with FFmpeg and cannot tell otherwise that the picture size changed
/// (OpenCV 4.6 keeps converting to the old size). One hook per process; the first set stays.
pub fn on_decoder_reinit(hook: fn(&str)) {
    let _ = REINIT_HOOK.set(hook);
}

pub(crate) static REINIT_HOOK: OnceLock<fn(&str)> = OnceLock::new();
