//! `--convert-on-read`: whether converting a frame when its pixels are first touched, not
//! when it is decoded, would pay. Measured on the same decoded pictures, in one run, one
//! core: the decode (the floor without conversion: FFmpeg on one thread, no network), the
//! conversion every backend's YUV picture goes through today (the core's, into a reused
//! frame), and the copy of the decoded planes into a pooled buffer that converting later
//! needs (decoder buffers are reused). Per decoded frame:
//!
//! - eager (today): decode + convert;
//! - on read, 1 frame in 15 read: decode + copy + convert / 15;
//! - on read, every frame read and touched: decode + copy + convert.
//!
//! It lands only if it saves ≥ 25 % in the first case and costs ≤ 5 % in the second.

use crate::content;
use rtsp_stream::raw::{Plane, YuvLayout, YuvPicture, YuvRange};
use rtsp_stream::{Frame, PixelFormat};
use rtsp_stream_testkit::content::{Clip, ContentSpec};
use std::process::{Command, Stdio};
use std::time::Instant;

/// Pictures decoded per content (1080p I420 is 3.1 MB each).
const PICTURES: usize = 60;
/// Passes over them; the median pass is kept.
const ROUNDS: usize = 7;

struct Row {
    name: String,
    decode_ms: f64,
    convert_ms: f64,
    copy_ms: f64,
}

pub fn run() -> String {
    let contents: Vec<(&str, ContentSpec)> = content::contents()
        .into_iter()
        .filter(|(_, spec)| spec.camera_like)
        .collect();
    let mut rows = Vec::new();
    for (name, spec) in contents {
        let clip = Clip::get(&spec).expect("the clip");
        let pictures = decode(&clip, spec.width, spec.height);
        let (convert_ms, copy_ms) = convert_and_copy(&pictures, spec.width, spec.height);
        let row = Row {
            name: format!("{name} at {} kbit/s", spec.kbps),
            decode_ms: content::floor(&clip, false),
            convert_ms,
            copy_ms,
        };
        eprintln!(
            "  {}: decode {:.3} ms, convert {:.3} ms, copy {:.3} ms",
            row.name, row.decode_ms, row.convert_ms, row.copy_ms
        );
        rows.push(row);
    }
    render(&rows)
}

/// The clip's first pictures as I420, decoded by FFmpeg.
fn decode(clip: &Clip, width: u32, height: u32) -> Vec<Vec<u8>> {
    let output = Command::new("ffmpeg")
        .args(["-nostdin", "-hide_banner", "-loglevel", "error", "-i"])
        .arg(&clip.file)
        .args(["-frames:v", &PICTURES.to_string()])
        .args(["-f", "rawvideo", "-pix_fmt", "yuv420p", "pipe:1"])
        .stdin(Stdio::null())
        .stderr(Stdio::inherit())
        .output()
        .expect("ffmpeg runs");
    let size = (width * height * 3 / 2) as usize;
    output
        .stdout
        .chunks_exact(size)
        .map(<[u8]>::to_vec)
        .collect()
}

/// Milliseconds per picture: the conversion to BGR into a reused frame, and the copy of the
/// planes into a reused buffer; the median of the passes.
fn convert_and_copy(pictures: &[Vec<u8>], width: u32, height: u32) -> (f64, f64) {
    let (w, h) = (width as usize, height as usize);
    let mut frame: Option<Frame> = None;
    let mut pooled = vec![0u8; w * h * 3 / 2];
    let mut converts = Vec::new();
    let mut copies = Vec::new();
    for _ in 0..ROUNDS {
        let started = Instant::now();
        for data in pictures {
            let converted = i420(data, width, height).to_frame(PixelFormat::Bgr8, frame.take());
            frame = Some(converted.expect("a picture converts"));
        }
        converts.push(started.elapsed().as_secs_f64() * 1e3 / pictures.len() as f64);
        let started = Instant::now();
        for data in pictures {
            // Plane by plane, as a decoder's strided planes would be copied.
            let (y, rest) = data.split_at(w * h);
            let (u, v) = rest.split_at(w * h / 4);
            let (py, prest) = pooled.split_at_mut(w * h);
            let (pu, pv) = prest.split_at_mut(w * h / 4);
            py.copy_from_slice(y);
            pu.copy_from_slice(u);
            pv.copy_from_slice(v);
            std::hint::black_box(&pooled);
        }
        copies.push(started.elapsed().as_secs_f64() * 1e3 / pictures.len() as f64);
    }
    (median(&mut converts), median(&mut copies))
}

/// An I420 picture of `width` × `height` over `data`.
fn i420(data: &[u8], width: u32, height: u32) -> YuvPicture<'_> {
    let (w, h) = (width as usize, height as usize);
    let (y, rest) = data.split_at(w * h);
    let (u, v) = rest.split_at(w * h / 4);
    YuvPicture {
        width,
        height,
        layout: YuvLayout::I420 {
            y: Plane::new(y, w),
            u: Plane::new(u, w / 2),
            v: Plane::new(v, w / 2),
        },
        range: YuvRange::Limited,
        matrix: None,
    }
}

fn median(v: &mut [f64]) -> f64 {
    v.sort_by(f64::total_cmp);
    v[v.len() / 2]
}

fn render(rows: &[Row]) -> String {
    let mut out = format!(
        "Convert on read (`--convert-on-read`), per decoded frame, one core, medians of {ROUNDS} \
         passes over {PICTURES} pictures: *decode* is the floor without conversion (FFmpeg, one \
         thread), *convert* the core's conversion to BGR into a reused frame (what every YUV \
         backend does today), *copy* the decoded planes into a pooled buffer (what converting \
         later needs). Goal to land it: ≥ 25 % saved with 1 frame in 15 read, ≤ 5 % added \
         with every frame read.\n\n\
         | content | decode | convert | copy | eager (today) | on read, 1 in 15 read | saved | on read, all read | added |\n\
         |---|---|---|---|---|---|---|---|---|\n"
    );
    for r in rows {
        let eager = r.decode_ms + r.convert_ms;
        let sparse = r.decode_ms + r.copy_ms + r.convert_ms / 15.0;
        let full = r.decode_ms + r.copy_ms + r.convert_ms;
        out.push_str(&format!(
            "| {} | {:.3} ms | {:.3} ms | {:.3} ms | {:.3} ms | {:.3} ms | {:.0} % | {:.3} ms | {:.1} % |\n",
            r.name,
            r.decode_ms,
            r.convert_ms,
            r.copy_ms,
            eager,
            sparse,
            (1.0 - sparse / eager) * 100.0,
            full,
            (full / eager - 1.0) * 100.0,
        ));
    }
    out
}
