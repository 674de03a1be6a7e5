// rtsp-stream patch: every log line of retina passes through a scrubber that the application
// sets (retina's lines quote URLs with their secret query parameters, and camera text).

use std::sync::OnceLock;

static SCRUBBER: OnceLock<fn(&str) -> String> = OnceLock::new();

/// Sets the function every log line of retina passes through before it is logged (the first
/// set stays). Without one, lines are logged as they are.
pub fn set_log_scrubber(scrub: fn(&str) -> String) {
    let _ = SCRUBBER.set(scrub);
}

#[doc(hidden)]
pub fn scrub(text: String) -> String {
    match SCRUBBER.get() {
        Some(scrub) => scrub(&text),
        None => text,
    }
}

macro_rules! scrubbed {
    ($level:expr, $($arg:tt)+) => {
        if ::log::log_enabled!($level) {
            ::log::log!($level, "{}", $crate::logs::scrub(format!($($arg)+)))
        }
    };
}

macro_rules! trace {
    ($($arg:tt)+) => { $crate::logs::scrubbed!(::log::Level::Trace, $($arg)+) };
}

macro_rules! debug {
    ($($arg:tt)+) => { $crate::logs::scrubbed!(::log::Level::Debug, $($arg)+) };
}

macro_rules! info {
    ($($arg:tt)+) => { $crate::logs::scrubbed!(::log::Level::Info, $($arg)+) };
}

macro_rules! warn_ {
    ($($arg:tt)+) => { $crate::logs::scrubbed!(::log::Level::Warn, $($arg)+) };
}

#[allow(unused_macros)]
macro_rules! error {
    ($($arg:tt)+) => { $crate::logs::scrubbed!(::log::Level::Error, $($arg)+) };
}

// `warn` by another name here: the built-in attribute of that name would make it ambiguous.
#[allow(unused_imports)]
pub(crate) use {debug, error, info, scrubbed, trace, warn_ as warn};
