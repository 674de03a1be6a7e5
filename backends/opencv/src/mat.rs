//! Frames as OpenCV `Mat`s: a copy that is yours, or a view whose lifetime you keep.

use opencv::boxed_ref::BoxedRef;
use opencv::core::{CV_8UC1, CV_8UC3, Mat};
use opencv::prelude::*;
use rtsp_stream_core::{Frame, PixelFormat};

/// A [`Frame`] as an OpenCV `Mat`: [`to_mat`](FrameAsMat::to_mat) copies (safe, the `Mat`
/// is yours), [`as_mat`](FrameAsMat::as_mat) borrows without a copy (`unsafe`: see its
/// contract).
pub trait FrameAsMat {
    /// The frame's pixels copied into a new `Mat` of its own: `CV_8UC3` for BGR8 and RGB8
    /// (channel order as delivered: BGR8 is what OpenCV functions expect), `CV_8UC1` for
    /// GRAY8, rows packed. Every OpenCV call on it is as safe as on any `Mat`.
    fn to_mat(&self) -> opencv::Result<Mat>;

    /// The frame's pixels as a `Mat` header over its bytes — no copy — with the frame's row
    /// step.
    ///
    /// # Safety
    ///
    /// OpenCV lets safe calls on a `Mat` make new `Mat`s, `UMat`s or views that share its
    /// buffer and are not tied to any Rust lifetime (`t()`, `inv()`, `mul()` and other matrix
    /// expressions, `get_umat()`, `row()`, `roi()`, `clone` of a header …). Nothing that
    /// shares the frame's bytes may outlive the frame: the caller keeps every such object
    /// (and every expression evaluated from it) within the frame's lifetime, and writes
    /// through none of them (the frame is shared with other readers and the stream's pool).
    /// When in doubt, use [`to_mat`](Self::to_mat).
    unsafe fn as_mat(&self) -> opencv::Result<BoxedRef<'_, Mat>>;
}

fn mat_type(frame: &Frame) -> i32 {
    match frame.pixel_format() {
        PixelFormat::Gray8 => CV_8UC1,
        _ => CV_8UC3,
    }
}

impl FrameAsMat for Frame {
    fn to_mat(&self) -> opencv::Result<Mat> {
        // SAFETY: the caller's contract of `as_mat` holds here: the view lives only until the
        // copy below is made, and nothing writes through it.
        let view = unsafe { self.as_mat() }?;
        view.try_clone()
    }

    unsafe fn as_mat(&self) -> opencv::Result<BoxedRef<'_, Mat>> {
        let (rows, cols) = (self.height() as i32, self.width() as i32);
        // SAFETY: the header points into `self.data()`, which holds `height` rows of
        // `stride` bytes (≥ width × channels): every element the Mat can address is inside
        // it. The returned `BoxedRef` borrows `self`; what OpenCV derives from it is the
        // caller's to keep within the frame's lifetime (the function's contract).
        let mat = unsafe {
            Mat::new_rows_cols_with_data_unsafe(
                rows,
                cols,
                mat_type(self),
                self.data().as_ptr().cast_mut().cast(),
                self.stride(),
            )
        }?;
        Ok(BoxedRef::from(mat))
    }
}
