//! Camera frames into the lent buffer, in the pixel format the stream asks for.
//!
//! YUYV, NV12 and gray frames go through the core's YUV conversion (one SIMD pass into the lent
//! buffer, the colour rule every backend follows). MJPEG is decoded by nokhwa, to RGB only:
//! BGR is RGB decoded into the lent buffer and swapped there in one pass, gray is computed
//! from it.

use crate::device::{CameraMode, FourCc};
use nokhwa::utils::buf_mjpeg_to_rgb;
use rtsp_stream_core::raw::{FrameSink, Plane, YuvLayout, YuvPicture, YuvRange};
use rtsp_stream_core::{Error, ErrorKind, PixelFormat};

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
    // The YUV formats go through the core's conversion, with the colour rule of every backend
    // (cameras send limited range; BT.601 below 720 lines, BT.709 from there).
    let yuv = |layout, range| YuvPicture {
        width: w,
        height: h,
        layout,
        range,
        matrix: None,
    };
    let picture = match mode.fourcc {
        FourCc::Yuyv => Some(yuv(
            YuvLayout::Yuy2(Plane::new(expect(pixels * 2)?, w as usize * 2)),
            YuvRange::Limited,
        )),
        FourCc::Nv12 => {
            let nv12 = expect(pixels * 3 / 2)?;
            let (luma, chroma) = nv12.split_at(pixels);
            Some(yuv(
                YuvLayout::Nv12 {
                    y: Plane::new(luma, w as usize),
                    uv: Plane::new(chroma, w as usize),
                },
                YuvRange::Limited,
            ))
        }
        // Gray cameras send full-range luma.
        FourCc::Gray => Some(yuv(
            YuvLayout::Gray8(Plane::new(expect(pixels)?, w as usize)),
            YuvRange::Full,
        )),
        _ => None,
    };
    if let Some(picture) = picture {
        return picture.write_into(sink).map_err(|e| match e.kind() {
            ErrorKind::Unsupported => Undecoded::Refused(e),
            _ => Undecoded::Damaged(e.to_string()),
        });
    }
    match (mode.fourcc, target) {
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
        FourCc::Rgb | FourCc::Bgr => {
            out.copy_from_slice(data.get(..pixels * 3).ok_or_else(short)?);
            if fourcc == FourCc::Bgr {
                swap_red_blue(out);
            }
            Ok(())
        }
        FourCc::Yuyv | FourCc::Nv12 | FourCc::Gray => {
            unreachable!("YUV and gray go through the core's conversion")
        }
    }
}

fn swap_red_blue(packed: &mut [u8]) {
    for px in packed.chunks_exact_mut(3) {
        px.swap(0, 2);
    }
}

/// BT.601 luma in integer arithmetic.
fn luma(r: u8, g: u8, b: u8) -> u8 {
    ((77 * u32::from(r) + 150 * u32::from(g) + 29 * u32::from(b) + 128) >> 8) as u8
}
