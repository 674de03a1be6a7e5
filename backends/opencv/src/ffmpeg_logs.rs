//! FFmpeg inside OpenCV: its log lines, and what they alone tell.
//!
//! FFmpeg writes its log lines to standard error by default, past every scrubbing (an RTSP URL
//! with its password among them). Its log output is one setting per process, with one owner:
//! the crate `rtsp-stream-ffmpeg-log`, whose callback routes every line to the `log` crate with
//! credentials removed. OpenCV's FFmpeg is the process's FFmpeg, so this backend hands it over
//! before it opens anything.
//!
//! The callback also tells this module of FFmpeg's "Reinit context to W×H", by the thread that
//! logged it: the only sign that a stream's picture size changed inside its session. OpenCV
//! 4.6 keeps converting into the old size then, so its frames are no longer the picture; a
//! capture knows its decoder's threads (those that appeared while it opened: OpenCV opens one
//! source at a time) and asks how often they said it at a size other than its own (see
//! `capture.rs`). Threads that appeared meanwhile but are not the decoder's are left out:
//! another capture's thread started while this one opened (it opens its own source, and
//! decodes there, once OpenCV lets it), and lines at this capture's own size (another decoder
//! of a same-size stream, or the decoder's own threads starting). Linux only (thread ids from
//! `/proc`); elsewhere nothing is counted. The records are bounded: a camera that changes its
//! size on every frame cannot grow them without end.
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

/// "Reinit context" lines: the thread that logged one, the coded size it named (when it could
/// be read), and how many times; at most [`MAX_REINIT_RECORDS`], the oldest given up first.
static REINITS: Mutex<Vec<(i64, Option<CodedSize>, u64)>> = Mutex::new(Vec::new());

/// Records kept: far more than the decoders of a process at a few sizes each.
const MAX_REINIT_RECORDS: usize = 256;

/// A picture's width and height as the decoder names them.
type CodedSize = (u32, u32);

/// Threads that open OpenCV captures (`note_opener`), until they end.
static OPENERS: Mutex<Vec<i64>> = Mutex::new(Vec::new());

/// How many "Reinit context" lines the threads `tids` (less those that open captures
/// themselves) logged so far at a size other than `size`. The size logged is the coded one,
/// rounded up to whole 16-pixel macroblocks (1920×1080 is "1920x1088").
pub(crate) fn decoder_reinits(tids: &[i64], (width, height): (u32, u32)) -> u64 {
    // Called for every frame: both lists are read under their locks, nothing is copied. The
    // order, openers then lines, is the one `note_opener`'s end takes them in.
    let openers = OPENERS.lock().unwrap_or_else(PoisonError::into_inner);
    let coded_as =
        |w: u32, h: u32| (width..width + 16).contains(&w) && (height..height + 16).contains(&h);
    REINITS
        .lock()
        .unwrap_or_else(PoisonError::into_inner)
        .iter()
        .filter(|(tid, size, _)| {
            tids.contains(tid)
                && !openers.contains(tid)
                && !size.is_some_and(|(w, h)| coded_as(w, h))
        })
        .map(|(_, _, n)| n)
        .sum()
}

/// Marks the calling thread as one that opens captures, until it ends: FFmpeg decodes on it
/// while OpenCV probes the source, and that is no other capture's decoder.
pub(crate) fn note_opener() {
    struct Opener(Option<i64>);
    impl Drop for Opener {
        fn drop(&mut self) {
            if let Some(tid) = self.0 {
                OPENERS
                    .lock()
                    .unwrap_or_else(PoisonError::into_inner)
                    .retain(|&t| t != tid);
                // Its lines were no decoder's; its id may come back as another thread's.
                REINITS
                    .lock()
                    .unwrap_or_else(PoisonError::into_inner)
                    .retain(|&(t, _, _)| t != tid);
            }
        }
    }
    thread_local! {
        static OPENER: std::cell::OnceCell<Opener> = const { std::cell::OnceCell::new() };
    }
    OPENER.with(|cell| {
        cell.get_or_init(|| {
            let tid = current_thread_id();
            if let Some(tid) = tid {
                OPENERS
                    .lock()
                    .unwrap_or_else(PoisonError::into_inner)
                    .push(tid);
            }
            Opener(tid)
        });
    });
}

/// "[h264 @ 0x…] Reinit context to 640x480, pix_fmt: yuv420p" → (640, 480).
fn reinit_size(line: &str) -> Option<(u32, u32)> {
    let rest = line.split("Reinit context to ").nth(1)?;
    let size = rest.split(|c: char| c == ',' || c.is_whitespace()).next()?;
    let (w, h) = size.split_once('x')?;
    Some((w.parse().ok()?, h.parse().ok()?))
}

fn note_reinit(line: &str) {
    let Some(tid) = current_thread_id() else {
        return;
    };
    let size = reinit_size(line);
    let mut counts = REINITS.lock().unwrap_or_else(PoisonError::into_inner);
    match counts.iter_mut().find(|(t, s, _)| *t == tid && *s == size) {
        Some((_, _, n)) => *n += 1,
        None => {
            if counts.len() >= MAX_REINIT_RECORDS {
                counts.remove(0);
            }
            counts.push((tid, size, 1));
        }
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

fn take_over() {
    rtsp_stream_ffmpeg_log::route();
    rtsp_stream_ffmpeg_log::on_decoder_reinit(note_reinit);
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The records are process-wide: the tests that touch them take turns.
    static SERIAL: Mutex<()> = Mutex::new(());

    #[test]
    fn the_size_is_read_from_a_reinit_line() {
        let line = "[h264 @ 0x55d0c8a0] Reinit context to 1920x1088, pix_fmt: yuv420p";
        assert_eq!(reinit_size(line), Some((1920, 1088)));
        assert_eq!(
            reinit_size("Reinit context to 64x48, pix_fmt: yuvj420p"),
            Some((64, 48))
        );
        assert_eq!(reinit_size("Reinit context to %dx%d, pix_fmt: %s"), None);
    }

    #[test]
    fn only_lines_of_the_decoder_at_another_size_count() {
        let _turn = SERIAL.lock().unwrap_or_else(PoisonError::into_inner);
        // Ids no real thread has, so the process's own decoders do not interfere.
        let (decoder, opener, stranger) = (-101, -102, -103);
        let log = |tid: i64, line: &str| {
            let mut counts = REINITS.lock().unwrap();
            counts.push((tid, reinit_size(line), 1));
        };
        let size = (1920, 1080);
        let tids = [decoder, opener];
        log(decoder, "Reinit context to 1920x1088, pix_fmt: yuv420p");
        assert_eq!(decoder_reinits(&tids, size), 0, "its own size, coded");
        log(stranger, "Reinit context to 640x480, pix_fmt: yuv420p");
        assert_eq!(decoder_reinits(&tids, size), 0, "not one of its threads");
        OPENERS.lock().unwrap().push(opener);
        log(opener, "Reinit context to 640x480, pix_fmt: yuv420p");
        assert_eq!(
            decoder_reinits(&tids, size),
            0,
            "a thread that opens captures"
        );
        log(decoder, "Reinit context to 1280x720, pix_fmt: yuv420p");
        assert_eq!(decoder_reinits(&tids, size), 1, "the decoder at a new size");
        OPENERS.lock().unwrap().retain(|&t| t != opener);
        REINITS.lock().unwrap().retain(|(t, _, _)| *t > 0);
    }

    #[test]
    fn the_records_stay_bounded_however_many_sizes_come() {
        let _turn = SERIAL.lock().unwrap_or_else(PoisonError::into_inner);
        for w in 0..10_000u32 {
            note_reinit(&format!(
                "Reinit context to {}x480, pix_fmt: yuv420p",
                16 + w
            ));
        }
        let records = REINITS.lock().unwrap().len();
        assert!(records <= MAX_REINIT_RECORDS, "{records}");
        REINITS.lock().unwrap().retain(|(t, _, _)| *t < 0);
    }
}
