//! A backend is known to the rest of the library through its declaration
//! (`CaptureBackend::describe`) and one line of the facade's table, nothing else: its name,
//! crate and types appear in the library's code only in its own crate, in that table, and in
//! `cfg(feature = …)` attributes. Documentation, comments and prose in messages may name it;
//! tests (unit tests included), examples and the benchmark exercise particular backends and
//! are not searched.

use rtsp_stream::AnyConfig;
use std::path::{Path, PathBuf};

/// Library code: every crate's `src`.
const SEARCHED: &[&str] = &["src", "core/src", "testkit/src", "python/src", "backends"];

/// Occurrences that are not the backend: (file, the line's text, why).
const NOT_THE_BACKEND: &[(&str, &str, &str)] = &[(
    "testkit/src/clip.rs",
    "const FFMPEG_PROGRAM",
    "the ffmpeg program that encodes test clips",
)];

#[test]
fn backend_names_appear_only_where_allowed() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let mut files = Vec::new();
    for dir in SEARCHED {
        rust_files(&root.join(dir), &mut files);
    }
    assert!(files.len() > 50, "only {} files found", files.len());
    let mut found = Vec::new();
    for name in AnyConfig::PRIORITY {
        let camel = format!("{}{}", name[..1].to_uppercase(), &name[1..]);
        let needles = [
            format!("rtsp_stream_{name}"),
            format!("{camel}Backend"),
            format!("{camel}Config"),
            format!("\"{name}\""),
        ];
        let own = root.join("backends").join(name);
        for file in &files {
            if file.starts_with(&own) {
                continue;
            }
            let relative = file
                .strip_prefix(root)
                .unwrap()
                .to_string_lossy()
                .into_owned();
            let text = std::fs::read_to_string(file).unwrap();
            let table = table_lines(&relative, &text);
            for (n, line) in text.lines().enumerate() {
                let code = line.trim_start();
                // Unit tests below it exercise particular backends, as tests do.
                if code == "#[cfg(test)]" {
                    break;
                }
                if code.starts_with("//") || table.contains(&n) || code.contains("feature = ") {
                    continue;
                }
                if NOT_THE_BACKEND
                    .iter()
                    .any(|(f, l, _)| *f == relative && code.contains(l))
                {
                    continue;
                }
                if let Some(needle) = needles.iter().find(|needle| holds_word(code, needle)) {
                    found.push(format!("{relative}:{}: {needle}: {code}", n + 1));
                }
            }
        }
    }
    assert!(
        found.is_empty(),
        "backends named outside their crate and the facade's table:\n{}",
        found.join("\n")
    );
}

/// Whether `code` holds `needle` not followed by more of an identifier (`rtsp_stream_ffmpeg`
/// is the backend, `rtsp_stream_ffmpeg_log` is not).
fn holds_word(code: &str, needle: &str) -> bool {
    code.match_indices(needle).any(|(at, _)| {
        !code[at + needle.len()..]
            .chars()
            .next()
            .is_some_and(|c| c.is_alphanumeric() || c == '_')
    })
}

/// The lines of the facade's table (`backends! { … }` in `src/any.rs`).
fn table_lines(relative: &str, text: &str) -> Vec<usize> {
    if relative != "src/any.rs" {
        return Vec::new();
    }
    let lines: Vec<&str> = text.lines().collect();
    let start = lines
        .iter()
        .position(|l| l.starts_with("backends! {"))
        .expect("the table in src/any.rs");
    let end = start
        + lines[start..]
            .iter()
            .position(|l| *l == "}")
            .expect("the table's end");
    (start..=end).collect()
}

fn rust_files(dir: &Path, out: &mut Vec<PathBuf>) {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return;
    };
    for entry in entries.flatten() {
        let path = entry.path();
        if path.is_dir() {
            // A backend crate's tests exercise it and others; only `src` is library code.
            if path
                .file_name()
                .is_some_and(|n| n == "tests" || n == "target")
            {
                continue;
            }
            rust_files(&path, out);
        } else if path.extension().is_some_and(|e| e == "rs") {
            out.push(path);
        }
    }
}
