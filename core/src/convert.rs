//! Frames into the image ecosystem: `image` buffers and `ndarray` views (each behind its
//! feature).
//!
//! | call | copies | formats |
//! |---|---|---|
//! | [`Frame::as_image_view`] | no | RGB8, GRAY8 with packed rows (else `None`) |
//! | [`Frame::to_rgb_image`] | yes (BGR swapped, gray expanded) | all |
//! | [`Frame::save`] | yes | all |
//! | [`Frame::as_ndarray`] | no | all, padded rows too |

#[cfg(feature = "image")]
#[cfg_attr(docsrs, doc(cfg(feature = "image")))]
pub use self::image_view::ImageView;

#[cfg(feature = "image")]
mod image_view {
    use crate::frame::{Frame, PixelFormat};
    use image::{ImageBuffer, Luma, Rgb, RgbImage};

    /// A frame's pixels seen as an `image` buffer, without a copy (from
    /// [`Frame::as_image_view`]).
    #[non_exhaustive]
    #[derive(Debug)]
    pub enum ImageView<'a> {
        /// An RGB8 frame.
        Rgb(ImageBuffer<Rgb<u8>, &'a [u8]>),
        /// A GRAY8 frame.
        Gray(ImageBuffer<Luma<u8>, &'a [u8]>),
    }

    impl Frame {
        /// The pixels as an `image` buffer without copying: for RGB8 and GRAY8 frames whose
        /// rows are packed (stride = width × bytes per pixel). `None` for BGR8 (`image` 0.25
        /// has no BGR pixel type) and for padded rows (an `ImageBuffer` cannot express them):
        /// use [`to_rgb_image`](Frame::to_rgb_image) then.
        pub fn as_image_view(&self) -> Option<ImageView<'_>> {
            let (w, h) = (self.width(), self.height());
            let packed = w as usize * self.pixel_format().bytes_per_pixel();
            if self.stride() != packed {
                return None;
            }
            let bytes = &self.data()[..packed * h as usize];
            match self.pixel_format() {
                PixelFormat::Rgb8 => ImageBuffer::from_raw(w, h, bytes).map(ImageView::Rgb),
                PixelFormat::Gray8 => ImageBuffer::from_raw(w, h, bytes).map(ImageView::Gray),
                _ => None,
            }
        }

        /// A copy of the pixels as an `image::RgbImage`, whatever the frame's format: BGR is
        /// swapped, gray expanded, row padding dropped.
        pub fn to_rgb_image(&self) -> RgbImage {
            let mut out = RgbImage::new(self.width(), self.height());
            let row_len = self.width() as usize * 3;
            if row_len == 0 {
                return out;
            }
            for (y, dst) in out.chunks_exact_mut(row_len).enumerate() {
                let src = self.row(y as u32);
                match self.pixel_format() {
                    PixelFormat::Bgr8 => {
                        for (d, s) in dst.chunks_exact_mut(3).zip(src.chunks_exact(3)) {
                            d.copy_from_slice(&[s[2], s[1], s[0]]);
                        }
                    }
                    PixelFormat::Gray8 => {
                        for (d, &g) in dst.chunks_exact_mut(3).zip(src) {
                            d.fill(g);
                        }
                    }
                    _ => dst.copy_from_slice(src),
                }
            }
            out
        }

        /// Writes the frame to `path` in the format its extension names (`.png`, `.jpg` /
        /// `.jpeg`). Gray frames are written as gray, the others as RGB.
        pub fn save(&self, path: impl AsRef<std::path::Path>) -> image::ImageResult<()> {
            match self.as_image_view() {
                Some(ImageView::Gray(view)) => view.save(path),
                Some(ImageView::Rgb(view)) => view.save(path),
                None if self.pixel_format() == PixelFormat::Gray8 => {
                    let mut gray = image::GrayImage::new(self.width(), self.height());
                    let width = self.width() as usize;
                    if width > 0 {
                        for (y, dst) in gray.chunks_exact_mut(width).enumerate() {
                            dst.copy_from_slice(self.row(y as u32));
                        }
                    }
                    gray.save(path)
                }
                None => self.to_rgb_image().save(path),
            }
        }
    }
}

#[cfg(feature = "ndarray")]
mod ndarray_view {
    use crate::frame::Frame;
    use ndarray::{ArrayView3, ShapeBuilder};

    impl Frame {
        /// The pixels as an `ndarray` view without copying: shape (height, width, channels)
        /// with strides (stride, channels, 1) — row padding is skipped by the strides, not
        /// copied. Channels are in the frame's order (B, G, R for BGR8); GRAY8 is
        /// (height, width, 1). The shape NumPy and OpenCV's Python bindings use.
        #[cfg_attr(docsrs, doc(cfg(feature = "ndarray")))]
        pub fn as_ndarray(&self) -> ArrayView3<'_, u8> {
            let (h, w) = (self.height() as usize, self.width() as usize);
            let c = self.pixel_format().bytes_per_pixel();
            let shape = (h, w, c).strides((self.stride(), c, 1));
            ArrayView3::from_shape(shape, self.data())
                .expect("a frame's bytes hold height rows of stride bytes")
        }
    }
}

#[cfg(all(test, any(feature = "image", feature = "ndarray")))]
mod tests {
    use crate::frame::{Frame, PixelFormat};

    /// A 5×3 picture whose every pixel differs: (x, y) is red 40x+1, green 60y+2, blue
    /// x+y+3 (gray: the red value), rows padded to `stride` with 0xEE.
    fn known(format: PixelFormat, stride: usize) -> Frame {
        let (w, h) = (5u32, 3u32);
        let mut frame = Frame::empty();
        frame.width = w;
        frame.height = h;
        frame.stride = stride;
        frame.format = format;
        frame.data = vec![0xEE; stride * h as usize];
        for y in 0..h {
            for x in 0..w {
                let rgb = rgb_at(x, y);
                let px: Vec<u8> = match format {
                    PixelFormat::Bgr8 => vec![rgb[2], rgb[1], rgb[0]],
                    PixelFormat::Rgb8 => rgb.to_vec(),
                    _ => vec![rgb[0]],
                };
                let at = y as usize * stride + x as usize * px.len();
                frame.data[at..at + px.len()].copy_from_slice(&px);
            }
        }
        frame
    }

    fn rgb_at(x: u32, y: u32) -> [u8; 3] {
        [40 * x as u8 + 1, 60 * y as u8 + 2, (x + y) as u8 + 3]
    }

    #[cfg(feature = "image")]
    mod image {
        use super::*;
        use crate::convert::ImageView;

        #[test]
        fn every_format_and_padding_becomes_the_same_rgb_image() {
            for (format, stride) in [
                (PixelFormat::Bgr8, 15),
                (PixelFormat::Bgr8, 16),
                (PixelFormat::Rgb8, 15),
                (PixelFormat::Rgb8, 20),
                (PixelFormat::Gray8, 5),
                (PixelFormat::Gray8, 8),
            ] {
                let image = known(format, stride).to_rgb_image();
                assert_eq!(image.dimensions(), (5, 3));
                for (x, y, px) in image.enumerate_pixels() {
                    let want = match format {
                        PixelFormat::Gray8 => [rgb_at(x, y)[0]; 3],
                        _ => rgb_at(x, y),
                    };
                    assert_eq!(px.0, want, "{format} stride {stride} at ({x}, {y})");
                }
            }
        }

        #[test]
        fn views_exist_only_where_image_can_express_the_layout() {
            match known(PixelFormat::Rgb8, 15).as_image_view() {
                Some(ImageView::Rgb(view)) => assert_eq!(view.get_pixel(4, 2).0, rgb_at(4, 2)),
                other => panic!("{other:?}"),
            }
            match known(PixelFormat::Gray8, 5).as_image_view() {
                Some(ImageView::Gray(view)) => {
                    assert_eq!(view.get_pixel(3, 1).0, [rgb_at(3, 1)[0]])
                }
                other => panic!("{other:?}"),
            }
            assert!(known(PixelFormat::Bgr8, 15).as_image_view().is_none());
            assert!(known(PixelFormat::Rgb8, 16).as_image_view().is_none());
            assert!(known(PixelFormat::Gray8, 8).as_image_view().is_none());
        }

        #[test]
        fn save_writes_what_the_extension_names_and_reads_back() {
            let dir = std::env::temp_dir().join(format!("rtsp-stream-save-{}", std::process::id()));
            std::fs::create_dir_all(&dir).unwrap();
            let png = dir.join("frame.png");
            known(PixelFormat::Bgr8, 16).save(&png).unwrap();
            let back = ::image::open(&png).unwrap().to_rgb8();
            assert_eq!(back.get_pixel(4, 2).0, rgb_at(4, 2));
            let gray = dir.join("gray.png");
            known(PixelFormat::Gray8, 8).save(&gray).unwrap();
            let back = ::image::open(&gray).unwrap();
            assert_eq!(back.color(), ::image::ColorType::L8);
            assert_eq!(back.to_luma8().get_pixel(2, 2).0, [rgb_at(2, 2)[0]]);
            let jpeg = dir.join("frame.jpg");
            known(PixelFormat::Rgb8, 15).save(&jpeg).unwrap();
            assert_eq!(::image::open(&jpeg).unwrap().width(), 5);
            assert!(
                known(PixelFormat::Rgb8, 15)
                    .save(dir.join("frame.xyz"))
                    .is_err()
            );
            std::fs::remove_dir_all(&dir).unwrap();
        }
    }

    #[cfg(feature = "ndarray")]
    #[test]
    fn the_ndarray_view_walks_padding_by_strides() {
        let frame = known(PixelFormat::Bgr8, 16);
        let view = frame.as_ndarray();
        assert_eq!(view.shape(), [3, 5, 3]);
        assert_eq!(view.strides(), [16, 3, 1]);
        assert_eq!(view[[2, 4, 0]], rgb_at(4, 2)[2], "blue first in BGR8");
        assert_eq!(view[[2, 4, 2]], rgb_at(4, 2)[0]);
        assert_eq!(view.as_ptr(), frame.data().as_ptr(), "no copy");
        let gray = known(PixelFormat::Gray8, 8);
        let view = gray.as_ndarray();
        assert_eq!(view.shape(), [3, 5, 1]);
        assert_eq!(view[[1, 3, 0]], rgb_at(3, 1)[0]);
    }
}
