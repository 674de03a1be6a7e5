//! Secret-looking `name=value` parameters: in a URL's query, fragment and path parameters, and
//! loose in a log line. One table decides which names are secret.

use super::MASK;
use super::percent::percent_decode;

/// Parameter names whose values are secret: a name matches when its lower-case,
/// percent-decoded form contains one of these. `pas` covers `pass`, `passwd`, `password` and
/// Foscam's `loginpas`; `sig` covers `signature`; `token` covers `access_token`.
pub(super) const SECRET_PARAMS: &[&str] = &[
    "pas", "pwd", "token", "auth", "key", "secret", "sig", "cred", "session", "jwt",
];

pub(super) fn is_secret_param(name: &str) -> bool {
    let lower = percent_decode(name).to_ascii_lowercase();
    SECRET_PARAMS.iter().any(|m| lower.contains(m))
}

/// Masks the secret values of `name=value` pairs separated by any of `separators` (`&` and
/// `;` in a query or fragment), collecting the values in `secrets`.
pub(super) fn redact_pairs(text: &str, separators: &[char], secrets: &mut Vec<String>) -> String {
    let mut out = String::with_capacity(text.len());
    let mut rest = text;
    loop {
        let end = rest.find(separators).unwrap_or(rest.len());
        let pair = &rest[..end];
        match pair.split_once('=') {
            // Masked already (a second pass over printed text): kept as it is.
            Some((_, value)) if value.starts_with(MASK) => out.push_str(pair),
            Some((name, value)) if is_secret_param(name) && !value.is_empty() => {
                secrets.push(value.to_owned());
                out.push_str(name);
                out.push('=');
                out.push_str(MASK);
            }
            _ => out.push_str(pair),
        }
        let Some(separator) = rest[end..].chars().next() else {
            return out;
        };
        out.push(separator);
        rest = &rest[end + separator.len_utf8()..];
    }
}

/// Masks `;name=value` path parameters (`/stream;token=abc/x`).
pub(super) fn redact_path(path: &str, secrets: &mut Vec<String>) -> String {
    path.split('/')
        .map(|segment| {
            let mut parts = segment.split(';');
            let head = parts.next().unwrap_or("").to_owned();
            parts.fold(head, |mut out, param| {
                out.push(';');
                out.push_str(&redact_pairs(param, &['&'], secrets));
                out
            })
        })
        .collect::<Vec<_>>()
        .join("/")
}

/// `key=value` pairs anywhere in a line of text (e.g. `password=abc` in a decoder's log).
pub(super) fn redact_loose(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut rest = text;
    while let Some(eq) = rest.find('=') {
        // After the last character that cannot be part of a name, which may be several
        // bytes long.
        let name_start = rest[..eq]
            .char_indices()
            .rev()
            .find(|&(_, c)| !(c.is_ascii_alphanumeric() || c == '_' || c == '-' || c == '%'))
            .map_or(0, |(i, c)| i + c.len_utf8());
        let name = &rest[name_start..eq];
        out.push_str(&rest[..=eq]);
        let after = &rest[eq + 1..];
        // A value ends where a word of the text ends too (white space, quotes, angle
        // brackets), so that masking it never changes how the text splits into words.
        let value_end = after
            .find(|c: char| c.is_whitespace() || "&,;\"'<>".contains(c))
            .unwrap_or(after.len());
        // A value masked already (by the URL pass, up to a URL's delimiter) is left as it
        // is, with what follows it.
        let masked = after
            .strip_prefix(MASK)
            .is_some_and(|rest| rest.is_empty() || rest.starts_with(['#', '/', '?', '&', ';']));
        if is_secret_param(name) && value_end > 0 && !masked {
            out.push_str(MASK);
        } else {
            out.push_str(&after[..value_end]);
        }
        rest = &after[value_end..];
    }
    out.push_str(rest);
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_table_covers_the_names_cameras_use() {
        for name in [
            "password",
            "pass",
            "pwd",
            "passwd",
            "loginpas",
            "token",
            "access_token",
            "auth",
            "sig",
            "signature",
            "jwt",
            "api_key",
            "Secret",
            "%70assword",
            "p%61ss",
        ] {
            assert!(is_secret_param(name), "{name}");
        }
        for name in ["user", "channel", "fps", "subtype", "resolution"] {
            assert!(!is_secret_param(name), "{name}");
        }
    }
}
