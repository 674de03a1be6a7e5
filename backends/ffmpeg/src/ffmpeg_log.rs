//! FFmpeg's log output, routed to the `log` crate without credentials.
//!
//! FFmpeg has one log callback per process, shared with every library in the process that
//! uses FFmpeg (OpenCV's videoio does). It has one owner: this module, which installs its
//! callback on every open of this backend and, through [`route_ffmpeg_logs`](crate::route_ffmpeg_logs),
//! before the OpenCV backend opens anything when both are built. The callback also notes, per thread,
//! the RTSP status code of a failed request ("method SETUP failed: 461 …"), which libavformat
//! reports only as a generic 4xx error.

use ffmpeg_next::ffi;
use std::any::TypeId;
use std::cell::Cell;
use std::ffi::{c_char, c_int, c_void};
use std::sync::{Mutex, PoisonError};

const TARGET: &str = "rtsp_stream::ffmpeg";

/// Passwords of the captures open now, removed from every FFmpeg line (FFmpeg logs from its
/// own threads too, so a thread-local would miss some).
static SECRETS: Mutex<Vec<String>> = Mutex::new(Vec::new());

thread_local! {
    static RTSP_STATUS: Cell<Option<u16>> = const { Cell::new(None) };
}

/// Installs the callback and the level matching `log`'s maximum level.
pub fn install() {
    let level = match log::max_level() {
        log::LevelFilter::Trace => ffi::AV_LOG_DEBUG,
        log::LevelFilter::Debug => ffi::AV_LOG_INFO,
        _ => ffi::AV_LOG_WARNING,
    };
    // SAFETY: both calls only store a value in libavutil's globals; the callback is a plain
    // function valid for the life of the process.
    unsafe {
        ffi::av_log_set_level(level);
        ffi::av_log_set_callback(Some(callback));
    }
}

/// Registers a secret for the life of the returned guard.
pub(crate) fn register_secret(secret: Option<String>) -> SecretGuard {
    if let Some(s) = &secret {
        SECRETS
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .push(s.clone());
    }
    SecretGuard(secret)
}

/// Removes its secret from the registry when dropped.
#[derive(Debug)]
pub(crate) struct SecretGuard(Option<String>);

impl Drop for SecretGuard {
    fn drop(&mut self) {
        if let Some(s) = &self.0 {
            let mut secrets = SECRETS.lock().unwrap_or_else(PoisonError::into_inner);
            if let Some(i) = secrets.iter().position(|x| x == s) {
                secrets.swap_remove(i);
            }
        }
    }
}

/// The RTSP status of the last failed request logged on this thread, cleared by reading.
pub(crate) fn take_rtsp_status() -> Option<u16> {
    RTSP_STATUS.with(|s| s.take())
}

pub(crate) fn clear_rtsp_status() {
    RTSP_STATUS.with(|s| s.set(None));
}

/// FFmpeg's log callback. `V` is whatever the bindings make of C's `va_list` parameter on this
/// platform (a pointer to the tag array on x86-64 System V, a struct on aarch64, a plain
/// pointer elsewhere): it is inferred from `av_log_set_callback`'s signature, so the same code
/// compiles on every target without naming the type.
unsafe extern "C" fn callback<V: Copy + 'static>(
    avcl: *mut c_void,
    level: c_int,
    fmt: *const c_char,
    vl: V,
) {
    // SAFETY: FFmpeg passes a NUL-terminated format string (or null).
    let reinit = unsafe { is_decoder_reinit(fmt) };
    // SAFETY: reads libavutil's global log level.
    let max = unsafe { ffi::av_log_get_level() };
    // A reinit line is formatted whatever the level: the hook wants its picture size. The
    // arguments can be read once only, so the one formatted line serves both.
    if level > max && !reinit {
        return;
    }
    let mut line = [0 as c_char; 1024];
    let mut print_prefix: c_int = 1;
    // SAFETY: FFmpeg hands us its own format and arguments; av_log_format_line2 formats them
    // into our buffer, truncating at its size and always terminating it.
    let written = unsafe {
        format_line(
            ffi::av_log_format_line2,
            (avcl, level, fmt, vl),
            &mut line,
            &mut print_prefix,
        )
    };
    if written < 0 {
        return;
    }
    // SAFETY: terminated by av_log_format_line2 above.
    let text = unsafe { std::ffi::CStr::from_ptr(line.as_ptr()) }.to_string_lossy();
    let text = text.trim_end();
    if reinit && let Some(hook) = REINIT_HOOK.get() {
        hook(text);
    }
    if text.is_empty() || level > max {
        return;
    }
    note_rtsp_status(text);
    let mut clean = rtsp_stream_core::redact_text(text);
    for secret in SECRETS
        .lock()
        .unwrap_or_else(PoisonError::into_inner)
        .iter()
    {
        if !secret.is_empty() && clean.contains(secret.as_str()) {
            clean = clean.replace(secret.as_str(), "***");
        }
    }
    let level = match level {
        l if l <= ffi::AV_LOG_ERROR => log::Level::Warn,
        l if l <= ffi::AV_LOG_WARNING => log::Level::Info,
        l if l <= ffi::AV_LOG_INFO => log::Level::Debug,
        _ => log::Level::Trace,
    };
    log::log!(target: TARGET, level, "{clean}");
}

/// Calls `format` (FFmpeg's `av_log_format_line2`) with the callback's arguments. Its `va_list`
/// parameter `P` and the callback's `V` are both the bindings' one `va_list` parameter type;
/// that is checked here, not assumed, and a mismatch formats nothing.
///
/// # Safety
///
/// `avcl`, `fmt` and `vl` must be the arguments FFmpeg passed to the log callback.
unsafe fn format_line<V: Copy + 'static, P: Copy + 'static>(
    format: unsafe extern "C" fn(
        *mut c_void,
        c_int,
        *const c_char,
        P,
        *mut c_char,
        c_int,
        *mut c_int,
    ) -> c_int,
    (avcl, level, fmt, vl): (*mut c_void, c_int, *const c_char, V),
    line: &mut [c_char],
    print_prefix: &mut c_int,
) -> c_int {
    if TypeId::of::<V>() != TypeId::of::<P>() {
        return -1;
    }
    // SAFETY: V and P are the same type (checked above), so this is a plain copy.
    let vl: P = unsafe { std::mem::transmute_copy(&vl) };
    let len = line.len() as c_int;
    // SAFETY: the caller passes FFmpeg's own arguments; `line` is writable for `len` bytes.
    unsafe { format(avcl, level, fmt, vl, line.as_mut_ptr(), len, print_prefix) }
}

/// Called with every "Reinit context to W×H" line of a decoder (see
/// [`crate::on_decoder_reinit`]).
static REINIT_HOOK: std::sync::OnceLock<fn(&str)> = std::sync::OnceLock::new();

pub(crate) fn set_reinit_hook(hook: fn(&str)) {
    let _ = REINIT_HOOK.set(hook);
}

/// Whether a line is a decoder's "Reinit context", known by its format string alone, and a
/// hook wants it.
///
/// # Safety
///
/// `fmt` is null or a NUL-terminated string.
unsafe fn is_decoder_reinit(fmt: *const c_char) -> bool {
    if fmt.is_null() || REINIT_HOOK.get().is_none() {
        return false;
    }
    // SAFETY: the caller's promise.
    let fmt = unsafe { std::ffi::CStr::from_ptr(fmt) };
    fmt.to_bytes().starts_with(b"Reinit context to")
}

/// "method DESCRIBE failed: 401 Unauthorized" → 401.
fn note_rtsp_status(text: &str) {
    if let Some(rest) = text.split("failed: ").nth(1)
        && let Some(code) = rest.get(..3).and_then(|c| c.parse::<u16>().ok())
    {
        RTSP_STATUS.with(|s| s.set(Some(code)));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rtsp_status_is_noted() {
        clear_rtsp_status();
        note_rtsp_status("[rtsp @ 0x55] method SETUP failed: 461 Unsupported transport");
        assert_eq!(take_rtsp_status(), Some(461));
        assert_eq!(take_rtsp_status(), None);
        note_rtsp_status("nothing failed here");
        assert_eq!(take_rtsp_status(), None);
    }
}
