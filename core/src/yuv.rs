//! Decoded YUV pictures into the lent buffer, once for every backend whose decoder hands out
//! YUV: one SIMD pass (yuvutils-rs, dispatched on the CPU at run time) writing straight into
//! the [`FrameSink`]'s buffer, in the pixel format the stream asked for.
//!
//! The colour rule is the same wherever a picture comes from: the matrix the stream declares,
//! else BT.709 from 720 lines up and BT.601 below (what encoders assume for HD and SD); the
//! range the stream declares, else limited ("TV") range. Gray output is the luma expanded to
//! full range, so gray pictures compare between backends.

use crate::error::{Error, ErrorKind, Result};
use crate::frame::{Frame, FrameSink, PixelFormat};
use yuvutils_rs as yuv;

/// How the luma and chroma values span the 8 bits.
#[non_exhaustive]
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum YuvRange {
    /// Luma 16–235, chroma 16–240 ("TV" range; what cameras send unless they say otherwise).
    #[default]
    Limited,
    /// 0–255 ("PC" or JPEG range).
    Full,
}

/// The matrix between YUV and RGB.
#[non_exhaustive]
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum YuvMatrix {
    /// ITU-R BT.601 (standard definition).
    Bt601,
    /// ITU-R BT.709 (high definition).
    Bt709,
    /// ITU-R BT.2020.
    Bt2020,
}

impl YuvMatrix {
    /// The matrix assumed when a stream does not declare one: BT.709 from 720 lines up,
    /// BT.601 below.
    pub fn default_for_height(height: u32) -> Self {
        if height >= 720 {
            YuvMatrix::Bt709
        } else {
            YuvMatrix::Bt601
        }
    }
}

/// One plane of a picture: its bytes and the distance between the starts of its rows.
#[derive(Debug, Clone, Copy)]
pub struct Plane<'a> {
    /// The plane's bytes, from its first row.
    pub data: &'a [u8],
    /// Bytes from the start of one row to the start of the next.
    pub stride: usize,
}

impl<'a> Plane<'a> {
    /// A plane of `data` with rows `stride` bytes apart.
    pub fn new(data: &'a [u8], stride: usize) -> Self {
        Plane { data, stride }
    }
}

/// How a picture's samples are laid out.
#[non_exhaustive]
#[derive(Debug, Clone, Copy)]
pub enum YuvLayout<'a> {
    /// 4:2:0, three planes (Y, U, V).
    I420 {
        /// Luma.
        y: Plane<'a>,
        /// Blue-difference chroma, half width and half height.
        u: Plane<'a>,
        /// Red-difference chroma, half width and half height.
        v: Plane<'a>,
    },
    /// 4:2:2, three planes (chroma of half width, full height).
    I422 {
        /// Luma.
        y: Plane<'a>,
        /// Blue-difference chroma.
        u: Plane<'a>,
        /// Red-difference chroma.
        v: Plane<'a>,
    },
    /// 4:4:4, three planes of full size.
    I444 {
        /// Luma.
        y: Plane<'a>,
        /// Blue-difference chroma.
        u: Plane<'a>,
        /// Red-difference chroma.
        v: Plane<'a>,
    },
    /// 4:2:0, a luma plane and one plane of interleaved U, V.
    Nv12 {
        /// Luma.
        y: Plane<'a>,
        /// Interleaved chroma, half height.
        uv: Plane<'a>,
    },
    /// 4:2:2 packed Y0 U Y1 V (YUYV), one plane.
    Yuy2(Plane<'a>),
    /// Luma only.
    Gray8(Plane<'a>),
}

/// A decoded picture in one of the [`YuvLayout`]s, with its colour description.
#[derive(Debug, Clone, Copy)]
pub struct YuvPicture<'a> {
    /// Width in pixels.
    pub width: u32,
    /// Height in pixels.
    pub height: u32,
    /// The planes.
    pub layout: YuvLayout<'a>,
    /// The range the stream declares (limited when it says nothing).
    pub range: YuvRange,
    /// The matrix the stream declares, if it does.
    pub matrix: Option<YuvMatrix>,
}

impl YuvPicture<'_> {
    /// The matrix used: the declared one, else [`YuvMatrix::default_for_height`].
    pub fn matrix(&self) -> YuvMatrix {
        self.matrix
            .unwrap_or_else(|| YuvMatrix::default_for_height(self.height))
    }

    /// The picture as a frame in `format`, converted into `reuse`'s buffer when given (no
    /// allocation once it is large enough): the conversion every backend's picture goes
    /// through, for tools and measurements that hold decoded pictures of their own.
    pub fn to_frame(&self, format: PixelFormat, reuse: Option<Frame>) -> Result<Frame> {
        let mut frame = reuse.unwrap_or_else(Frame::empty);
        self.write_into(&mut FrameSink::new(&mut frame, format, u64::MAX))?;
        Ok(frame)
    }

    /// Converts the picture into `sink`'s buffer, in the sink's pixel format, in one pass.
    /// Planes shorter than their size and stride need are an error (a damaged picture), as
    /// is a picture over the stream's size limit.
    pub fn write_into(&self, sink: &mut FrameSink<'_>) -> Result<()> {
        let format = sink.pixel_format();
        let (w, h) = (self.width, self.height);
        self.check_planes()?;
        let out = sink.buffer(w, h)?;
        let stride = (w as usize * format.bytes_per_pixel()) as u32;
        let range = match self.range {
            YuvRange::Limited => yuv::YuvRange::Limited,
            YuvRange::Full => yuv::YuvRange::Full,
        };
        let matrix = match self.matrix() {
            YuvMatrix::Bt601 => yuv::YuvStandardMatrix::Bt601,
            YuvMatrix::Bt709 => yuv::YuvStandardMatrix::Bt709,
            YuvMatrix::Bt2020 => yuv::YuvStandardMatrix::Bt2020,
        };
        if format == PixelFormat::Gray8 {
            let y = match self.layout {
                YuvLayout::I420 { y, .. }
                | YuvLayout::I422 { y, .. }
                | YuvLayout::I444 { y, .. }
                | YuvLayout::Nv12 { y, .. }
                | YuvLayout::Gray8(y) => y,
                YuvLayout::Yuy2(packed) => return yuy2_luma(packed, w, h, self.range, out),
            };
            return copy_luma(y, w, h, self.range, out);
        }
        let rgb = format == PixelFormat::Rgb8;
        let done = match self.layout {
            YuvLayout::I420 { y, u, v } => {
                let image = planar(y, u, v, w, h);
                if rgb {
                    yuv::yuv420_to_rgb(&image, out, stride, range, matrix)
                } else {
                    yuv::yuv420_to_bgr(&image, out, stride, range, matrix)
                }
            }
            YuvLayout::I422 { y, u, v } => {
                let image = planar(y, u, v, w, h);
                if rgb {
                    yuv::yuv422_to_rgb(&image, out, stride, range, matrix)
                } else {
                    yuv::yuv422_to_bgr(&image, out, stride, range, matrix)
                }
            }
            YuvLayout::I444 { y, u, v } => {
                let image = planar(y, u, v, w, h);
                if rgb {
                    yuv::yuv444_to_rgb(&image, out, stride, range, matrix)
                } else {
                    yuv::yuv444_to_bgr(&image, out, stride, range, matrix)
                }
            }
            YuvLayout::Nv12 { y, uv } => {
                // yuvutils takes interleaved chroma only without row padding: the chroma is
                // split into two planes (in buffers kept per thread; a quarter of the
                // picture) and converted like 4:2:0.
                return SPLIT.with(|split| {
                    let mut split = split.borrow_mut();
                    let (u, v) = split_nv12(uv, w, h, &mut split);
                    let image = planar(y, u, v, w, h);
                    let done = if rgb {
                        yuv::yuv420_to_rgb(&image, out, stride, range, matrix)
                    } else {
                        yuv::yuv420_to_bgr(&image, out, stride, range, matrix)
                    };
                    done.map_err(|e| damaged(w, h, &e))
                });
            }
            YuvLayout::Yuy2(packed) => {
                // yuvutils' packed path takes no row padding and rounds a few levels off the
                // planar one: the picture is split into planes (in buffers kept per thread)
                // and converted like 4:2:2.
                return SPLIT.with(|split| {
                    let mut split = split.borrow_mut();
                    let (y, u, v) = split_yuyv(packed, w, h, &mut split);
                    let image = planar(y, u, v, w, h);
                    let done = if rgb {
                        yuv::yuv422_to_rgb(&image, out, stride, range, matrix)
                    } else {
                        yuv::yuv422_to_bgr(&image, out, stride, range, matrix)
                    };
                    done.map_err(|e| damaged(w, h, &e))
                });
            }
            YuvLayout::Gray8(y) => {
                let image = yuv::YuvGrayImage {
                    y_plane: y.data,
                    y_stride: y.stride as u32,
                    width: w,
                    height: h,
                };
                if rgb {
                    yuv::yuv400_to_rgb(&image, out, stride, range, matrix)
                } else {
                    yuv::yuv400_to_bgr(&image, out, stride, range, matrix)
                }
            }
        };
        done.map_err(|e| damaged(w, h, &e))
    }
}

impl YuvPicture<'_> {
    /// Every plane holds its rows at its stride: checked here, before any conversion reads a
    /// byte, whatever a decoder handed over.
    fn check_planes(&self) -> Result<()> {
        let (w, h) = (self.width as usize, self.height as usize);
        if w == 0 || h == 0 {
            return Err(damaged(self.width, self.height, &"an empty picture"));
        }
        let (cw, ch) = (w.div_ceil(2), h.div_ceil(2));
        let planes: &[(Plane<'_>, usize, usize)] = match &self.layout {
            YuvLayout::I420 { y, u, v } => &[(*y, w, h), (*u, cw, ch), (*v, cw, ch)],
            YuvLayout::I422 { y, u, v } => &[(*y, w, h), (*u, cw, h), (*v, cw, h)],
            YuvLayout::I444 { y, u, v } => &[(*y, w, h), (*u, w, h), (*v, w, h)],
            YuvLayout::Nv12 { y, uv } => &[(*y, w, h), (*uv, cw * 2, ch)],
            YuvLayout::Yuy2(p) => &[(*p, cw * 4, h)],
            YuvLayout::Gray8(y) => &[(*y, w, h)],
        };
        for &(plane, row, rows) in planes {
            check_plane(plane, row, rows as u32)?;
            if u32::try_from(plane.stride).is_err() {
                return Err(damaged(self.width, self.height, &"a stride beyond 4 GiB"));
            }
        }
        Ok(())
    }
}

thread_local! {
    /// The planes of the last packed picture split on this thread, kept for the next one.
    static SPLIT: std::cell::RefCell<(Vec<u8>, Vec<u8>, Vec<u8>)> =
        const { std::cell::RefCell::new((Vec::new(), Vec::new(), Vec::new())) };
}

/// A packed YUYV picture (already checked) as three 4:2:2 planes, in `buffers`.
fn split_yuyv<'a>(
    packed: Plane<'_>,
    w: u32,
    h: u32,
    buffers: &'a mut (Vec<u8>, Vec<u8>, Vec<u8>),
) -> (Plane<'a>, Plane<'a>, Plane<'a>) {
    let (w, h) = (w as usize, h as usize);
    let cw = w.div_ceil(2);
    let (ys, us, vs) = buffers;
    ys.resize(w * h, 0);
    us.resize(cw * h, 0);
    vs.resize(cw * h, 0);
    for (row, src) in packed.data.chunks(packed.stride).take(h).enumerate() {
        for (pair, quad) in src[..cw * 4].chunks_exact(4).enumerate() {
            ys[row * w + 2 * pair] = quad[0];
            if 2 * pair + 1 < w {
                ys[row * w + 2 * pair + 1] = quad[2];
            }
            us[row * cw + pair] = quad[1];
            vs[row * cw + pair] = quad[3];
        }
    }
    (Plane::new(ys, w), Plane::new(us, cw), Plane::new(vs, cw))
}

/// The interleaved chroma of an NV12 picture (already checked) as two 4:2:0 planes, in
/// `buffers`.
fn split_nv12<'a>(
    uv: Plane<'_>,
    w: u32,
    h: u32,
    buffers: &'a mut (Vec<u8>, Vec<u8>, Vec<u8>),
) -> (Plane<'a>, Plane<'a>) {
    let (cw, ch) = ((w as usize).div_ceil(2), (h as usize).div_ceil(2));
    let (_, us, vs) = buffers;
    us.resize(cw * ch, 0);
    vs.resize(cw * ch, 0);
    for (row, src) in uv.data.chunks(uv.stride).take(ch).enumerate() {
        for (i, pair) in src[..cw * 2].chunks_exact(2).enumerate() {
            us[row * cw + i] = pair[0];
            vs[row * cw + i] = pair[1];
        }
    }
    (Plane::new(us, cw), Plane::new(vs, cw))
}

fn planar<'a>(
    y: Plane<'a>,
    u: Plane<'a>,
    v: Plane<'a>,
    width: u32,
    height: u32,
) -> yuv::YuvPlanarImage<'a, u8> {
    yuv::YuvPlanarImage {
        y_plane: y.data,
        y_stride: y.stride as u32,
        u_plane: u.data,
        u_stride: u.stride as u32,
        v_plane: v.data,
        v_stride: v.stride as u32,
        width,
        height,
    }
}

fn damaged(w: u32, h: u32, why: &dyn std::fmt::Display) -> Error {
    Error::new(
        ErrorKind::Other,
        "core",
        format!("a damaged {w}×{h} picture could not be converted: {why}"),
    )
}

fn check_plane(plane: Plane<'_>, row: usize, h: u32) -> Result<()> {
    let needed = plane
        .stride
        .checked_mul((h as usize).saturating_sub(1))
        .and_then(|n| n.checked_add(row))
        .unwrap_or(usize::MAX);
    if plane.stride < row || plane.data.len() < needed {
        return Err(damaged(
            row as u32,
            h,
            &format!(
                "plane of {} bytes, stride {}, needs {needed}",
                plane.data.len(),
                plane.stride
            ),
        ));
    }
    Ok(())
}

/// The luma expansion of limited range, as a table: one lookup per pixel.
fn luma_table(range: YuvRange) -> [u8; 256] {
    let mut table = [0u8; 256];
    for (i, v) in table.iter_mut().enumerate() {
        *v = match range {
            YuvRange::Full => i as u8,
            YuvRange::Limited => ((((i as i32 - 16) * 255) + 109) / 219).clamp(0, 255) as u8,
        };
    }
    table
}

fn copy_luma(y: Plane<'_>, w: u32, h: u32, range: YuvRange, out: &mut [u8]) -> Result<()> {
    let row = w as usize;
    check_plane(y, row, h)?;
    let table = luma_table(range);
    for (dst, src) in out.chunks_exact_mut(row).zip(y.data.chunks(y.stride)) {
        match range {
            YuvRange::Full => dst.copy_from_slice(&src[..row]),
            YuvRange::Limited => {
                for (d, &s) in dst.iter_mut().zip(&src[..row]) {
                    *d = table[s as usize];
                }
            }
        }
    }
    Ok(())
}

fn yuy2_luma(packed: Plane<'_>, w: u32, h: u32, range: YuvRange, out: &mut [u8]) -> Result<()> {
    let row = w as usize;
    check_plane(packed, row * 2, h)?;
    let table = luma_table(range);
    for (dst, src) in out
        .chunks_exact_mut(row)
        .zip(packed.data.chunks(packed.stride))
    {
        for (d, pair) in dst.iter_mut().zip(src[..row * 2].chunks_exact(2)) {
            *d = table[pair[0] as usize];
        }
    }
    Ok(())
}

#[cfg(test)]
mod properties;
#[cfg(test)]
mod tests;
