//! Sources and credentials whose only printable form is the redacted one.

mod params;
mod parse;
mod percent;
mod registry;
mod text;

use crate::error::{Error, ErrorKind};
use params::{redact_pairs, redact_path};
use parse::Parts;
use percent::{base64_encode, percent_decode, percent_encode};
pub(crate) use registry::Registration;
pub use registry::redact_everywhere;
use std::fmt;
pub use text::redact_text;

const MASK: &str = "***";

/// A string that never prints itself: `Display` and `Debug` show `***`.
#[derive(Clone, PartialEq, Eq)]
pub struct Secret(String);

impl Secret {
    /// Wraps a secret value.
    pub fn new(value: impl Into<String>) -> Self {
        Secret(value.into())
    }

    /// The secret itself, for handing to a backend. Never log the result.
    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(MASK)
    }
}

impl fmt::Display for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(MASK)
    }
}

/// A user name and password, given apart from the URL or parsed out of it.
#[derive(Clone, PartialEq, Eq)]
pub struct Credentials {
    /// The user name (printed as is).
    pub username: String,
    /// The password (never printed).
    pub password: Secret,
}

impl Credentials {
    /// Credentials from a user name and a password.
    pub fn new(username: impl Into<String>, password: impl Into<String>) -> Self {
        Credentials {
            username: username.into(),
            password: Secret::new(password),
        }
    }
}

impl fmt::Debug for Credentials {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Credentials")
            .field("username", &self.username)
            .field("password", &self.password)
            .finish()
    }
}

/// A video source: a URL (`rtsp://…`, `http://…`, `file:…`), a path, or a device (`0`,
/// `/dev/video0`).
///
/// `Display` and `Debug` show the redacted form, the only printable one:
/// - the password of the user-info is replaced by `***` — also a password holding unescaped
///   `@`, `:`, `/`, `?` or `#`: the user-info ends at the last `@` followed by a plausible host;
/// - when in doubt, more is masked: an `@` anywhere after the scheme masks everything between
///   the scheme and it (`rtsp://***@cam/x`);
/// - the values of secret-looking parameters in the query, the fragment and the path
///   (`password=`, `pass=`, `pwd=`, `token=`, `access_token=`, `jwt=`, `auth=`, `key=`,
///   `sig=`, `loginpas=` …, also percent-encoded names) are replaced by `***`;
/// - `user:password@host` written without a scheme is masked too.
///
/// [`expose`](SourceUrl::expose) gives the original string to a backend.
#[derive(Clone, PartialEq, Eq)]
pub struct SourceUrl {
    raw: String,
    redacted: String,
    secrets: Vec<String>,
}

impl SourceUrl {
    /// Parses `source`. Any string is accepted; whether it can be opened is checked when the
    /// stream connects.
    pub fn new(source: impl Into<String>) -> Self {
        let raw = source.into();
        let parts = Parts::split(&raw);
        let mut secrets = Vec::new();
        let mut redacted = String::with_capacity(raw.len());
        redacted.push_str(parts.scheme);
        // Either reading's password is a secret, whichever is used.
        if let Some(at) = parts.after_last_at {
            userinfo_secrets(&mut secrets, &raw[parts.scheme.len()..at - 1]);
        }
        if let Some(userinfo) = parts.userinfo {
            userinfo_secrets(&mut secrets, userinfo);
        }
        let rest_start = match (parts.userinfo, parts.after_last_at) {
            // The user-info read unambiguously, and no other `@` after it.
            (Some(userinfo), Some(at)) if at == parts.host_start => {
                match userinfo.split_once(':') {
                    Some((user, _)) => {
                        redacted.push_str(user);
                        redacted.push(':');
                        redacted.push_str(MASK);
                    }
                    None => redacted.push_str(userinfo),
                }
                redacted.push('@');
                at
            }
            // Any other `@`: mask everything before the last one.
            (_, Some(at)) => {
                redacted.push_str(MASK);
                redacted.push('@');
                at
            }
            (_, None) => parts.host_start,
        };
        redacted.push_str(&redact_rest(&raw[rest_start..], &mut secrets));
        for s in std::mem::take(&mut secrets) {
            push_secret(&mut secrets, &s);
        }
        SourceUrl {
            raw,
            redacted,
            secrets,
        }
    }

    /// The source exactly as given, credentials included. Only for handing to a decoder;
    /// never log it.
    pub fn expose(&self) -> &str {
        &self.raw
    }

    /// The printable form (same as `Display`).
    pub fn redacted(&self) -> &str {
        &self.redacted
    }

    /// The scheme in lower case (`"rtsp"`, `"http"` …), `None` for paths and devices.
    pub fn scheme(&self) -> Option<String> {
        let scheme = Parts::split(&self.raw).scheme;
        scheme
            .strip_suffix("://")
            .map(|s| s.to_ascii_lowercase())
            .filter(|s| !s.is_empty())
    }

    /// Whether the source is reached over the network (RTSP, HTTP, RTMP, SRT, UDP …): for a
    /// backend, its end means a dropped connection, not the end of a file.
    pub fn is_network(&self) -> bool {
        const NETWORK_SCHEMES: &[&str] = &[
            "rtsp", "rtsps", "rtmp", "rtmps", "http", "https", "udp", "tcp", "srt", "rtp", "hls",
        ];
        self.scheme()
            .is_some_and(|s| NETWORK_SCHEMES.contains(&s.as_str()))
    }

    /// Whether the source is an `rtsp://` or `rtsps://` URL.
    pub fn is_rtsp(&self) -> bool {
        matches!(self.scheme().as_deref(), Some("rtsp" | "rtsps"))
    }

    /// The host of a URL (a name or an address; an IPv6 address without its brackets), `None`
    /// for paths and devices.
    pub fn host(&self) -> Option<String> {
        let parts = Parts::split(&self.raw);
        if parts.scheme.is_empty() {
            return None;
        }
        let host_port = parts.host_port(&self.raw);
        let host = match host_port.strip_prefix('[') {
            Some(v6) => v6.split(']').next().unwrap_or(""),
            None => host_port.rsplit_once(':').map_or(host_port, |(h, _)| h),
        };
        (!host.is_empty()).then(|| host.to_owned())
    }

    /// The port of a URL: the one written, else the scheme's (RTSP 554, RTSPS 322, HTTP 80,
    /// HTTPS 443, RTMP 1935); `None` for paths, devices and other schemes without a port.
    pub fn port(&self) -> Option<u16> {
        let parts = Parts::split(&self.raw);
        let host_port = parts.host_port(&self.raw);
        let written = match host_port.strip_prefix('[') {
            Some(v6) => v6.split_once("]:").map(|(_, p)| p),
            None => host_port.rsplit_once(':').map(|(_, p)| p),
        };
        if let Some(port) = written.and_then(|p| p.parse::<u16>().ok()) {
            return Some(port);
        }
        match self.scheme()?.as_str() {
            "rtsp" => Some(554),
            "rtsps" => Some(322),
            "http" => Some(80),
            "https" => Some(443),
            "rtmp" => Some(1935),
            _ => None,
        }
    }

    /// The user name and password of the URL's user-info part, percent-decoded; `None` without
    /// one, and when the URL can be read two ways (see [`check`](Self::check)).
    pub fn credentials(&self) -> Option<Credentials> {
        let parts = Parts::split(&self.raw);
        if parts.scheme.is_empty() {
            return None;
        }
        let userinfo = parts.userinfo?;
        let (user, password) = userinfo.split_once(':').unwrap_or((userinfo, ""));
        Some(Credentials::new(
            percent_decode(user),
            percent_decode(password),
        ))
    }

    /// The URL without its user-info part (for decoders that take credentials separately).
    /// Secret query parameters are kept: the server needs them.
    pub fn without_credentials(&self) -> String {
        let parts = Parts::split(&self.raw);
        format!("{}{}", parts.scheme, &self.raw[parts.host_start..])
    }

    /// The URL with `credentials` (percent-encoded, so that no decoder misreads a password
    /// holding `@`, `/`, `?` or `#`) in place of any user-info it had. Sources without a
    /// scheme are returned unchanged.
    pub fn with_credentials(&self, credentials: &Credentials) -> String {
        let parts = Parts::split(&self.raw);
        if parts.scheme.is_empty() {
            return self.raw.clone();
        }
        format!(
            "{}{}:{}@{}",
            parts.scheme,
            percent_encode(&credentials.username),
            percent_encode(credentials.password.expose()),
            &self.raw[parts.host_start..]
        )
    }

    /// Whether a stream can connect to this source as written: for URLs, a host, a port
    /// within 1–65535 and user-info that reads only one way; for paths, not a directory. The
    /// error is an [`ErrorKind::InvalidSource`] that says how to fix the source.
    pub fn check(&self) -> Result<(), Error> {
        let invalid = |what: String| Err(Error::new(ErrorKind::InvalidSource, "core", what));
        let parts = Parts::split(&self.raw);
        if parts.scheme.is_empty() || self.scheme().as_deref() == Some("file") {
            let path = self.raw.strip_prefix("file://").unwrap_or(&self.raw);
            if std::path::Path::new(path).is_dir() {
                return invalid(format!("{} is a directory, not a video", self.redacted));
            }
            return Ok(());
        }
        if parts.ambiguous {
            return invalid(format!(
                "{} can be read two ways: an '@' after the host may end the user name and \
                 password, or belong to the path or query. Percent-encode the password \
                 ('@' as %40, '/' as %2F, '?' as %3F, '#' as %23, ':' as %3A), or give the \
                 credentials apart from the URL (VideoStreamBuilder::credentials)",
                self.redacted
            ));
        }
        if !self.is_network() {
            return Ok(());
        }
        let host_port = parts.host_port(&self.raw);
        let host = host_port
            .rsplit_once(':')
            .filter(|_| !host_port.ends_with(']'))
            .map_or(host_port, |(h, _)| h);
        if host.is_empty() {
            return invalid(format!("{} names no host", self.redacted));
        }
        if !parse::valid_port(host_port) {
            return invalid(format!(
                "{} has no valid port (1–65535) after the host",
                self.redacted
            ));
        }
        Ok(())
    }

    /// Adds credentials given apart from the URL: [`redact`](SourceUrl::redact) must also
    /// remove their password, in every form.
    pub(crate) fn add_credentials(&mut self, credentials: &Credentials) {
        let password = credentials.password.expose();
        push_secret(&mut self.secrets, password);
        if !password.is_empty() {
            push_secret(
                &mut self.secrets,
                &basic_auth(&credentials.username, password),
            );
        }
    }

    /// Every form of every secret of this source, longest first (what the process-wide
    /// registry holds while a request for it lives).
    pub(crate) fn secrets(&self) -> &[String] {
        &self.secrets
    }

    /// Removes this source's secrets from any text: a message of a decoder, which often
    /// echoes the URL it was given. Also redacts any other URL user-info in the text.
    pub fn redact(&self, text: &str) -> String {
        let mut out = redact_text(text);
        mask_secrets(&mut out, self.secrets.iter().map(String::as_str));
        out
    }
}

/// Host, path, query and fragment with their secret parameters masked.
fn redact_rest(rest: &str, secrets: &mut Vec<String>) -> String {
    let (before_fragment, fragment) = match rest.split_once('#') {
        Some((a, f)) => (a, Some(f)),
        None => (rest, None),
    };
    let (path, query) = match before_fragment.split_once('?') {
        Some((a, q)) => (a, Some(q)),
        None => (before_fragment, None),
    };
    let mut out = redact_path(path, secrets);
    if let Some(query) = query {
        out.push('?');
        out.push_str(&redact_pairs(query, &['&', ';'], secrets));
    }
    if let Some(fragment) = fragment {
        out.push('#');
        out.push_str(&redact_pairs(fragment, &['&', ';'], secrets));
    }
    out
}

impl fmt::Display for SourceUrl {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.redacted)
    }
}

impl fmt::Debug for SourceUrl {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "SourceUrl({:?})", self.redacted)
    }
}

impl From<&str> for SourceUrl {
    fn from(s: &str) -> Self {
        SourceUrl::new(s)
    }
}

impl From<String> for SourceUrl {
    fn from(s: String) -> Self {
        SourceUrl::new(s)
    }
}

impl From<&String> for SourceUrl {
    fn from(s: &String) -> Self {
        SourceUrl::new(s.as_str())
    }
}

/// Replaces every occurrence of every secret in `text` by the mask, round after round while
/// a mask completes a secret again (a secret holding `*`, or one masked inside another: masking
/// `B` in `A…B*` may leave `A…***`, which holds a secret `A…*`). Every round shortens the text
/// or leaves it unchanged, so a few rounds reach the fixed point; text that still holds a
/// secret after them is withheld whole.
pub(crate) fn mask_secrets<'a>(text: &mut String, secrets: impl Iterator<Item = &'a str> + Clone) {
    for _ in 0..16 {
        let mut masked = false;
        for secret in secrets.clone() {
            if text.contains(secret) {
                *text = text.replace(secret, MASK);
                masked = true;
            }
        }
        if !masked {
            return;
        }
    }
    if secrets.clone().any(|secret| text.contains(secret)) {
        *text = WITHHELD.to_owned();
    }
}

/// What replaces a text whose masks keep forming a secret again.
const WITHHELD: &str = "[text withheld: masking its secrets formed new ones]";

/// The secrets of one reading of a user-info: its password, and `user:password` in base64
/// (what HTTP Basic authentication sends, and a decoder may log), both percent-decoded.
fn userinfo_secrets(secrets: &mut Vec<String>, userinfo: &str) {
    if let Some((user, password)) = userinfo.split_once(':') {
        secrets.push(password.to_owned());
        if !password.is_empty() {
            secrets.push(basic_auth(&percent_decode(user), &percent_decode(password)));
        }
    }
}

fn basic_auth(user: &str, password: &str) -> String {
    base64_encode(format!("{user}:{password}").as_bytes())
}

fn push_secret(secrets: &mut Vec<String>, secret: &str) {
    // Very short forms would mask unrelated text; they are still removed from URLs by
    // structure, just not by text search. Each form counts on its own: a password of one
    // multi-byte character is six bytes percent-encoded.
    for form in [
        secret.to_owned(),
        percent_decode(secret),
        percent_encode(secret),
    ] {
        if form.len() >= 3 && form != MASK && !secrets.contains(&form) {
            secrets.push(form);
        }
    }
    secrets.sort_by_key(|s| std::cmp::Reverse(s.len()));
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn plain_password_is_masked() {
        let u = SourceUrl::new("rtsp://admin:hunter2@10.0.0.5:554/stream1");
        assert_eq!(u.to_string(), "rtsp://admin:***@10.0.0.5:554/stream1");
        assert_eq!(
            format!("{u:?}"),
            "SourceUrl(\"rtsp://admin:***@10.0.0.5:554/stream1\")"
        );
        assert_eq!(u.expose(), "rtsp://admin:hunter2@10.0.0.5:554/stream1");
    }

    #[test]
    fn password_with_at_colon_and_slash() {
        let u = SourceUrl::new("rtsp://admin:p@ss:w/rd@cam.local/live?x=1");
        assert_eq!(u.to_string(), "rtsp://admin:***@cam.local/live?x=1");
        let c = u.credentials().unwrap();
        assert_eq!(c.username, "admin");
        assert_eq!(c.password.expose(), "p@ss:w/rd");
        assert_eq!(u.without_credentials(), "rtsp://cam.local/live?x=1");
    }

    #[test]
    fn secret_query_parameters_are_masked() {
        let u = SourceUrl::new("http://cam/snap?user=bob&password=s3cret&token=abc123&fps=5");
        assert_eq!(
            u.to_string(),
            "http://cam/snap?user=bob&password=***&token=***&fps=5"
        );
        assert_eq!(
            u.redact("GET /snap?token=abc123 failed"),
            "GET /snap?token=*** failed"
        );
        for name in ["pass", "pwd", "auth", "key", "api_key", "Password"] {
            let u = SourceUrl::new(format!("rtsp://h/p?{name}=topsecret"));
            assert!(!u.to_string().contains("topsecret"), "{name}");
        }
    }

    /// Every shape of secret a source can hold, printed by Display, Debug and in a log line:
    /// (source, secret, printed form).
    const SHAPES: &[(&str, &str, &str)] = &[
        // Passwords holding what URLs use as delimiters, unescaped.
        (
            "rtsp://admin:s3cr3t!#@cam/stream",
            "s3cr3t!#",
            "rtsp://admin:***@cam/stream",
        ),
        ("rtsp://user:pa?ss@cam/x", "pa?ss", "rtsp://user:***@cam/x"),
        ("rtsp://user:a@b#c@cam/x", "a@b#c", "rtsp://***@cam/x"),
        ("rtsp://user:p/w#x@cam/x", "p/w#x", "rtsp://user:***@cam/x"),
        (
            "rtsp://admin:p@ss:w/rd@cam.local/live?x=1",
            "p@ss:w/rd",
            "rtsp://admin:***@cam.local/live?x=1",
        ),
        // An '@' in the query: everything before it is masked.
        ("rtsp://u:hunter2@cam/s?note=x@y", "hunter2", "rtsp://***@y"),
        ("rtsp://cam/s?token=tok3n@h", "tok3n", "rtsp://***@h"),
        // Parameters, wherever they are.
        (
            "rtsp://cam/live;token=abc123/ch1",
            "abc123",
            "rtsp://cam/live;token=***/ch1",
        ),
        (
            "rtsp://cam/x?jwt=eyJhbGc",
            "eyJhbGc",
            "rtsp://cam/x?jwt=***",
        ),
        (
            "http://cam/x?access_token=zz9zz",
            "zz9zz",
            "http://cam/x?access_token=***",
        ),
        ("http://cam/x?auth=zz9zz", "zz9zz", "http://cam/x?auth=***"),
        (
            "http://cam/x?sig=q1w2e3&signature=r4t5y6",
            "q1w2e3",
            "http://cam/x?sig=***&signature=***",
        ),
        (
            "http://cam/x?user=a&pass=q1w2e3",
            "q1w2e3",
            "http://cam/x?user=a&pass=***",
        ),
        ("http://cam/x?pwd=q1w2e3", "q1w2e3", "http://cam/x?pwd=***"),
        (
            "http://cam/x?passwd=q1w2e3",
            "q1w2e3",
            "http://cam/x?passwd=***",
        ),
        (
            "http://cam/cgi?usr=admin&loginpas=q1w2e3",
            "q1w2e3",
            "http://cam/cgi?usr=admin&loginpas=***",
        ),
        (
            "http://cam/x?%70assword=q1w2e3",
            "q1w2e3",
            "http://cam/x?%70assword=***",
        ),
        (
            "http://cam/x#access_token=q1w2e3",
            "q1w2e3",
            "http://cam/x#access_token=***",
        ),
        // Credentials written without a scheme.
        ("admin:q1w2e3@cam/stream", "q1w2e3", "admin:***@cam/stream"),
    ];

    #[test]
    fn every_shape_of_secret_is_masked_everywhere() {
        for (source, secret, printed) in SHAPES {
            let u = SourceUrl::new(*source);
            assert_eq!(u.to_string(), *printed, "{source}");
            assert!(!format!("{u:?}").contains(secret), "Debug of {source}");
            let line = format!("opening '{source}' failed");
            assert!(
                !redact_text(&line).contains(secret),
                "{}",
                redact_text(&line)
            );
            assert!(!u.redact(&line).contains(secret), "{}", u.redact(&line));
        }
    }

    #[test]
    fn unambiguous_credentials_are_read_and_reencoded_for_decoders() {
        for (source, password) in [
            ("rtsp://admin:s3cr3t!#@cam/stream", "s3cr3t!#"),
            ("rtsp://user:pa?ss@cam/x", "pa?ss"),
            ("rtsp://user:p/w#x@cam/x", "p/w#x"),
        ] {
            let u = SourceUrl::new(source);
            assert!(u.check().is_ok(), "{source}");
            let c = u.credentials().expect(source);
            assert_eq!(c.password.expose(), password);
            let encoded = u.with_credentials(&c);
            assert!(!encoded.contains(password), "{encoded}");
            assert_eq!(SourceUrl::new(&encoded).credentials(), Some(c));
        }
    }

    #[test]
    fn sources_that_cannot_be_connected_to_say_why() {
        for (source, says) in [
            ("rtsp://user:a@b#c@cam/x", "percent-encode"),
            ("rtsp://cam:554/s?u=a@b", "two ways"),
            ("rtsp://", "no host"),
            ("rtsp:///stream", "no host"),
            ("rtsp://cam:99999/x", "port"),
            ("/tmp", "directory"),
        ] {
            let err = SourceUrl::new(source).check().unwrap_err();
            assert_eq!(err.kind(), ErrorKind::InvalidSource, "{source}");
            assert!(
                err.to_string().to_lowercase().contains(says),
                "{source}: {err}"
            );
            assert!(!err.to_string().contains("a@b#c"), "{err}");
        }
        for fine in [
            "rtsp://cam/x",
            "rtsp://u:p@cam:8554/x?a=b",
            "0",
            "/dev/video0",
            "x.mp4",
        ] {
            assert!(SourceUrl::new(fine).check().is_ok(), "{fine}");
        }
    }

    #[test]
    fn redact_text_finds_urls_and_loose_params() {
        let t = "Opening 'rtsp://u:pw1234@h/x' for reading; password=pw1234 user=u";
        let r = redact_text(t);
        assert_eq!(
            r,
            "Opening 'rtsp://u:***@h/x' for reading; password=*** user=u"
        );
    }

    #[test]
    fn percent_encoded_password_is_found_in_both_forms() {
        let u = SourceUrl::new("rtsp://u:a%40b%3Ac@h/x");
        assert_eq!(u.credentials().unwrap().password.expose(), "a@b:c");
        assert_eq!(u.redact("auth a@b:c failed"), "auth *** failed");
        assert_eq!(u.redact("url had a%40b%3Ac"), "url had ***");
    }

    #[test]
    fn with_credentials_percent_encodes() {
        let u = SourceUrl::new("rtsp://old:x@h:554/p");
        let c = Credentials::new("me", "p@ss word");
        assert_eq!(u.with_credentials(&c), "rtsp://me:p%40ss%20word@h:554/p");
        assert_eq!(
            format!("{c:?}"),
            "Credentials { username: \"me\", password: *** }"
        );
    }

    #[test]
    fn hosts_and_ports_of_urls() {
        for (raw, host, port) in [
            ("rtsp://u:p@cam.local:8554/x", Some("cam.local"), Some(8554)),
            ("rtsp://10.0.0.5/x", Some("10.0.0.5"), Some(554)),
            ("rtsps://cam/x", Some("cam"), Some(322)),
            ("http://[::1]:8080/snap", Some("::1"), Some(8080)),
            ("rtsp://admin:s3cr3t!#@cam/stream", Some("cam"), Some(554)),
            ("/dev/video0", None, None),
        ] {
            let u = SourceUrl::new(raw);
            assert_eq!((u.host().as_deref(), u.port()), (host, port), "{raw}");
        }
    }

    #[test]
    fn devices_and_paths_pass_through() {
        for s in ["0", "/dev/video0", "/tmp/a b.mp4", "file:/x.mp4"] {
            let u = SourceUrl::new(s);
            assert_eq!(u.to_string(), s);
            assert_eq!(u.scheme(), None);
        }
        assert_eq!(
            SourceUrl::new("RTSP://h/x").scheme().as_deref(),
            Some("rtsp")
        );
    }

    #[test]
    fn network_and_rtsp_sources_are_told_apart() {
        for (s, network, rtsp) in [
            ("RTSP://cam/x", true, true),
            ("rtsps://cam/x", true, true),
            ("http://cam/x.mjpg", true, false),
            ("/tmp/a.mp4", false, false),
            ("file:///tmp/a.mp4", false, false),
            ("0", false, false),
        ] {
            let u = SourceUrl::new(s);
            assert_eq!((u.is_network(), u.is_rtsp()), (network, rtsp), "{s}");
        }
    }
}
