//! Sources and credentials whose only printable form is the redacted one.

use std::fmt;

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
/// `Display` and `Debug` show the redacted form: the password of the user-info part (also one
/// holding an unescaped `@` or `:`) and the values of secret-looking query parameters
/// (`password=`, `pass=`, `pwd=`, `token=`, `auth=`, `key=`, `secret=`, `sig=` …) are replaced
/// by `***`. [`expose`](SourceUrl::expose) gives the original string to a backend.
#[derive(Clone, PartialEq, Eq)]
pub struct SourceUrl {
    raw: String,
    redacted: String,
    secrets: Vec<String>,
}

impl SourceUrl {
    /// Parses `source`. Any string is accepted; whether a backend can open it is its business.
    pub fn new(source: impl Into<String>) -> Self {
        let raw = source.into();
        let parts = Parts::split(&raw);
        let mut secrets = Vec::new();
        let mut redacted = String::with_capacity(raw.len());
        redacted.push_str(parts.scheme);
        if let Some(userinfo) = parts.userinfo {
            match userinfo.split_once(':') {
                Some((user, password)) => {
                    redacted.push_str(user);
                    redacted.push(':');
                    redacted.push_str(MASK);
                    push_secret(&mut secrets, password);
                }
                None => redacted.push_str(userinfo),
            }
            redacted.push('@');
        }
        redacted.push_str(parts.rest_before_query);
        if let Some(query) = parts.query {
            redacted.push('?');
            redacted.push_str(&redact_query(query, &mut secrets));
        }
        if let Some(fragment) = parts.fragment {
            redacted.push('#');
            redacted.push_str(fragment);
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

    /// The user name and password of the URL's user-info part, percent-decoded.
    pub fn credentials(&self) -> Option<Credentials> {
        let userinfo = Parts::split(&self.raw).userinfo?;
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
        let mut out = String::with_capacity(self.raw.len());
        out.push_str(parts.scheme);
        out.push_str(&self.raw[parts.after_userinfo..]);
        out
    }

    /// The URL with `credentials` (percent-encoded) in place of any user-info it had.
    /// Sources without a scheme are returned unchanged.
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
            &self.raw[parts.after_userinfo..]
        )
    }

    /// Adds a secret that [`redact`](SourceUrl::redact) must also remove (a password given
    /// apart from the URL).
    pub(crate) fn add_secret(&mut self, secret: &str) {
        push_secret(&mut self.secrets, secret);
    }

    /// Removes this source's secrets from any text: a message of a decoder, which often
    /// echoes the URL it was given. Also redacts any other URL user-info in the text.
    pub fn redact(&self, text: &str) -> String {
        let mut out = redact_text(text);
        for secret in &self.secrets {
            if out.contains(secret.as_str()) {
                out = out.replace(secret.as_str(), MASK);
            }
        }
        out
    }
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

/// Redacts every `scheme://user:password@` user-info and every secret-looking query value
/// (`password=`, `token=` …) found anywhere in `text`. Used on decoder log lines, which echo
/// URLs.
pub fn redact_text(text: &str) -> String {
    if !text.contains("://") && !text.contains('=') {
        return text.to_owned();
    }
    let mut out = String::with_capacity(text.len());
    let mut rest = text;
    while let Some(pos) = rest.find("://") {
        let (head, tail) = rest.split_at(pos + 3);
        out.push_str(head);
        // The URL runs to the next white space or quote.
        let end = tail
            .find(|c: char| c.is_whitespace() || c == '"' || c == '\'' || c == '>')
            .unwrap_or(tail.len());
        let url = &tail[..end];
        let redacted = SourceUrl::new(format!("x://{url}"));
        out.push_str(&redacted.redacted()[4..]);
        rest = &tail[end..];
    }
    out.push_str(rest);
    if out.contains('=') {
        out = redact_loose_params(&out);
    }
    out
}

/// `key=value` pairs outside URLs (e.g. `password=abc` in a log line).
fn redact_loose_params(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut rest = text;
    while let Some(eq) = rest.find('=') {
        let name_start = rest[..eq]
            .rfind(|c: char| !(c.is_ascii_alphanumeric() || c == '_' || c == '-'))
            .map_or(0, |i| i + 1);
        let name = &rest[name_start..eq];
        out.push_str(&rest[..=eq]);
        let after = &rest[eq + 1..];
        let value_end = after
            .find(|c: char| c.is_whitespace() || c == '&' || c == ',' || c == ';' || c == '"')
            .unwrap_or(after.len());
        if is_secret_param(name) && value_end > 0 && &after[..value_end] != MASK {
            out.push_str(MASK);
        } else {
            out.push_str(&after[..value_end]);
        }
        rest = &after[value_end..];
    }
    out.push_str(rest);
    out
}

fn is_secret_param(name: &str) -> bool {
    const MARKERS: [&str; 9] = [
        "pass", "pwd", "token", "auth", "key", "secret", "sig", "cred", "session",
    ];
    let lower = name.to_ascii_lowercase();
    MARKERS.iter().any(|m| lower.contains(m))
}

fn redact_query(query: &str, secrets: &mut Vec<String>) -> String {
    query
        .split('&')
        .map(|pair| match pair.split_once('=') {
            Some((name, value)) if is_secret_param(name) => {
                push_secret(secrets, value);
                format!("{name}={MASK}")
            }
            _ => pair.to_owned(),
        })
        .collect::<Vec<_>>()
        .join("&")
}

fn push_secret(secrets: &mut Vec<String>, secret: &str) {
    // Very short secrets would mask unrelated text; they are still removed from URLs by
    // structure, just not by text search.
    if secret.len() < 3 {
        return;
    }
    for form in [
        secret.to_owned(),
        percent_decode(secret),
        percent_encode(secret),
    ] {
        if !secrets.contains(&form) {
            secrets.push(form);
        }
    }
    secrets.sort_by_key(|s| std::cmp::Reverse(s.len()));
}

struct Parts<'a> {
    /// `"rtsp://"`, or empty for paths and devices.
    scheme: &'a str,
    userinfo: Option<&'a str>,
    /// Index in the raw string where host onwards begins.
    after_userinfo: usize,
    /// Host, port and path.
    rest_before_query: &'a str,
    query: Option<&'a str>,
    fragment: Option<&'a str>,
}

impl<'a> Parts<'a> {
    fn split(raw: &'a str) -> Parts<'a> {
        let scheme_len = raw
            .find("://")
            .filter(|&i| {
                i > 0
                    && raw[..i]
                        .chars()
                        .all(|c| c.is_ascii_alphanumeric() || "+-.".contains(c))
            })
            .map_or(0, |i| i + 3);
        let scheme = &raw[..scheme_len];
        let after_scheme = &raw[scheme_len..];
        let (before_fragment, fragment) = match after_scheme.split_once('#') {
            Some((a, f)) => (a, Some(f)),
            None => (after_scheme, None),
        };
        let (before_query, query) = match before_fragment.split_once('?') {
            Some((a, q)) => (a, Some(q)),
            None => (before_fragment, None),
        };
        // The user-info ends at the *last* '@' before the query: a password may hold an
        // unescaped '@', '/' or ':'. A path holding '@' is then over-redacted, which is the
        // safe mistake.
        let (userinfo, after_userinfo) =
            match (scheme_len > 0).then(|| before_query.rfind('@')).flatten() {
                Some(at) => (Some(&before_query[..at]), scheme_len + at + 1),
                None => (None, scheme_len),
            };
        let rest_before_query = &raw[after_userinfo..scheme_len + before_query.len()];
        Parts {
            scheme,
            userinfo,
            after_userinfo,
            rest_before_query,
            query,
            fragment,
        }
    }
}

fn percent_decode(s: &str) -> String {
    fn hex(b: u8) -> Option<u8> {
        (b as char).to_digit(16).map(|d| d as u8)
    }
    let bytes = s.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'%'
            && i + 2 < bytes.len()
            && let (Some(hi), Some(lo)) = (hex(bytes[i + 1]), hex(bytes[i + 2]))
        {
            out.push(hi << 4 | lo);
            i += 3;
            continue;
        }
        out.push(bytes[i]);
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}

fn percent_encode(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for b in s.bytes() {
        if b.is_ascii_alphanumeric() || b"-._~".contains(&b) {
            out.push(b as char);
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
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
