//! The picture the test server sends: three colour bars on top, a time stamp at the bottom.
//!
//! The stamp is the wall-clock time of generation in microseconds modulo 2^40 (12.7 days),
//! drawn as 40 black/white blocks in two rows of 20 across the bottom 32 lines. Blocks are at
//! least 16 pixels wide, one H.264 macroblock, so they survive compression.

use rtsp_stream_core::{Frame, PixelFormat};
use std::time::{SystemTime, UNIX_EPOCH};

/// The colour bars, left to right, as (R, G, B): moderately saturated so that the YUV round
/// trip stays within a few levels.
pub const PATTERN_COLOURS: [[u8; 3]; 3] = [[200, 50, 50], [50, 180, 50], [50, 50, 200]];

const BITS: u32 = 40;
const COLUMNS: u32 = 20;
const ROW_HEIGHT: u32 = 16;

/// The current wall-clock time in the stamp's unit (µs modulo 2^40).
pub fn stamp_micros_now() -> u64 {
    let micros = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_micros() as u64);
    micros & ((1 << BITS) - 1)
}

/// Limited-range YUV of `rgb` with the luma weights `kr`, `kb` of the stream's matrix.
fn yuv(rgb: [u8; 3], (kr, kb): (f64, f64)) -> (u8, u8, u8) {
    let [r, g, b] = rgb.map(|c| f64::from(c) / 255.0);
    let y = kr * r + (1.0 - kr - kb) * g + kb * b;
    let u = (b - y) / (2.0 * (1.0 - kb));
    let v = (r - y) / (2.0 * (1.0 - kr));
    let scale = |v: f64, range: f64, offset: f64| (v * range + offset).round() as u8;
    (
        scale(y, 219.0, 16.0),
        scale(u, 224.0, 128.0),
        scale(v, 224.0, 128.0),
    )
}

/// Writes one I420 picture of `width` × `height` (both even) with the given stamp, its bars
/// encoded with the matrix the stream declares (BT.601 or BT.709, limited range).
pub(crate) fn draw_i420(buf: &mut [u8], width: u32, height: u32, stamp: u64, bt709: bool) {
    let weights = if bt709 {
        (0.2126, 0.0722)
    } else {
        (0.299, 0.114)
    };
    let (w, h) = (width as usize, height as usize);
    let (y_plane, chroma) = buf.split_at_mut(w * h);
    let (u_plane, v_plane) = chroma.split_at_mut(w * h / 4);
    for y in 0..h {
        for x in 0..w {
            let (luma, u, v) = yuv(PATTERN_COLOURS[(x * 3 / w).min(2)], weights);
            y_plane[y * w + x] = luma;
            if y % 2 == 0 && x % 2 == 0 {
                u_plane[(y / 2) * (w / 2) + x / 2] = u;
                v_plane[(y / 2) * (w / 2) + x / 2] = v;
            }
        }
    }
    draw_stamp_rows(buf, width, height, stamp);
}

/// Redraws only the stamp rows (the bottom 32 lines) of an I420 picture.
pub(crate) fn draw_stamp_rows(buf: &mut [u8], width: u32, height: u32, stamp: u64) {
    let (w, h) = (width as usize, height as usize);
    let stamp_top = h.saturating_sub(2 * ROW_HEIGHT as usize);
    let block_w = (w / COLUMNS as usize).max(1);
    let (y_plane, chroma) = buf.split_at_mut(w * h);
    let (u_plane, v_plane) = chroma.split_at_mut(w * h / 4);
    for y in stamp_top..h {
        let row = (y - stamp_top) / ROW_HEIGHT as usize;
        for x in 0..w {
            let col = x / block_w;
            let bit = row * COLUMNS as usize + col;
            let on = col < COLUMNS as usize && bit < BITS as usize && stamp >> bit & 1 == 1;
            y_plane[y * w + x] = if on { 235 } else { 16 };
        }
        if y % 2 == 0 {
            let row_start = (y / 2) * (w / 2);
            u_plane[row_start..row_start + w / 2].fill(128);
            v_plane[row_start..row_start + w / 2].fill(128);
        }
    }
}

/// Reads the stamp back from a decoded frame: the generation time in µs modulo 2^40.
/// `None` if the frame is too small to carry one.
pub fn decode_stamp(frame: &Frame) -> Option<u64> {
    stamp_from(frame.width(), frame.height(), |x, y| {
        let px = frame.pixel(x, y);
        match frame.pixel_format() {
            PixelFormat::Gray8 => px[0] as u32,
            _ => (px[0] as u32 + px[1] as u32 + px[2] as u32) / 3,
        }
    })
}

/// Like [`decode_stamp`] for a packed 3-byte-per-pixel picture (BGR or RGB) that is not a
/// [`Frame`], e.g. one read from another program's output.
pub fn decode_stamp_packed(data: &[u8], width: u32, height: u32) -> Option<u64> {
    if data.len() < width as usize * height as usize * 3 {
        return None;
    }
    stamp_from(width, height, |x, y| {
        let i = (y as usize * width as usize + x as usize) * 3;
        (data[i] as u32 + data[i + 1] as u32 + data[i + 2] as u32) / 3
    })
}

fn stamp_from(width: u32, height: u32, luma_at: impl Fn(u32, u32) -> u32) -> Option<u64> {
    if height < 2 * ROW_HEIGHT || width < COLUMNS {
        return None;
    }
    let stamp_top = height - 2 * ROW_HEIGHT;
    let block_w = width / COLUMNS;
    let mut value = 0u64;
    for bit in 0..BITS {
        let (row, col) = (bit / COLUMNS, bit % COLUMNS);
        let x = col * block_w + block_w / 2;
        let y = stamp_top + row * ROW_HEIGHT + ROW_HEIGHT / 2;
        if luma_at(x, y) > 128 {
            value |= 1 << bit;
        }
    }
    Some(value)
}

/// Time from a stamp's generation to now (modular, so the wrap-around is harmless).
pub fn stamp_age(stamp: u64) -> std::time::Duration {
    std::time::Duration::from_micros(stamp_micros_now().wrapping_sub(stamp) & ((1 << BITS) - 1))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn colours_round_trip_close_enough() {
        // Y'CbCr back to RGB with BT.601 limited range, as decoders do.
        for rgb in PATTERN_COLOURS {
            let (y, u, v) = yuv(rgb, (0.299, 0.114));
            let (y, u, v) = (y as f64 - 16.0, u as f64 - 128.0, v as f64 - 128.0);
            let r = 1.164 * y + 1.596 * v;
            let g = 1.164 * y - 0.392 * u - 0.813 * v;
            let b = 1.164 * y + 2.017 * u;
            for (got, want) in [r, g, b].iter().zip(rgb) {
                assert!((got - want as f64).abs() < 3.0, "{rgb:?}");
            }
        }
    }
}
