//! FFmpeg inside OpenCV: its log lines, and what they alone tell.
//!
//! FFmpeg writes its log lines to standard error by default, past every scrubbing (an RTSP URL
//! with its password among them). Its log output is one setting per process, with one owner:
//! - with the crate feature `ffmpeg-logs` (the facade turns it on when its `ffmpeg` feature is
//!   on too), the FFmpeg backend's callback, which routes every line to the `log` crate with
//!   credentials removed;
//! - without it, a callback of this module that writes nothing.
//!
//! Either callback also counts FFmpeg's "Reinit context to W×H" by the thread that logged it:
//! the only sign that a stream's picture size changed inside its session. OpenCV 4.6 keeps
//! converting into the old size then, so its frames are no longer the picture; a capture knows
//! its decoder's threads (those that appeared while it opened: OpenCV opens one source at a
//! time) and asks how often they said it (see `capture.rs`). Linux only (thread ids from
//! `/proc`); elsewhere nothing is counted.
//!
//! OpenCV sets FFmpeg's log level once, when it first uses FFmpeg; the callback is installed
//! after that, and the very first open is preceded by one that only initialises OpenCV's
//! FFmpeg (an empty source, which FFmpeg refuses without a word).

use opencv::prelude::*;
use std::sync::{Mutex, Once, PoisonError};

/// Takes FFmpeg's log output over, before each OpenCV open.
pub(crate) fn own_ffmpeg_logs() {
    static INIT: Once = Once::new();
    INIT.call_once(|| {
        // OpenCV initialises its FFmpeg on the first capture: do it now, with nothing to log.
        if let Ok(mut cap) =
            opencv::videoio::VideoCapture::from_file("", opencv::videoio::CAP_FFMPEG)
        {
            let _ = cap.release();
        }
        take_over();
    });
}

/// "Reinit context" lines by the thread that logged them: (thread id, lines).
static REINITS: Mutex<Vec<(i64, u64)>> = Mutex::new(Vec::new());

/// How many "Reinit context" lines the threads `tids` logged so far.
pub(crate) fn decoder_reinits(tids: &[i64]) -> u64 {
    REINITS
        .lock()
        .unwrap_or_else(PoisonError::into_inner)
        .iter()
        .filter(|(tid, _)| tids.contains(tid))
        .map(|(_, n)| n)
        .sum()
}

fn note_reinit() {
    let Some(tid) = current_thread_id() else {
        return;
    };
    let mut counts = REINITS.lock().unwrap_or_else(PoisonError::into_inner);
    match counts.iter_mut().find(|(t, _)| *t == tid) {
        Some((_, n)) => *n += 1,
        None => counts.push((tid, 1)),
    }
}

/// The ids of this process's threads now.
pub(crate) fn thread_ids() -> Vec<i64> {
    std::fs::read_dir("/proc/self/task").map_or_else(
        |_| Vec::new(),
        |dir| {
            dir.filter_map(|e| e.ok()?.file_name().to_str()?.parse().ok())
                .collect()
        },
    )
}

#[cfg(target_os = "linux")]
fn current_thread_id() -> Option<i64> {
    // SAFETY: gettid takes nothing and only returns the calling thread's id.
    Some(i64::from(unsafe { libc::gettid() }))
}

#[cfg(not(target_os = "linux"))]
fn current_thread_id() -> Option<i64> {
    None
}

#[cfg(feature = "ffmpeg-logs")]
fn take_over() {
    rtsp_stream_ffmpeg::route_ffmpeg_logs();
    rtsp_stream_ffmpeg::on_decoder_reinit(note_reinit);
}

#[cfg(not(feature = "ffmpeg-logs"))]
use quiet::take_over;

#[cfg(not(feature = "ffmpeg-logs"))]
mod quiet {
    use std::ffi::{c_char, c_int, c_void};

    /// FFmpeg's log callback, reading only the format string: the line is never formatted, so
    /// its fourth parameter (C's `va_list`) is never touched. It is passed as one pointer-sized
    /// value on every ABI this crate builds for (a pointer to the argument area, or the
    /// address of a copy where `va_list` is a larger struct).
    extern "C" fn count_reinits(_: *mut c_void, _: c_int, fmt: *const c_char, _: *mut c_void) {
        if fmt.is_null() {
            return;
        }
        // SAFETY: FFmpeg passes a NUL-terminated format string.
        let fmt = unsafe { std::ffi::CStr::from_ptr(fmt) };
        if fmt.to_bytes().starts_with(b"Reinit context to") {
            super::note_reinit();
        }
    }

    pub(crate) fn take_over() {
        type Callback = extern "C" fn(*mut c_void, c_int, *const c_char, *mut c_void);
        // libavutil is loaded by OpenCV's videoio, not linked by this crate (which needs no
        // FFmpeg development files): its function is looked up in the process.
        // SAFETY: dlsym with RTLD_DEFAULT and a NUL-terminated name only searches the loaded
        // libraries; a non-null result is libavutil's
        // `void av_log_set_callback(void (*)(void*, int, const char*, va_list))`, unchanged
        // since FFmpeg 0.5, and the callback given to it matches that signature (above).
        unsafe {
            let symbol = libc::dlsym(libc::RTLD_DEFAULT, c"av_log_set_callback".as_ptr());
            if !symbol.is_null() {
                let set_callback: extern "C" fn(Option<Callback>) = std::mem::transmute(symbol);
                set_callback(Some(count_reinits));
            }
        }
    }
}
