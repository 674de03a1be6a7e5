//! Short video files for tests of file sources, made with the `ffmpeg` command-line tool.

use crate::TestkitError;
use std::path::{Path, PathBuf};
use std::process::Command;

/// The encoder program (not the backend of the same name).
pub(crate) const FFMPEG_PROGRAM: &str = "ffmpeg";

/// Writes a 1 s, 25 fps, 160×120 H.264 clip (a key frame every 5 frames) to `dir/name`, with
/// `extra` ffmpeg output options (e.g. `["-f", "mpegts"]`), and returns its path. Needs the
/// `ffmpeg` tool (Debian/Ubuntu package `ffmpeg`).
pub fn h264_clip(dir: &Path, name: &str, extra: &[&str]) -> Result<PathBuf, TestkitError> {
    let path = dir.join(name);
    let status = Command::new(FFMPEG_PROGRAM)
        .args(["-y", "-nostdin", "-loglevel", "error", "-f", "lavfi", "-i"])
        .arg("testsrc2=size=160x120:rate=25:duration=1")
        .args(["-c:v", "libx264", "-pix_fmt", "yuv420p", "-g", "5"])
        .args(extra)
        .arg(&path)
        .status()
        .map_err(|e| TestkitError(format!("the ffmpeg tool does not run: {e}")))?;
    if !status.success() {
        return Err(TestkitError(format!(
            "ffmpeg failed to write {name}: {status}"
        )));
    }
    Ok(path)
}
