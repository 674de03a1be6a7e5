use super::*;
use crate::frame::Frame;

/// Colours of the 2×2 blocks of the test picture, in RGB.
const COLOURS: [[u8; 3]; 4] = [[200, 30, 40], [20, 180, 60], [40, 50, 210], [128, 128, 128]];

fn kr_kb(matrix: YuvMatrix) -> (f64, f64) {
    match matrix {
        YuvMatrix::Bt601 => (0.299, 0.114),
        YuvMatrix::Bt709 => (0.2126, 0.0722),
        YuvMatrix::Bt2020 => (0.2627, 0.0593),
    }
}

/// The reference encoding of one RGB colour.
fn encode(rgb: [u8; 3], matrix: YuvMatrix, range: YuvRange) -> [u8; 3] {
    let (kr, kb) = kr_kb(matrix);
    let [r, g, b] = rgb.map(|c| f64::from(c) / 255.0);
    let y = kr * r + (1.0 - kr - kb) * g + kb * b;
    let cb = (b - y) / (2.0 * (1.0 - kb));
    let cr = (r - y) / (2.0 * (1.0 - kr));
    let (ys, yo, cs) = match range {
        YuvRange::Limited => (219.0, 16.0, 224.0),
        YuvRange::Full => (255.0, 0.0, 255.0),
    };
    [y * ys + yo, cb * cs + 128.0, cr * cs + 128.0].map(|v| v.round().clamp(0.0, 255.0) as u8)
}

/// Which colour the pixel (x, y) of a 4-wide picture has: 2×2 blocks, repeating downwards.
fn colour_at(x: usize, y: usize) -> usize {
    (x / 2) + 2 * ((y / 2) % 2)
}

/// A 4 × `h` I420 picture with padded rows (stride 8 for luma, 5 for chroma).
fn i420(h: usize, matrix: YuvMatrix, range: YuvRange) -> (Vec<u8>, Vec<u8>, Vec<u8>) {
    let (mut y, mut u, mut v) = (vec![0; 8 * h], vec![0; 5 * h / 2], vec![0; 5 * h / 2]);
    for row in 0..h {
        for x in 0..4 {
            let yuv = encode(COLOURS[colour_at(x, row)], matrix, range);
            y[row * 8 + x] = yuv[0];
            u[(row / 2) * 5 + x / 2] = yuv[1];
            v[(row / 2) * 5 + x / 2] = yuv[2];
        }
    }
    (y, u, v)
}

fn convert(picture: &YuvPicture<'_>, format: PixelFormat) -> Result<Frame> {
    let mut frame = Frame::empty();
    let mut sink = FrameSink::new(&mut frame, format, u64::MAX);
    picture.write_into(&mut sink)?;
    Ok(frame)
}

fn assert_colours(frame: &Frame, swap: bool, tolerance: i32) {
    for y in 0..frame.height() {
        for x in 0..frame.width() {
            let mut want = COLOURS[colour_at(x as usize, y as usize)];
            if swap {
                want.swap(0, 2);
            }
            let got = frame.pixel(x, y);
            for c in 0..3 {
                let diff = (i32::from(got[c]) - i32::from(want[c])).abs();
                assert!(diff <= tolerance, "({x},{y}) {got:?} vs {want:?}");
            }
        }
    }
}

#[test]
fn the_matrix_follows_the_height_unless_declared() {
    assert_eq!(YuvMatrix::default_for_height(480), YuvMatrix::Bt601);
    assert_eq!(YuvMatrix::default_for_height(719), YuvMatrix::Bt601);
    assert_eq!(YuvMatrix::default_for_height(720), YuvMatrix::Bt709);
    assert_eq!(YuvMatrix::default_for_height(1080), YuvMatrix::Bt709);
    for (h, matrix) in [(480, YuvMatrix::Bt601), (720, YuvMatrix::Bt709)] {
        let (y, u, v) = i420(h, matrix, YuvRange::Limited);
        let picture = YuvPicture {
            width: 4,
            height: h as u32,
            layout: YuvLayout::I420 {
                y: Plane::new(&y, 8),
                u: Plane::new(&u, 5),
                v: Plane::new(&v, 5),
            },
            range: YuvRange::Limited,
            matrix: None,
        };
        assert_colours(&convert(&picture, PixelFormat::Bgr8).unwrap(), true, 3);
        assert_colours(&convert(&picture, PixelFormat::Rgb8).unwrap(), false, 3);
    }
}

#[test]
fn the_wrong_matrix_shows() {
    // A picture encoded with BT.709 but read as BT.601 is visibly off: the matrix matters.
    let (y, u, v) = i420(2, YuvMatrix::Bt709, YuvRange::Limited);
    let picture = YuvPicture {
        width: 4,
        height: 2,
        layout: YuvLayout::I420 {
            y: Plane::new(&y, 8),
            u: Plane::new(&u, 5),
            v: Plane::new(&v, 5),
        },
        range: YuvRange::Limited,
        matrix: Some(YuvMatrix::Bt601),
    };
    let frame = convert(&picture, PixelFormat::Rgb8).unwrap();
    let got = frame.pixel(2, 0);
    let want = COLOURS[1];
    let worst = (0..3)
        .map(|c| (i32::from(got[c]) - i32::from(want[c])).abs())
        .max();
    assert!(worst > Some(8), "{got:?} vs {want:?}");
}

#[test]
fn every_layout_gives_the_same_pixels() {
    let (matrix, range) = (YuvMatrix::Bt601, YuvRange::Full);
    let h = 4;
    let (y, u, v) = i420(h, matrix, range);
    let mut nv12_uv = vec![0; 4 * h / 2];
    let (mut u422, mut v422) = (vec![0; 2 * h], vec![0; 2 * h]);
    let (mut u444, mut v444) = (vec![0; 4 * h], vec![0; 4 * h]);
    let mut yuy2 = vec![0; 8 * h];
    for row in 0..h {
        for x in 0..4 {
            let yuv = encode(COLOURS[colour_at(x, row)], matrix, range);
            nv12_uv[(row / 2) * 4 + (x / 2) * 2] = yuv[1];
            nv12_uv[(row / 2) * 4 + (x / 2) * 2 + 1] = yuv[2];
            u422[row * 2 + x / 2] = yuv[1];
            v422[row * 2 + x / 2] = yuv[2];
            u444[row * 4 + x] = yuv[1];
            v444[row * 4 + x] = yuv[2];
            yuy2[row * 8 + x * 2] = yuv[0];
            yuy2[row * 8 + (x / 2) * 4 + 1] = yuv[1];
            yuy2[row * 8 + (x / 2) * 4 + 3] = yuv[2];
        }
    }
    let luma = Plane::new(&y, 8);
    let layouts = [
        YuvLayout::I420 {
            y: luma,
            u: Plane::new(&u, 5),
            v: Plane::new(&v, 5),
        },
        YuvLayout::Nv12 {
            y: luma,
            uv: Plane::new(&nv12_uv, 4),
        },
        YuvLayout::I422 {
            y: luma,
            u: Plane::new(&u422, 2),
            v: Plane::new(&v422, 2),
        },
        YuvLayout::I444 {
            y: luma,
            u: Plane::new(&u444, 4),
            v: Plane::new(&v444, 4),
        },
        YuvLayout::Yuy2(Plane::new(&yuy2, 8)),
    ];
    for layout in layouts {
        let picture = YuvPicture {
            width: 4,
            height: h as u32,
            layout,
            range,
            matrix: Some(matrix),
        };
        let frame = convert(&picture, PixelFormat::Bgr8).unwrap();
        assert_colours(&frame, true, 3);
        let gray = convert(&picture, PixelFormat::Gray8).unwrap();
        for (x, want) in [(0, y[0]), (2, y[2])] {
            assert_eq!(gray.pixel(x, 0)[0], want, "{layout:?}");
        }
    }
}

#[test]
fn gray_is_full_range_and_gray_input_is_expanded() {
    let luma = [16u8, 235, 126, 0, 16, 235, 126, 255];
    let picture = YuvPicture {
        width: 4,
        height: 2,
        layout: YuvLayout::Gray8(Plane::new(&luma, 4)),
        range: YuvRange::Limited,
        matrix: None,
    };
    let gray = convert(&picture, PixelFormat::Gray8).unwrap();
    assert_eq!(gray.row(0), &[0, 255, 128, 0]);
    assert_eq!(gray.row(1), &[0, 255, 128, 255]);
    let bgr = convert(&picture, PixelFormat::Bgr8).unwrap();
    assert_eq!(bgr.pixel(0, 0), &[0, 0, 0]);
    assert_eq!(bgr.pixel(1, 0), &[255, 255, 255]);
}

#[test]
fn a_short_plane_is_an_error_not_a_panic() {
    let y = vec![0u8; 10];
    let uv = vec![128u8; 4];
    let picture = YuvPicture {
        width: 4,
        height: 4,
        layout: YuvLayout::Nv12 {
            y: Plane::new(&y, 4),
            uv: Plane::new(&uv, 4),
        },
        range: YuvRange::Limited,
        matrix: None,
    };
    for format in [PixelFormat::Bgr8, PixelFormat::Gray8] {
        let e = convert(&picture, format).unwrap_err();
        assert_eq!(e.kind(), ErrorKind::Other, "{e}");
    }
}
