//! The secrets of the streams alive in this process, for text that reaches us without saying
//! which stream it belongs to: a line of a decoder library's process-wide log, a panic message.

use arc_swap::ArcSwap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, LazyLock};

/// Every registered secret with the id of its registration, longest first (so that a secret
/// holding another is masked whole). Readers (log callbacks on decoder threads, a panic hook)
/// never lock: a panic while a registration is being changed cannot deadlock the hook that
/// reports it.
static REGISTRY: LazyLock<ArcSwap<Secrets>> = LazyLock::new(|| ArcSwap::from_pointee(Vec::new()));

/// Each secret with the id of the registration that holds it.
type Secrets = Vec<(u64, Arc<str>)>;

/// A set of secrets registered for as long as this value lives (an `OpenRequest` holds one).
#[derive(Debug)]
pub(crate) struct Registration(u64);

impl Registration {
    pub(crate) fn new(secrets: &[String]) -> Option<Registration> {
        if secrets.is_empty() {
            return None;
        }
        static IDS: AtomicU64 = AtomicU64::new(1);
        let id = IDS.fetch_add(1, Ordering::Relaxed);
        let secrets: Vec<Arc<str>> = secrets.iter().map(|s| Arc::from(s.as_str())).collect();
        REGISTRY.rcu(|all| {
            let mut all = Vec::clone(all);
            all.extend(secrets.iter().map(|s| (id, Arc::clone(s))));
            all.sort_by_key(|(_, s)| std::cmp::Reverse(s.len()));
            all
        });
        Some(Registration(id))
    }
}

impl Drop for Registration {
    fn drop(&mut self) {
        let id = self.0;
        REGISTRY.rcu(|all| {
            all.iter()
                .filter(|(i, _)| *i != id)
                .cloned()
                .collect::<Vec<_>>()
        });
    }
}

/// `text` with every URL user-info, secret parameter and credential header redacted (as
/// [`redact_text`](super::redact_text) does) and every secret of every stream alive in this
/// process replaced by `***`: passwords and secret parameter values, in every form a stream
/// registers (as given, percent-encoded and decoded, and `user:password` in base64). For text
/// whose stream is not known: a decoder library's process-wide log, a panic message.
pub fn redact_everywhere(text: &str) -> String {
    let mut out = super::redact_text(text);
    let registry = REGISTRY.load();
    super::mask_secrets(&mut out, registry.iter().map(|(_, secret)| &**secret));
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn secrets_are_removed_while_registered() {
        let text = "decoder says: zq-hunter-99 rejected";
        let registration = Registration::new(&["zq-hunter-99".to_owned()]);
        assert_eq!(redact_everywhere(text), "decoder says: *** rejected");
        drop(registration);
        assert_eq!(redact_everywhere(text), text);
    }
}
