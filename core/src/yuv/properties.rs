//! The YUV conversion over its input space: random pictures of every layout, odd sizes and
//! padded strides up to 256 × 256, against a scalar reference; damaged planes, which must be
//! errors. Fixed seeds (a CI run is reproducible); `PROPTEST_CASES` raises the count.

use super::*;
use crate::frame::Frame;
use proptest::prelude::*;
use proptest::test_runner::{Config, RngSeed};

/// Levels a converted pixel may differ from the reference by: the SIMD conversion computes in
/// fixed point.
const TOLERANCE: i32 = 2;

#[derive(Debug, Clone, Copy, PartialEq)]
enum Kind {
    I420,
    I422,
    I444,
    Nv12,
    Yuy2,
    Gray,
}

/// A picture's planes as owned bytes, with their strides.
#[derive(Debug, Clone)]
struct Planes {
    kind: Kind,
    width: u32,
    height: u32,
    planes: Vec<(Vec<u8>, usize)>,
    range: YuvRange,
    matrix: YuvMatrix,
}

impl Planes {
    fn picture(&self) -> YuvPicture<'_> {
        let p = |i: usize| Plane::new(&self.planes[i].0, self.planes[i].1);
        let layout = match self.kind {
            Kind::I420 => YuvLayout::I420 {
                y: p(0),
                u: p(1),
                v: p(2),
            },
            Kind::I422 => YuvLayout::I422 {
                y: p(0),
                u: p(1),
                v: p(2),
            },
            Kind::I444 => YuvLayout::I444 {
                y: p(0),
                u: p(1),
                v: p(2),
            },
            Kind::Nv12 => YuvLayout::Nv12 { y: p(0), uv: p(1) },
            Kind::Yuy2 => YuvLayout::Yuy2(p(0)),
            Kind::Gray => YuvLayout::Gray8(p(0)),
        };
        YuvPicture {
            width: self.width,
            height: self.height,
            layout,
            range: self.range,
            matrix: Some(self.matrix),
        }
    }

    /// (Y, U, V) of pixel (x, y), read the way the layout stores it.
    fn sample(&self, x: usize, y: usize) -> (u8, u8, u8) {
        let at = |i: usize, col: usize, row: usize| self.planes[i].0[row * self.planes[i].1 + col];
        match self.kind {
            Kind::I420 => (at(0, x, y), at(1, x / 2, y / 2), at(2, x / 2, y / 2)),
            Kind::I422 => (at(0, x, y), at(1, x / 2, y), at(2, x / 2, y)),
            Kind::I444 => (at(0, x, y), at(1, x, y), at(2, x, y)),
            Kind::Nv12 => (
                at(0, x, y),
                at(1, x / 2 * 2, y / 2),
                at(1, x / 2 * 2 + 1, y / 2),
            ),
            Kind::Yuy2 => (
                at(0, x * 2, y),
                at(0, x / 2 * 4 + 1, y),
                at(0, x / 2 * 4 + 3, y),
            ),
            Kind::Gray => (at(0, x, y), 128, 128),
        }
    }
}

/// The reference: one pixel, in floating point, rounded once.
fn reference(yuv: (u8, u8, u8), matrix: YuvMatrix, range: YuvRange) -> [u8; 3] {
    let (kr, kb) = match matrix {
        YuvMatrix::Bt601 => (0.299, 0.114),
        YuvMatrix::Bt709 => (0.2126, 0.0722),
        YuvMatrix::Bt2020 => (0.2627, 0.0593),
    };
    let (y, u, v) = (f64::from(yuv.0), f64::from(yuv.1), f64::from(yuv.2));
    let (y, cb, cr) = match range {
        YuvRange::Limited => ((y - 16.0) / 219.0, (u - 128.0) / 224.0, (v - 128.0) / 224.0),
        YuvRange::Full => (y / 255.0, (u - 128.0) / 255.0, (v - 128.0) / 255.0),
    };
    let r = y + 2.0 * (1.0 - kr) * cr;
    let b = y + 2.0 * (1.0 - kb) * cb;
    let g = (y - kr * r - kb * b) / (1.0 - kr - kb);
    [r, g, b].map(|c| (c * 255.0).round().clamp(0.0, 255.0) as u8)
}

/// The bytes of each plane a `kind` picture of `w` × `h` needs per row, and its rows.
fn plane_shapes(kind: Kind, w: usize, h: usize) -> Vec<(usize, usize)> {
    let (cw, ch) = (w.div_ceil(2), h.div_ceil(2));
    match kind {
        Kind::I420 => vec![(w, h), (cw, ch), (cw, ch)],
        Kind::I422 => vec![(w, h), (cw, h), (cw, h)],
        Kind::I444 => vec![(w, h), (w, h), (w, h)],
        Kind::Nv12 => vec![(w, h), (cw * 2, ch)],
        Kind::Yuy2 => vec![(cw * 4, h)],
        Kind::Gray => vec![(w, h)],
    }
}

fn kind() -> impl Strategy<Value = Kind> {
    proptest::sample::select(vec![
        Kind::I420,
        Kind::I422,
        Kind::I444,
        Kind::Nv12,
        Kind::Yuy2,
        Kind::Gray,
    ])
}

fn planes() -> impl Strategy<Value = Planes> {
    let colour = (
        proptest::sample::select(vec![YuvRange::Limited, YuvRange::Full]),
        proptest::sample::select(vec![YuvMatrix::Bt601, YuvMatrix::Bt709, YuvMatrix::Bt2020]),
    );
    (kind(), 1u32..=256, 1u32..=256, colour, any::<u64>()).prop_flat_map(
        |(kind, width, height, (range, matrix), _)| {
            let shapes = plane_shapes(kind, width as usize, height as usize);
            // Valid samples: within the range the picture declares (16–240 for limited range,
            // where decoders clip what lies outside; the luma plane 16–235 is checked through
            // it too, as every sample of a legal picture is).
            let legal = match range {
                YuvRange::Limited => 16u8..=235,
                YuvRange::Full => 0u8..=255,
            };
            let planes = shapes
                .into_iter()
                .map(|(row, rows)| {
                    let legal = legal.clone();
                    (0usize..=17).prop_flat_map(move |pad| {
                        let stride = row + pad;
                        proptest::collection::vec(legal.clone(), stride * rows)
                            .prop_map(move |bytes| (bytes, stride))
                    })
                })
                .collect::<Vec<_>>();
            planes.prop_map(move |planes| Planes {
                kind,
                width,
                height,
                planes,
                range,
                matrix,
            })
        },
    )
}

fn config(cases: u32, seed: u64) -> Config {
    Config {
        cases,
        rng_seed: RngSeed::Fixed(seed),
        failure_persistence: None,
        ..Config::default()
    }
}

fn convert_to(picture: &YuvPicture<'_>, format: PixelFormat) -> Result<Frame> {
    let mut frame = Frame::empty();
    let mut sink = FrameSink::new(&mut frame, format, u64::MAX);
    picture.write_into(&mut sink)?;
    Ok(frame)
}

proptest! {
    #![proptest_config(config(48, 0x40f_0001))]

    /// Valid random planes of every layout: every pixel within two levels of the reference.
    #[test]
    fn valid_planes_convert_like_the_reference(planes in planes(), rgb in any::<bool>()) {
        let format = if rgb { PixelFormat::Rgb8 } else { PixelFormat::Bgr8 };
        let frame = convert_to(&planes.picture(), format).expect("valid planes convert");
        prop_assert_eq!((frame.width(), frame.height()), (planes.width, planes.height));
        for y in 0..planes.height as usize {
            for x in 0..planes.width as usize {
                let mut want = reference(planes.sample(x, y), planes.matrix, planes.range);
                if !rgb {
                    want.reverse();
                }
                let got = frame.pixel(x as u32, y as u32);
                let off = got.iter().zip(want).map(|(&g, w)| (i32::from(g) - i32::from(w)).abs()).max().unwrap();
                prop_assert!(
                    off <= TOLERANCE,
                    "{:?} {}x{} at ({x}, {y}): {:?} instead of {:?} (yuv {:?})",
                    planes.kind, planes.width, planes.height, got, want, planes.sample(x, y)
                );
            }
        }
    }
}

proptest! {
    #![proptest_config(config(256, 0x40f_0002))]

    /// Planes cut short or strides shorter than a row: an error, never a panic or a read
    /// outside the planes.
    #[test]
    fn damaged_planes_are_errors(planes in planes(), which in any::<proptest::sample::Index>(), cut in 1usize..64, narrow in any::<bool>()) {
        let mut damaged = planes.clone();
        let i = which.index(damaged.planes.len());
        let (bytes, stride) = &mut damaged.planes[i];
        let (row, rows) = plane_shapes(planes.kind, planes.width as usize, planes.height as usize)[i];
        if narrow {
            *stride = row - 1;
        } else {
            // Shorter than its last row needs.
            let needed = *stride * (rows - 1) + row;
            bytes.truncate(needed.saturating_sub(cut));
        }
        for format in [PixelFormat::Bgr8, PixelFormat::Rgb8, PixelFormat::Gray8] {
            let converted = convert_to(&damaged.picture(), format);
            prop_assert!(converted.is_err(), "{:?} plane {i} damaged, {format:?}: converted", planes.kind);
        }
    }

    /// A stride of the sink shorter than a row, or a size beyond the limit: errors.
    #[test]
    fn sink_buffers_never_panic(width in 0u32..=70_000, height in 0u32..=70_000, stride in 0usize..300_000, max in 0u64..=u64::MAX) {
        let mut frame = Frame::empty();
        let mut sink = FrameSink::new(&mut frame, PixelFormat::Bgr8, max);
        let row = width as usize * 3;
        let fits = u64::from(width) * u64::from(height) <= max;
        let small = stride.checked_mul(height as usize).is_some_and(|n| n <= 64 << 20);
        if fits && stride >= row && small {
            let len = sink.buffer_with_stride(width, height, stride).map(|b| b.len());
            prop_assert_eq!(len.ok(), Some(stride * height as usize));
        } else if !fits || stride < row {
            prop_assert!(sink.buffer_with_stride(width, height, stride).is_err());
        }
    }
}
