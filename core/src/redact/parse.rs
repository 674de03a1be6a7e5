//! Where a source's user-info ends, when a password may hold every character URLs use.
//!
//! RFC 3986 ends the authority at the first `/`, `?` or `#`, but people paste passwords with
//! those characters (and `@` and `:`) unescaped. So two readings are compared:
//! - the standard one: the user-info ends at the last `@` before the first `/`, `?` or `#`;
//! - the greedy one: it ends at the last `@` of the whole string that is followed by a
//!   plausible host (name or address, optional port) and whose user name (before the first
//!   `:`) holds no `/`, `?`, `#` or `@`.
//!
//! When both give the same `@`, or only one is plausible, the source is unambiguous. When
//! both are plausible and differ (`rtsp://u:a@b#c@cam/x`: host `b`, or host `cam`?), it is
//! ambiguous: it is printed with everything before its last `@` masked, and connecting to it
//! is an error that says how to write it unambiguously.

/// The reading of a source's scheme and user-info.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) struct Parts<'a> {
    /// `"rtsp://"`, or empty for paths and devices.
    pub(super) scheme: &'a str,
    /// The user-info of the reading chosen (none when ambiguous).
    pub(super) userinfo: Option<&'a str>,
    /// Index in the raw string where the host begins (after the user-info and its `@`).
    pub(super) host_start: usize,
    /// Two plausible readings that differ.
    pub(super) ambiguous: bool,
    /// Index just after the last `@` after the scheme, if any (printing masks up to it).
    pub(super) after_last_at: Option<usize>,
}

impl<'a> Parts<'a> {
    pub(super) fn split(raw: &'a str) -> Parts<'a> {
        // An empty scheme counts: "://user:password@host", as text quotes a URL whose scheme
        // was cut off, is read as a URL (its user-info masked), not as a path.
        let scheme_len = raw
            .find("://")
            .filter(|&i| {
                raw[..i]
                    .chars()
                    .all(|c| c.is_ascii_alphanumeric() || "+-.".contains(c))
            })
            .map_or(0, |i| i + 3);
        let scheme = &raw[..scheme_len];
        let after = &raw[scheme_len..];
        let after_last_at = after.rfind('@').map(|i| scheme_len + i + 1);
        if scheme_len == 0 {
            // A path or a device; `user:password@host` written without a scheme is read as
            // credentials for printing only.
            let userinfo = schemeless_userinfo(raw);
            return Parts {
                scheme,
                userinfo,
                host_start: userinfo.map_or(0, |u| u.len() + 1),
                ambiguous: false,
                after_last_at: userinfo.and(after_last_at),
            };
        }
        let authority_end = after.find(['/', '?', '#']).unwrap_or(after.len());
        let authority = &after[..authority_end];
        let standard_at = authority.rfind('@');
        let standard_host = standard_at.map_or(authority, |i| &authority[i + 1..]);
        let standard_plausible = plausible_host_port(standard_host);
        let greedy_at = greedy_userinfo_end(after);
        let (chosen, ambiguous) = match (standard_plausible, greedy_at) {
            (_, None) => (standard_at, false),
            (true, Some(g)) if Some(g) == standard_at => (standard_at, false),
            (true, Some(_)) => (None, true),
            (false, Some(g)) => (Some(g), false),
        };
        Parts {
            scheme,
            userinfo: chosen.map(|i| &after[..i]),
            host_start: chosen.map_or(scheme_len, |i| scheme_len + i + 1),
            ambiguous,
            after_last_at,
        }
    }

    /// The host and port of the reading chosen (empty when there is none).
    pub(super) fn host_port(&self, raw: &'a str) -> &'a str {
        let rest = &raw[self.host_start..];
        &rest[..rest.find(['/', '?', '#']).unwrap_or(rest.len())]
    }
}

/// The end of the user-info in the greedy reading: the last `@` followed by a plausible host,
/// with a plausible user name before it.
fn greedy_userinfo_end(after: &str) -> Option<usize> {
    let at = after.rfind('@')?;
    let rest = &after[at + 1..];
    let host = &rest[..rest.find(['/', '?', '#']).unwrap_or(rest.len())];
    let userinfo = &after[..at];
    let user = userinfo.split(':').next().unwrap_or("");
    let user_plausible =
        !user.contains(['/', '?', '#', '@']) && !user.contains(char::is_whitespace);
    (plausible_host_port(host) && user_plausible).then_some(at)
}

/// `name:secret@host…` at the start of a source without a scheme: the last `@` followed by a
/// plausible host (not merely the last `@`, so that text holding such a source reads the same
/// once a later `@` has been masked).
fn schemeless_userinfo(raw: &str) -> Option<&str> {
    let (user, _) = raw.split_once(':')?;
    if user.is_empty() || user.contains(['/', '\\', '@']) || user.contains(char::is_whitespace) {
        return None;
    }
    raw.rmatch_indices('@')
        .map(|(at, _)| at)
        .filter(|&at| at > user.len())
        .find(|&at| {
            let rest = &raw[at + 1..];
            plausible_host_port(&rest[..rest.find(['/', '?', '#']).unwrap_or(rest.len())])
        })
        .map(|at| &raw[..at])
}

/// A host name, IPv4 address or bracketed IPv6 address, with an optional port of 1–65535.
pub(super) fn plausible_host_port(s: &str) -> bool {
    let (host, port) = if let Some(rest) = s.strip_prefix('[') {
        match rest.split_once(']') {
            Some((v6, tail)) => {
                let ok = !v6.is_empty()
                    && v6
                        .chars()
                        .all(|c| c.is_ascii_hexdigit() || ":.".contains(c));
                if !ok {
                    return false;
                }
                (v6, tail.strip_prefix(':'))
            }
            None => return false,
        }
    } else {
        match s.rsplit_once(':') {
            Some((h, p)) => (h, Some(p)),
            None => (s, None),
        }
    };
    plausible_port(port) && (s.starts_with('[') || plausible_host(host))
}

fn plausible_port(port: Option<&str>) -> bool {
    match port {
        None | Some("") => true,
        Some(p) => p.len() <= 5 && p.parse::<u32>().is_ok_and(|n| (1..=65535).contains(&n)),
    }
}

fn plausible_host(host: &str) -> bool {
    !host.is_empty()
        && host.len() <= 253
        && host.split('.').all(|label| {
            !label.is_empty()
                && label.len() <= 63
                && label
                    .chars()
                    .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_')
        })
}

/// Whether a source's port, if written, is a port at all (1–65535).
pub(super) fn valid_port(host_port: &str) -> bool {
    if host_port.starts_with('[') {
        return plausible_host_port(host_port);
    }
    plausible_port(host_port.rsplit_once(':').map(|(_, p)| p))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn userinfo(raw: &str) -> (Option<&str>, bool) {
        let p = Parts::split(raw);
        (p.userinfo, p.ambiguous)
    }

    #[test]
    fn readings_of_awkward_user_info() {
        for (raw, want) in [
            (
                "rtsp://admin:hunter2@10.0.0.5:554/s",
                (Some("admin:hunter2"), false),
            ),
            (
                "rtsp://admin:p@ss:w/rd@cam.local/live?x=1",
                (Some("admin:p@ss:w/rd"), false),
            ),
            (
                "rtsp://admin:s3cr3t!#@cam/stream",
                (Some("admin:s3cr3t!#"), false),
            ),
            ("rtsp://user:pa?ss@cam/x", (Some("user:pa?ss"), false)),
            ("rtsp://user:p/w#x@cam/x", (Some("user:p/w#x"), false)),
            ("rtsp://user:a@b#c@cam/x", (None, true)),
            ("rtsp://cam/stream?token=a@b", (None, false)),
            ("rtsp://cam:554/s?u=a@b", (None, true)),
            ("rtsp://cam/stream", (None, false)),
            ("rtsp://[::1]:8554/x", (None, false)),
            ("rtsp://u:p@[::1]:8554/x", (Some("u:p"), false)),
        ] {
            assert_eq!(userinfo(raw), want, "{raw}");
        }
    }

    #[test]
    fn hosts_and_ports() {
        for ok in [
            "cam",
            "cam.local",
            "10.0.0.5:554",
            "cam:",
            "[::1]:8554",
            "my-cam_2",
        ] {
            assert!(plausible_host_port(ok), "{ok}");
        }
        for bad in [
            "",
            "ss:w",
            "admin:s3cr3t!",
            "cam:99999",
            "cam:0",
            "a b",
            "x/y",
            "[zz]",
        ] {
            assert!(!plausible_host_port(bad), "{bad}");
        }
    }

    #[test]
    fn credentials_without_a_scheme_are_found_for_printing() {
        assert_eq!(Parts::split("admin:pw@cam/x").userinfo, Some("admin:pw"));
        assert_eq!(Parts::split("/videos/cam@2x.mp4").userinfo, None);
        assert_eq!(Parts::split("me@example.com").userinfo, None);
    }
}
