//! Secrets in free text (a decoder's log line, an error message, a panic message), and camera
//! text made safe to print on one line.

use super::params::redact_loose;
use super::{MASK, SourceUrl};
use std::borrow::Cow;

/// Redacts every URL user-info (with or without a scheme), every secret-looking parameter
/// value (`password=`, `token=` …) and the value of every credential-bearing header
/// (`Authorization:`, `Proxy-Authorization:`, `Cookie:`, `Set-Cookie:`) found anywhere in
/// `text`. Used on decoder log lines, which echo URLs and, at their most verbose, whole HTTP
/// requests. Any text is accepted, multi-byte characters anywhere included; a second pass
/// changes nothing.
pub fn redact_text(text: &str) -> String {
    // One pass can make text that the next reads differently (a parameter's value masked
    // leaves `user:…@host` plausible where a `/` made it implausible): pass again until
    // nothing changes, which takes two passes where the first changed anything, and rarely
    // three.
    let mut out = redact_once(text);
    for _ in 0..4 {
        if out == text {
            break;
        }
        let again = redact_once(&out);
        if again == out {
            break;
        }
        out = again;
    }
    out
}

fn redact_once(text: &str) -> String {
    let text = mask_credential_headers(text);
    if !text.contains("://") && !text.contains('=') && !text.contains('@') {
        return text.into_owned();
    }
    let mut out = String::with_capacity(text.len());
    let mut rest: &str = &text;
    // Each word (up to white space or a quote) that is a URL, or `user:password@host`.
    while !rest.is_empty() {
        let start = rest.find(|c: char| !is_word_end(c)).unwrap_or(rest.len());
        out.push_str(&rest[..start]);
        rest = &rest[start..];
        let end = rest.find(is_word_end).unwrap_or(rest.len());
        let word = &rest[..end];
        if word.contains("://") || word.contains('@') {
            let scheme_at = word.find("://").map_or(0, |i| {
                // "'rtsp://…" inside a longer word: the URL starts at its scheme's first letter,
                // just after the last character that cannot be part of a scheme (which may be
                // several bytes long).
                word[..i]
                    .char_indices()
                    .rev()
                    .find(|&(_, c)| !(c.is_ascii_alphanumeric() || "+-.".contains(c)))
                    .map_or(0, |(j, c)| j + c.len_utf8())
            });
            out.push_str(&word[..scheme_at]);
            out.push_str(SourceUrl::new(&word[scheme_at..]).redacted());
        } else {
            out.push_str(word);
        }
        rest = &rest[end..];
    }
    if out.contains('=') {
        out = redact_loose(&out);
    }
    out
}

fn is_word_end(c: char) -> bool {
    c.is_whitespace() || "\"'<>".contains(c)
}

/// Header names whose values are credentials; a name matches when the text holds it followed
/// by `:` (so `Proxy-Authorization` and `Set-Cookie` are covered by their tails).
const CREDENTIAL_HEADERS: &[&str] = &["authorization", "cookie"];

/// Authentication schemes kept in front of a masked `Authorization` value: they say how the
/// client authenticated without saying anything secret.
const AUTH_SCHEMES: &[&str] = &["basic", "digest", "bearer", "negotiate", "ntlm"];

/// Masks the value of every credential-bearing header, up to the end of its line.
fn mask_credential_headers(text: &str) -> Cow<'_, str> {
    let lower = text.to_ascii_lowercase();
    if !CREDENTIAL_HEADERS.iter().any(|h| lower.contains(h)) {
        return Cow::Borrowed(text);
    }
    let mut out = String::with_capacity(text.len());
    let mut copied = 0;
    let mut from = 0;
    while let Some((at, name_len)) = next_header(&lower, from) {
        // The value runs from after the colon to the end of the line.
        let value_start = at + name_len + 1;
        let value_end = text[value_start..]
            .find(['\r', '\n'])
            .map_or(text.len(), |i| value_start + i);
        let value = &text[value_start..value_end];
        let leading = value.len() - value.trim_start().len();
        let mut kept = &value[..leading];
        let rest = value.trim_start();
        let scheme_len = rest.find(char::is_whitespace).unwrap_or(rest.len());
        if AUTH_SCHEMES.contains(&rest[..scheme_len].to_ascii_lowercase().as_str())
            && scheme_len < rest.len()
        {
            kept = &value[..leading + scheme_len + 1];
        }
        out.push_str(&text[copied..value_start]);
        out.push_str(kept);
        if value.len() > kept.len() {
            out.push_str(MASK);
        }
        copied = value_end;
        from = value_end.max(at + 1);
    }
    out.push_str(&text[copied..]);
    Cow::Owned(out)
}

/// The next credential header at or after `from` in the lower-cased text: its start and the
/// length of its name (the colon follows).
fn next_header(lower: &str, from: usize) -> Option<(usize, usize)> {
    CREDENTIAL_HEADERS
        .iter()
        .filter_map(|name| {
            let mut search = from;
            while let Some(i) = lower[search..].find(name) {
                let at = search + i;
                if lower[at + name.len()..].starts_with(':') {
                    return Some((at, name.len()));
                }
                search = at + name.len();
            }
            None
        })
        .min()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn multi_byte_characters_before_a_scheme_or_an_equals_sign() {
        // The cut used to land inside the character before "://" or "=": a panic that
        // printed the text it was scrubbing.
        for text in [
            "404 未找到://u:pw1234@h/x",
            "ü://u:pw1234@h/x",
            "method DESCRIBE failed: 404 未找到 password=pw1234",
            "é password=pw1234 ß=1",
        ] {
            let clean = redact_text(text);
            assert!(!clean.contains("pw1234"), "{clean}");
            assert_eq!(redact_text(&clean), clean);
        }
        // Nothing says this value is secret; it only must not panic.
        assert_eq!(redact_text("未=pw1234"), "未=pw1234");
    }

    #[test]
    fn credential_headers_are_masked_to_the_end_of_their_line() {
        let dump = "GET /x HTTP/1.1\r\nAuthorization: Basic YWRtaW46aHVudGVyMg==\r\n\
                    Proxy-Authorization: Digest username=\"admin\", response=\"6629fae4\"\r\n\
                    Cookie: session=abc123; other=1\r\nHost: cam\r\n";
        let clean = redact_text(dump);
        for secret in ["YWRtaW46aHVudGVyMg", "6629fae4", "abc123", "admin\""] {
            assert!(!clean.contains(secret), "{clean}");
        }
        assert!(clean.contains("Authorization: Basic ***\r\n"), "{clean}");
        assert!(clean.contains("Host: cam"), "{clean}");
        assert_eq!(redact_text(&clean), clean);
    }
}
