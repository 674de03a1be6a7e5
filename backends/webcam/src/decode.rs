//! Camera frames into the lent buffer, in the pixel format the stream asks for.
//!
//! nokhwa decodes to RGB only: BGR is RGB decoded into the lent buffer and swapped there in one
//! pass; gray takes the luma directly where the format carries it (YUYV, NV12) and computes it
//! otherwise.

use crate::device::{CameraMode, FourCc};
use nokhwa::utils::{Resolution, buf_mjpeg_to_rgb, buf_nv12_to_rgb, buf_yuyv422_to_rgb};
use rtsp_stream_core::raw::FrameSink;
use rtsp_stream_core::{Error, PixelFormat};

/// Why a camera frame was not decoded.
pub(crate) enum Undecoded {
    /// A damaged frame (a torn MJPEG picture, a short buffer): skipped and counted.
    Damaged(String),
    /// Refused by the stream (a picture over its size limit): the connection ends.
    Refused(Error),
}

impl From<String> for Undecoded {
    fn from(why: String) -> Self {
        Undecoded::Damaged(why)
    }
}

impl From<Error> for Undecoded {
    fn from(e: Error) -> Self {
        Undecoded::Refused(e)
    }
}

/// Decodes `data` (a frame in `mode`) into `sink`. `scratch` holds an RGB picture when the
/// target is gray and the format carries no luma plane; it is reused from frame to frame.
pub(crate) fn decode(
    data: &[u8],
    mode: CameraMode,
    sink: &mut FrameSink<'_>,
    scratch: &mut Vec<u8>,
) -> Result<(), Undecoded> {
    let (w, h) = (mode.width, mode.height);
    let pixels = w as usize * h as usize;
    let expect = |len: usize| {
        if data.len() < len {
            Err(format!(
                "{} frame of {} bytes, {w}x{h} needs {len}",
                mode.fourcc.name(),
                data.len()
            ))
        } else {
            Ok(&data[..len])
        }
    };
    let target = sink.pixel_format();
    match (mode.fourcc, target) {
        (FourCc::Yuyv, PixelFormat::Gray8) => {
            let yuyv = expect(pixels * 2)?;
            let out = sink.buffer(w, h)?;
            for (dst, pair) in out.iter_mut().zip(yuyv.chunks_exact(2)) {
                *dst = full_range(pair[0]);
            }
        }
        (FourCc::Nv12, PixelFormat::Gray8) => {
            let luma = expect(pixels)?;
            let out = sink.buffer(w, h)?;
            for (dst, &y) in out.iter_mut().zip(luma) {
                *dst = full_range(y);
            }
        }
        (FourCc::Gray, PixelFormat::Gray8) => {
            let luma = expect(pixels)?;
            sink.buffer(w, h)?.copy_from_slice(luma);
        }
        (FourCc::Gray, _) => {
            let luma = expect(pixels)?;
            let out = sink.buffer(w, h)?;
            for (dst, &y) in out.chunks_exact_mut(3).zip(luma) {
                dst.fill(y);
            }
        }
        (fourcc, PixelFormat::Gray8) => {
            scratch.resize(pixels * 3, 0);
            to_rgb(fourcc, data, mode, scratch)?;
            let out = sink.buffer(w, h)?;
            for (dst, rgb) in out.iter_mut().zip(scratch.chunks_exact(3)) {
                *dst = luma(rgb[0], rgb[1], rgb[2]);
            }
        }
        (fourcc, format) => {
            let out = sink.buffer(w, h)?;
            to_rgb(fourcc, data, mode, out)?;
            if format != PixelFormat::Rgb8 {
                swap_red_blue(out);
            }
        }
    }
    Ok(())
}

/// Decodes a colour frame into `out` as packed RGB (`out` is exactly width × height × 3).
fn to_rgb(fourcc: FourCc, data: &[u8], mode: CameraMode, out: &mut [u8]) -> Result<(), String> {
    let pixels = mode.width as usize * mode.height as usize;
    let short = || {
        format!(
            "{} frame of {} bytes is too short",
            fourcc.name(),
            data.len()
        )
    };
    match fourcc {
        FourCc::Mjpeg => buf_mjpeg_to_rgb(data, out, false).map_err(|e| e.to_string()),
        FourCc::Yuyv => {
            let yuyv = data.get(..pixels * 2).ok_or_else(short)?;
            buf_yuyv422_to_rgb(yuyv, out, false).map_err(|e| e.to_string())
        }
        FourCc::Nv12 => {
            let nv12 = data.get(..pixels * 3 / 2).ok_or_else(short)?;
            let resolution = Resolution::new(mode.width, mode.height);
            buf_nv12_to_rgb(resolution, nv12, out, false).map_err(|e| e.to_string())
        }
        FourCc::Rgb | FourCc::Bgr => {
            out.copy_from_slice(data.get(..pixels * 3).ok_or_else(short)?);
            if fourcc == FourCc::Bgr {
                swap_red_blue(out);
            }
            Ok(())
        }
        FourCc::Gray => unreachable!("gray is expanded by the caller"),
    }
}

fn swap_red_blue(packed: &mut [u8]) {
    for px in packed.chunks_exact_mut(3) {
        px.swap(0, 2);
    }
}

/// Camera luma is video range (16–235), like the colour nokhwa decodes from it; gray frames
/// are full range, like gray computed from RGB.
fn full_range(y: u8) -> u8 {
    ((((i32::from(y) - 16) * 298) + 128) >> 8).clamp(0, 255) as u8
}

/// BT.601 luma in integer arithmetic.
fn luma(r: u8, g: u8, b: u8) -> u8 {
    ((77 * u32::from(r) + 150 * u32::from(g) + 29 * u32::from(b) + 128) >> 8) as u8
}
