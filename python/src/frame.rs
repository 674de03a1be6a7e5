//! Frames as Python sees them: `Frame` (a decoded picture with its sequence number and times)
//! and its pixels as NumPy arrays — a read-only view without a copy, or a writable copy.

use numpy::{PyArray3, ToPyArray};
use pyo3::prelude::*;
use pyo3::types::PyDict;
use std::sync::Arc;
use std::time::UNIX_EPOCH;

/// A decoded picture. `array` is a read-only (height, width, channels) view of its pixels,
/// without a copy: the frame's buffer stays the array's for as long as the array lives (it is
/// not reused for later frames meanwhile). `copy()` gives a writable array of your own.
#[pyclass(frozen, module = "rtsp_stream_rs._native")]
pub(crate) struct Frame {
    pub(crate) frame: Arc<rtsp_stream::Frame>,
}

impl Frame {
    pub(crate) fn new(frame: Arc<rtsp_stream::Frame>) -> Self {
        Frame { frame }
    }
}

/// A writable copy of `frame`'s pixels, (height, width, channels), rows packed.
pub(crate) fn copy_of<'py>(
    py: Python<'py>,
    frame: &rtsp_stream::Frame,
) -> Bound<'py, PyArray3<u8>> {
    frame.as_ndarray().to_pyarray(py)
}

impl Frame {
    /// The read-only view of [`Frame::array`], whose base object is `this`.
    pub(crate) fn array_of<'py>(this: Bound<'py, Self>) -> PyResult<Bound<'py, PyArray3<u8>>> {
        let py = this.py();
        let frame = Arc::clone(&this.get().frame);
        let view = frame.as_ndarray();
        // SAFETY: the view's memory is the frame's buffer, kept alive by `this` (it holds an
        // Arc of the frame), which the new array holds as its base object; a frame's bytes
        // never change once published, and the pool reuses a buffer only once every Arc of its
        // frame is gone.
        let array = unsafe { PyArray3::borrow_from_array(&view, this.into_any()) };
        let flags = PyDict::new(py);
        flags.set_item("write", false)?;
        array.call_method("setflags", (), Some(&flags))?;
        Ok(array)
    }
}

#[pymethods]
impl Frame {
    /// Position of the frame in the stream: grows by one per frame, across reconnections.
    #[getter]
    fn seq(&self) -> u64 {
        self.frame.seq()
    }

    /// Which connection delivered it (1 for the first).
    #[getter]
    fn generation(&self) -> u64 {
        self.frame.generation()
    }

    /// The stream's presentation time in seconds, where the source has one.
    #[getter]
    fn pts(&self) -> Option<f64> {
        self.frame.pts().map(|t| t.as_secs_f64())
    }

    /// When the camera captured it, on the camera's clock, as a Unix time in seconds: from
    /// the camera's RTCP sender reports, `None` before the first one (real cameras send one
    /// about every 5 s, some never) and for sources without them.
    #[getter]
    fn camera_time(&self) -> Option<f64> {
        self.frame
            .camera_time()
            .and_then(|c| c.at.duration_since(UNIX_EPOCH).ok())
            .map(|d| d.as_secs_f64())
    }

    /// How [`camera_time`] was obtained: `"sender_reports"` (every report followed),
    /// `"first_sender_report"` (drift not followed), or `None`.
    #[getter]
    fn camera_time_source(&self) -> Option<&'static str> {
        self.frame.camera_time().map(|c| c.source.name())
    }

    /// When it was decoded, as a Unix time in seconds.
    #[getter]
    fn received_at(&self) -> f64 {
        self.frame
            .received_at()
            .duration_since(UNIX_EPOCH)
            .map_or(0.0, |d| d.as_secs_f64())
    }

    #[getter]
    fn width(&self) -> u32 {
        self.frame.width()
    }

    #[getter]
    fn height(&self) -> u32 {
        self.frame.height()
    }

    /// `"bgr"`, `"rgb"` or `"gray"`.
    #[getter]
    fn pixel_format(&self) -> &'static str {
        match self.frame.pixel_format() {
            rtsp_stream::PixelFormat::Rgb8 => "rgb",
            rtsp_stream::PixelFormat::Gray8 => "gray",
            _ => "bgr",
        }
    }

    /// Whether the decoder says it was a key frame (`None`: it does not say).
    #[getter]
    fn is_key_frame(&self) -> Option<bool> {
        self.frame.is_key_frame()
    }

    /// The pixels as a read-only (height, width, channels) `uint8` array, without a copy.
    #[getter]
    fn array<'py>(slf: Bound<'py, Self>) -> PyResult<Bound<'py, PyArray3<u8>>> {
        Frame::array_of(slf)
    }

    /// A writable copy of the pixels, (height, width, channels).
    fn copy<'py>(&self, py: Python<'py>) -> Bound<'py, PyArray3<u8>> {
        copy_of(py, &self.frame)
    }

    /// Where the frame's pixels are in memory (for tests of the zero-copy view).
    fn _buffer_address(&self) -> usize {
        self.frame.data().as_ptr() as usize
    }

    fn __repr__(&self) -> String {
        format!(
            "Frame(seq={}, {}x{} {}, generation={})",
            self.frame.seq(),
            self.frame.width(),
            self.frame.height(),
            self.pixel_format(),
            self.frame.generation()
        )
    }
}
