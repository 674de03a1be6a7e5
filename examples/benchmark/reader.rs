//! The small reader (`examples/reader.rs`, retina alone, no system decoder library), built
//! twice — openh264 with its assembly and without (`OPENH264_NO_ASM`) — and run as a process of
//! its own: its RSS and CPU per frame, beside the other readers.

use crate::report::Row;
use std::path::PathBuf;
use std::process::Command;
use std::time::Duration;

/// Builds the two readers (release); `(reader name, binary)` for each that built.
pub fn build() -> Vec<(String, PathBuf)> {
    let mut built = Vec::new();
    for (name, dir, no_asm) in [
        (
            "reader, retina alone (openh264)",
            "target/reader-asm",
            false,
        ),
        (
            "reader, retina alone (openh264 without assembly)",
            "target/reader-noasm",
            true,
        ),
    ] {
        eprintln!("building {name}");
        // The `cargo` on PATH (rustup's proxy), not the one this harness was built by: the proxy
        // pins its toolchain for the rustc calls below, which a crate's own toolchain file
        // would otherwise change.
        let mut cargo = Command::new("cargo");
        cargo.args([
            "build",
            "--release",
            "-q",
            "--example",
            "reader",
            "--no-default-features",
            "--features",
            "retina",
            "--target-dir",
            dir,
        ]);
        if no_asm {
            cargo.env("OPENH264_NO_ASM", "1");
        } else {
            cargo.env_remove("OPENH264_NO_ASM");
        }
        match cargo.status() {
            Ok(s) if s.success() => built.push((
                name.to_owned(),
                PathBuf::from(dir).join("release/examples/reader"),
            )),
            other => eprintln!("{name} did not build: {other:?}"),
        }
    }
    built
}

/// Runs `binary` on `url` for `window` and reads its figures line.
pub fn run(name: &str, binary: &PathBuf, url: &str, size: (u32, u32), window: Duration) -> Row {
    let mut row = Row::empty(name, size);
    let output = Command::new(binary)
        .args([url, &window.as_secs_f64().to_string()])
        .output();
    let Ok(output) = output else {
        return row;
    };
    let text = String::from_utf8_lossy(&output.stdout);
    let Some(line) = text.lines().find(|l| l.starts_with("reader:")) else {
        eprintln!(
            "  {name}: no figures: {}",
            String::from_utf8_lossy(&output.stderr)
        );
        return row;
    };
    let value = |key: &str| {
        line.split_whitespace()
            .find_map(|kv| kv.strip_prefix(key)?.strip_prefix('='))
            .and_then(|v| v.parse::<f64>().ok())
    };
    row.frames = value("frames").unwrap_or(0.0) as u64;
    row.fps = value("fps").unwrap_or(0.0);
    row.cpu_ms_per_frame = value("cpu_ms_per_frame").unwrap_or(0.0);
    row.rss_mib = value("rss_mib").unwrap_or(0.0);
    row.first_frame_s = value("first_frame_s");
    eprintln!("  {name}: {row:?}");
    row
}

/// `--readers`: the two readers, the FFmpeg backend and the bare FFmpeg at 640×480, rounds
/// interleaved, medians: the small reader's figures beside the ones it is compared with.
pub fn measure_alone(rounds: usize, window: Duration) -> Vec<Row> {
    use rtsp_stream_testkit::{ServerOptions, TestServerProcess};
    let readers = build();
    let size = (640, 480);
    let options = ServerOptions {
        width: size.0,
        height: size.1,
        fps: 30,
        key_interval: 30,
        ..ServerOptions::default()
    };
    let server = TestServerProcess::spawn(&options, &[]).expect("the test server starts");
    let url = server.url();
    let mut runs = Vec::new();
    for round in 0..rounds {
        eprintln!(" round {}", round + 1);
        let mut this = vec![
            crate::measure::in_child("ffmpeg", &url, size, window),
            crate::measure::in_child("retina", &url, size, window),
            crate::bare::ffmpeg(&url, size, window),
        ];
        for (name, binary) in &readers {
            this.push(run(name, binary, &url, size, window));
        }
        runs.push(this);
    }
    crate::report::medians(&runs)
}
