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

/// Masks the secret values of `name=value` pairs separated by `separator` (`&` for a query or
/// fragment), collecting the values in `secrets`.
pub(super) fn redact_pairs(text: &str, separator: char, secrets: &mut Vec<String>) -> String {
    text.split(separator)
        .map(|pair| match pair.split_once('=') {
            Some((name, value)) if is_secret_param(name) && !value.is_empty() => {
                secrets.push(value.to_owned());
                format!("{name}={MASK}")
            }
            _ => pair.to_owned(),
        })
        .collect::<Vec<_>>()
        .join(&separator.to_string())
}

/// Masks `;name=value` path parameters (`/stream;token=abc/x`).
pub(super) fn redact_path(path: &str, secrets: &mut Vec<String>) -> String {
    path.split('/')
        .map(|segment| {
            let mut parts = segment.split(';');
            let head = parts.next().unwrap_or("").to_owned();
            parts.fold(head, |mut out, param| {
                out.push(';');
                out.push_str(&redact_pairs(param, '&', secrets));
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
        let name_start = rest[..eq]
            .rfind(|c: char| !(c.is_ascii_alphanumeric() || c == '_' || c == '-' || c == '%'))
            .map_or(0, |i| i + 1);
        let name = &rest[name_start..eq];
        out.push_str(&rest[..=eq]);
        let after = &rest[eq + 1..];
        let value_end = after
            .find(|c: char| {
                c.is_whitespace() || c == '&' || c == ',' || c == ';' || c == '"' || c == '\''
            })
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
