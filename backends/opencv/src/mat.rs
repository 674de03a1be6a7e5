//! Frames as OpenCV `Mat`s, without a copy.

use opencv::boxed_ref::BoxedRef;
use opencv::core::{CV_8UC1, CV_8UC3, Mat};
use rtsp_stream_core::{Frame, PixelFormat};

/// A [`Frame`] seen as an OpenCV `Mat`: [`as_mat`](FrameAsMat::as_mat).
pub trait FrameAsMat {
    /// The frame's pixels as a `Mat` header over its bytes — no copy: `CV_8UC3` for BGR8 and
    /// RGB8 (channel order as delivered: BGR8 is what OpenCV functions expect), `CV_8UC1` for
    /// GRAY8, with the frame's row step. The `Mat` borrows the frame and is read-only; clone
    /// it (`try_clone`) to keep pixels beyond the frame.
    fn as_mat(&self) -> opencv::Result<BoxedRef<'_, Mat>>;
}

impl FrameAsMat for Frame {
    fn as_mat(&self) -> opencv::Result<BoxedRef<'_, Mat>> {
        let typ = match self.pixel_format() {
            PixelFormat::Gray8 => CV_8UC1,
            _ => CV_8UC3,
        };
        let (rows, cols) = (self.height() as i32, self.width() as i32);
        // SAFETY: the header points into `self.data()`, which holds `height` rows of
        // `stride` bytes (≥ width × channels): every element the Mat can address is inside
        // it. The returned `BoxedRef` borrows `self`, so the bytes outlive the header; it
        // gives only shared access, and a published frame is never written again, so nothing
        // writes through the `*mut` OpenCV's constructor asks for.
        let mat = unsafe {
            Mat::new_rows_cols_with_data_unsafe(
                rows,
                cols,
                typ,
                self.data().as_ptr().cast_mut().cast(),
                self.stride(),
            )
        }?;
        Ok(BoxedRef::from(mat))
    }
}
