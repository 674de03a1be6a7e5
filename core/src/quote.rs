//! Text from a camera or a decoder made safe to quote inside one line of ours.

use std::borrow::Cow;

/// The longest camera- or decoder-supplied text kept in one of our errors, events or log
/// lines, in characters; the rest is cut and counted.
pub const QUOTE_LIMIT: usize = 400;

/// `text` made safe to print inside one line of ours: control characters (line breaks, tabs,
/// escape sequences) written as escapes (`\n`, `\r`, `\t`, `\u{1b}`), and cut after
/// [`QUOTE_LIMIT`] characters with a note of how much was left out. A camera cannot start a
/// line of its choosing in a log, or fill one with megabytes.
pub fn one_line(text: &str) -> Cow<'_, str> {
    one_line_within(text, QUOTE_LIMIT)
}

pub(crate) fn one_line_within(text: &str, limit: usize) -> Cow<'_, str> {
    let fits = text.chars().nth(limit).is_none();
    if fits && !text.chars().any(needs_escape) {
        return Cow::Borrowed(text);
    }
    let mut out = String::with_capacity(text.len().min(limit * 2) + 32);
    let mut consumed = 0;
    for (count, (i, c)) in text.char_indices().enumerate() {
        if count == limit {
            break;
        }
        match c {
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            c if needs_escape(c) => out.push_str(&format!("\\u{{{:x}}}", c as u32)),
            c => out.push(c),
        }
        consumed = i + c.len_utf8();
    }
    if consumed < text.len() {
        out.push_str(&format!("… ({} more bytes)", text.len() - consumed));
    }
    Cow::Owned(out)
}

fn needs_escape(c: char) -> bool {
    c.is_control() || matches!(c, '\u{2028}' | '\u{2029}' | '\u{85}')
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn camera_text_is_kept_on_one_line_and_bounded() {
        assert_eq!(one_line("plain"), "plain");
        assert_eq!(
            one_line("404 Not\r\n[ERROR rtsp_stream] forged\x1b[0m"),
            "404 Not\\r\\n[ERROR rtsp_stream] forged\\u{1b}[0m"
        );
        let long = "未".repeat(1000);
        let cut = one_line(&long);
        assert_eq!(cut.chars().filter(|&c| c == '未').count(), QUOTE_LIMIT);
        assert!(cut.ends_with(&format!("({} more bytes)", 3 * (1000 - QUOTE_LIMIT))));
    }
}
