//! The C side: libavutil's log functions found in the process, and the callback given to it.

use std::ffi::{c_char, c_int, c_void};
use std::panic::{AssertUnwindSafe, catch_unwind};
use std::sync::OnceLock;

/// FFmpeg's log callback. Its fourth parameter, C's `va_list`, is taken as the one
/// pointer-sized value it is on every ABI this crate builds for (a pointer to the argument
/// area, or the address of a copy where `va_list` is a larger struct passed indirectly) and
/// handed on unchanged to `av_log_format_line2`, which takes it the same way.
type Callback = unsafe extern "C" fn(*mut c_void, c_int, *const c_char, *mut c_void);

type SetCallback = unsafe extern "C" fn(Option<Callback>);
type SetLevel = unsafe extern "C" fn(c_int);
type GetLevel = unsafe extern "C" fn() -> c_int;
type FormatLine = unsafe extern "C" fn(
    *mut c_void,
    c_int,
    *const c_char,
    *mut c_void,
    *mut c_char,
    c_int,
    *mut c_int,
) -> c_int;

/// libavutil's functions, as found in the process.
struct AvUtil {
    set_callback: SetCallback,
    set_level: SetLevel,
    get_level: GetLevel,
    format_line: FormatLine,
}

impl AvUtil {
    /// # Safety
    ///
    /// The pointers are non-null and are libavutil's `av_log_set_callback`,
    /// `av_log_set_level`, `av_log_get_level` and `av_log_format_line2`, with these C
    /// signatures, unchanged since FFmpeg 2.8: `void av_log_set_callback(void (*)(void*, int,
    /// const char*, va_list))`, `void av_log_set_level(int)`, `int av_log_get_level(void)`,
    /// `int av_log_format_line2(void*, int, const char*, va_list, char*, int, int*)` (va_list
    /// as described at `Callback`).
    unsafe fn from_pointers(
        set_callback: *const c_void,
        set_level: *const c_void,
        get_level: *const c_void,
        format_line: *const c_void,
    ) -> AvUtil {
        // SAFETY: the caller's promise.
        unsafe {
            AvUtil {
                set_callback: std::mem::transmute::<*const c_void, SetCallback>(set_callback),
                set_level: std::mem::transmute::<*const c_void, SetLevel>(set_level),
                get_level: std::mem::transmute::<*const c_void, GetLevel>(get_level),
                format_line: std::mem::transmute::<*const c_void, FormatLine>(format_line),
            }
        }
    }
}

static AVUTIL: OnceLock<Option<AvUtil>> = OnceLock::new();

#[cfg(unix)]
fn find_avutil() -> Option<AvUtil> {
    fn symbol(name: &std::ffi::CStr) -> Option<*const c_void> {
        // SAFETY: dlsym with RTLD_DEFAULT and a NUL-terminated name only searches the
        // libraries already loaded.
        let found = unsafe { libc::dlsym(libc::RTLD_DEFAULT, name.as_ptr()) };
        (!found.is_null()).then_some(found.cast_const())
    }
    let set_callback = symbol(c"av_log_set_callback")?;
    let set_level = symbol(c"av_log_set_level")?;
    let get_level = symbol(c"av_log_get_level")?;
    let format_line = symbol(c"av_log_format_line2")?;
    // SAFETY: non-null, and libavutil's own symbols by their names.
    Some(unsafe { AvUtil::from_pointers(set_callback, set_level, get_level, format_line) })
}

#[cfg(not(unix))]
fn find_avutil() -> Option<AvUtil> {
    None
}

pub(crate) fn install() -> bool {
    // Looked up until found: the first call may come before the library that loads
    // libavutil has been used.
    let avutil = match AVUTIL.get() {
        Some(found) => found.as_ref(),
        None => match find_avutil() {
            Some(found) => AVUTIL.get_or_init(|| Some(found)).as_ref(),
            None => None,
        },
    };
    avutil.is_some_and(set)
}

/// # Safety
///
/// The pointers are libavutil's `av_log_set_callback`, `av_log_set_level`,
/// `av_log_get_level` and `av_log_format_line2`, all of one libavutil.
pub(crate) unsafe fn install_linked(
    set_callback: *const c_void,
    set_level: *const c_void,
    get_level: *const c_void,
    format_line: *const c_void,
) -> bool {
    if [set_callback, set_level, get_level, format_line]
        .iter()
        .any(|p| p.is_null())
    {
        return false;
    }
    // SAFETY: non-null (checked above), and the caller's promise.
    let found = unsafe { AvUtil::from_pointers(set_callback, set_level, get_level, format_line) };
    AVUTIL.get_or_init(|| Some(found)).as_ref().is_some_and(set)
}

fn set(avutil: &AvUtil) -> bool {
    let level = match log::max_level() {
        log::LevelFilter::Trace => 48, // AV_LOG_DEBUG
        log::LevelFilter::Debug => 32, // AV_LOG_INFO
        _ => 24,                       // AV_LOG_WARNING
    };
    // SAFETY: both calls only store a value in libavutil's globals; the callback is a plain
    // function valid for the life of the process.
    unsafe {
        (avutil.set_level)(level);
        (avutil.set_callback)(Some(callback));
    }
    true
}

unsafe extern "C" fn callback(
    avcl: *mut c_void,
    level: c_int,
    fmt: *const c_char,
    vl: *mut c_void,
) {
    // A panic must not unwind into C (that aborts the process): a logger of the application's
    // that panics loses one line, nothing more.
    let _ = catch_unwind(AssertUnwindSafe(|| {
        // SAFETY: FFmpeg's own arguments, passed on once.
        unsafe { handle(avcl, level, fmt, vl) }
    }));
}

/// # Safety
///
/// The arguments are those FFmpeg passed to the log callback.
unsafe fn handle(avcl: *mut c_void, level: c_int, fmt: *const c_char, vl: *mut c_void) {
    let Some(Some(avutil)) = AVUTIL.get() else {
        return;
    };
    // SAFETY: FFmpeg passes a NUL-terminated format string, or null.
    let reinit = !fmt.is_null()
        && crate::REINIT_HOOK.get().is_some()
        && unsafe { std::ffi::CStr::from_ptr(fmt) }
            .to_bytes()
            .starts_with(b"Reinit context to");
    // SAFETY: reads libavutil's global log level.
    let max = unsafe { (avutil.get_level)() };
    // A reinit line is formatted whatever the level: the hook wants its picture size. The
    // arguments can be read once only, so the one formatted line serves both.
    if level > max && !reinit {
        return;
    }
    let mut buffer = [0 as c_char; 1024];
    let mut print_prefix: c_int = 1;
    // SAFETY: FFmpeg's own format and arguments; av_log_format_line2 writes at most
    // `buffer.len()` bytes into our buffer, always terminated.
    let written = unsafe {
        (avutil.format_line)(
            avcl,
            level,
            fmt,
            vl,
            buffer.as_mut_ptr(),
            buffer.len() as c_int,
            &mut print_prefix,
        )
    };
    if written < 0 {
        return;
    }
    // SAFETY: terminated by av_log_format_line2 above.
    let raw = unsafe { std::ffi::CStr::from_ptr(buffer.as_ptr()) }.to_bytes();
    if reinit && let Some(hook) = crate::REINIT_HOOK.get() {
        hook(String::from_utf8_lossy(raw).trim_end());
    }
    if level > max {
        return;
    }
    if let Some(line) = crate::handle_line(level, raw) {
        if let Some(status) = line.rtsp_status {
            crate::note_rtsp_status(status);
        }
        if let Some(size) = line.refused_size {
            crate::note_refused_size(size);
        }
        if let Some(count) = line.missed_packets {
            crate::note_missed_packets(count);
        }
        log::log!(target: crate::TARGET, line.level, "{}", line.text);
    }
}
