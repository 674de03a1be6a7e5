//! Panics: what our own messages say about them, and a hook that keeps secrets out of the
//! ones Rust prints.

use crate::quote::one_line;
use crate::redact::redact_everywhere;
use std::any::Any;
use std::io::Write;
use std::sync::Once;

/// The text of a panic's payload, scrubbed of every secret of every live stream and kept on
/// one bounded line: what an error or a log line of ours may say about a panic.
pub(crate) fn panic_text(payload: &(dyn Any + Send)) -> String {
    match payload_text(payload) {
        Some(text) => one_line(&redact_everywhere(text)).into_owned(),
        None => "a panic without a message".to_owned(),
    }
}

fn payload_text(payload: &(dyn Any + Send)) -> Option<&str> {
    payload
        .downcast_ref::<&str>()
        .copied()
        .or_else(|| payload.downcast_ref::<String>().map(String::as_str))
}

/// Installs a panic hook that prints panic messages with every secret of every live stream
/// removed (passwords and secret parameters in every registered form, any URL's user-info),
/// the way Rust's default hook prints them otherwise. The library installs no hook by itself:
/// call this once, early in `main`, if panics in your process may quote a camera URL (a
/// decoder library's message, a message of your own that formats one).
///
/// The hook chains: a panic whose message holds nothing to remove goes to the hook that was
/// installed before (Rust's default one, or your own), unchanged. One whose message held a
/// secret is printed by this hook alone, scrubbed (`thread '…' panicked at …`, and the
/// backtrace when `RUST_BACKTRACE` asks for one), because the previous hook would print the
/// original message. Calling it again does nothing.
pub fn install_scrubbing_panic_hook() {
    static INSTALLED: Once = Once::new();
    INSTALLED.call_once(|| {
        let previous = std::panic::take_hook();
        std::panic::set_hook(Box::new(move |info| {
            let Some(text) = payload_text(info.payload()) else {
                return previous(info);
            };
            let clean = redact_everywhere(text);
            if clean == text {
                return previous(info);
            }
            let thread = std::thread::current();
            let name = thread.name().unwrap_or("<unnamed>");
            let location = info
                .location()
                .map_or_else(String::new, |l| format!(" at {l}"));
            let backtrace = std::backtrace::Backtrace::capture();
            let mut err = std::io::stderr().lock();
            let _ = writeln!(err, "\nthread '{name}' panicked{location}:\n{clean}");
            if backtrace.status() == std::backtrace::BacktraceStatus::Captured {
                let _ = writeln!(err, "stack backtrace:\n{backtrace}");
            }
        }));
    });
}
