//! Basic and Digest authentication as a camera checks it, with the firmware habits a client
//! must survive: asking again on a later request, a nonce that goes stale.

use super::wire::Request;
use super::{Auth, AuthKind};

/// One session's view of authentication.
pub(super) struct Gate {
    nonce: String,
    /// Requests seen on this connection.
    requests: u32,
    asked_again: bool,
    staled: bool,
}

/// What a request gets.
pub(super) enum Verdict {
    Pass,
    /// 401 with this `WWW-Authenticate` value.
    Challenge(String),
}

const REALM: &str = "camera";

impl Gate {
    pub(super) fn new(client: u64) -> Self {
        Gate {
            nonce: format!(
                "{:016x}",
                client.wrapping_mul(0x9e37_79b9_7f4a_7c15) ^ 0x5eed
            ),
            requests: 0,
            asked_again: false,
            staled: false,
        }
    }

    pub(super) fn check(&mut self, auth: &Auth, request: &Request) -> Verdict {
        self.requests += 1;
        if let Some(after) = auth.ask_again_after
            && self.requests > after
            && !self.asked_again
        {
            self.asked_again = true;
            self.nonce = format!("{}a", self.nonce);
            return self.challenge(auth, false);
        }
        if let Some(after) = auth.stale_after
            && auth.kind == AuthKind::Digest
            && self.requests > after
            && !self.staled
        {
            self.staled = true;
            self.nonce = format!("{}s", self.nonce);
            return self.challenge(auth, true);
        }
        let Some(given) = request.header("Authorization") else {
            return self.challenge(auth, false);
        };
        let ok = match auth.kind {
            AuthKind::Basic => given.strip_prefix("Basic ").is_some_and(|b| {
                b.trim()
                    == crate::rtp::base64(format!("{}:{}", auth.user, auth.password).as_bytes())
            }),
            AuthKind::Digest => self.digest_ok(auth, request, given),
        };
        if ok {
            Verdict::Pass
        } else {
            self.challenge(auth, false)
        }
    }

    fn challenge(&self, auth: &Auth, stale: bool) -> Verdict {
        Verdict::Challenge(match auth.kind {
            AuthKind::Basic => format!("Basic realm=\"{REALM}\""),
            AuthKind::Digest => format!(
                "Digest realm=\"{REALM}\", nonce=\"{}\"{}",
                self.nonce,
                if stale { ", stale=TRUE" } else { "" }
            ),
        })
    }

    fn digest_ok(&self, auth: &Auth, request: &Request, given: &str) -> bool {
        let Some(fields) = given.strip_prefix("Digest ") else {
            return false;
        };
        let field = |name: &str| {
            fields.split(',').find_map(|part| {
                let (k, v) = part.trim().split_once('=')?;
                (k.trim() == name).then(|| v.trim().trim_matches('"').to_owned())
            })
        };
        let (Some(user), Some(nonce), Some(uri), Some(response)) = (
            field("username"),
            field("nonce"),
            field("uri"),
            field("response"),
        ) else {
            return false;
        };
        if user != auth.user || nonce != self.nonce {
            return false;
        }
        let ha1 = hex_md5(&format!("{}:{REALM}:{}", auth.user, auth.password));
        let ha2 = hex_md5(&format!("{}:{uri}", request.method));
        response == hex_md5(&format!("{ha1}:{nonce}:{ha2}"))
    }
}

fn hex_md5(text: &str) -> String {
    format!("{:x}", md5::compute(text.as_bytes()))
}
