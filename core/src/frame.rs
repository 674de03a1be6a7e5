//! Decoded frames and what is known about a stream.

use crate::camera_time::CameraTime;
use crate::error::{Error, ErrorKind, Result};
use crate::transport::Transport;
use std::fmt;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant, SystemTime};

/// The layout of a frame's bytes. Rows may be padded: see [`Frame::stride`].
#[non_exhaustive]
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub enum PixelFormat {
    /// 8-bit blue, green, red (OpenCV's order; the default).
    #[default]
    Bgr8,
    /// 8-bit red, green, blue.
    Rgb8,
    /// 8-bit luma.
    Gray8,
}

impl PixelFormat {
    /// Bytes per pixel.
    pub fn bytes_per_pixel(self) -> usize {
        match self {
            PixelFormat::Bgr8 | PixelFormat::Rgb8 => 3,
            PixelFormat::Gray8 => 1,
        }
    }

    /// The lower-case name (`"bgr8"`, `"rgb8"`, `"gray8"`).
    pub fn name(self) -> &'static str {
        match self {
            PixelFormat::Bgr8 => "bgr8",
            PixelFormat::Rgb8 => "rgb8",
            PixelFormat::Gray8 => "gray8",
        }
    }
}

impl fmt::Display for PixelFormat {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// What a backend knows about the stream it opened. Unknown values are `None` or 0. Backends
/// start from [`StreamProps::new`] (or `default()`) and set the fields they know.
#[non_exhaustive]
#[derive(Debug, Clone, Default, PartialEq)]
pub struct StreamProps {
    /// Nominal frames per second, when the source declares a plausible one (1–120).
    pub fps: Option<f64>,
    /// Frame width in pixels (0 until known).
    pub width: u32,
    /// Frame height in pixels (0 until known).
    pub height: u32,
    /// Codec name as the decoder reports it (`"h264"`, `"hevc"`, `"mjpeg"` …).
    pub codec: Option<String>,
    /// The pixel format frames are delivered in.
    pub pixel_format: Option<PixelFormat>,
    /// RTSP transport actually in use ([`Transport::Tcp`] or [`Transport::Udp`]), where the
    /// backend knows it.
    pub transport: Option<Transport>,
}

impl StreamProps {
    /// Props of a `width` × `height` stream, nothing else known.
    pub fn new(width: u32, height: u32) -> Self {
        StreamProps {
            width,
            height,
            ..StreamProps::default()
        }
    }
}

/// A decoded frame, shared as `Arc<Frame>` between the stream and its readers.
///
/// Frames are immutable once published. Their buffers return to the stream's pool when every
/// `Arc` to them is dropped, so holding a frame for long only costs one buffer.
pub struct Frame {
    /// Set by the first `read*` that returns the frame: counts frames nobody read. Next to the
    /// `Arc` counters the reader touches anyway, so it costs no extra cache line.
    pub(crate) taken: AtomicBool,
    pub(crate) seq: u64,
    /// The stream that published it (process-unique), so a group tells a re-added camera's
    /// frames from the old one's.
    pub(crate) stream_id: u64,
    pub(crate) generation: u64,
    pub(crate) pts: Option<Duration>,
    pub(crate) camera_time: Option<CameraTime>,
    pub(crate) received_at: SystemTime,
    pub(crate) received_instant: Instant,
    pub(crate) width: u32,
    pub(crate) height: u32,
    pub(crate) stride: usize,
    pub(crate) format: PixelFormat,
    pub(crate) key_frame: Option<bool>,
    pub(crate) data: Vec<u8>,
}

impl Frame {
    pub(crate) fn empty() -> Frame {
        Frame {
            taken: AtomicBool::new(false),
            seq: 0,
            stream_id: 0,
            generation: 0,
            pts: None,
            camera_time: None,
            received_at: SystemTime::UNIX_EPOCH,
            received_instant: Instant::now(),
            width: 0,
            height: 0,
            stride: 0,
            format: PixelFormat::Bgr8,
            key_frame: None,
            data: Vec::new(),
        }
    }

    /// Sequence number: starts at 1 and grows by one per published frame, across reconnects
    /// and across `stop()`/`start()` of the same stream.
    pub fn seq(&self) -> u64 {
        self.seq
    }

    /// The connection this frame came from: 1 for the stream's first connection that opened,
    /// growing by one with each connection that opens (attempts that fail to open take no
    /// number).
    pub fn generation(&self) -> u64 {
        self.generation
    }

    /// Presentation time stamp from the stream, where the backend knows it.
    pub fn pts(&self) -> Option<Duration> {
        self.pts
    }

    /// When the camera captured the picture, on the camera's clock, from the stream's RTCP
    /// sender reports (how, and how old the mapping is, inside). `None` until the camera's
    /// first sender report — real cameras send one about every 5 s, some never — and for a
    /// backend or source without them; never a guess.
    pub fn camera_time(&self) -> Option<CameraTime> {
        self.camera_time
    }

    /// Wall-clock time at which the frame was decoded.
    pub fn received_at(&self) -> SystemTime {
        self.received_at
    }

    /// Monotonic time at which the frame was decoded (from the stream's clock).
    pub fn received_instant(&self) -> Instant {
        self.received_instant
    }

    /// Width in pixels.
    pub fn width(&self) -> u32 {
        self.width
    }

    /// Height in pixels.
    pub fn height(&self) -> u32 {
        self.height
    }

    /// Bytes from the start of one row to the start of the next (≥ width × bytes per pixel).
    pub fn stride(&self) -> usize {
        self.stride
    }

    /// Pixel layout.
    pub fn pixel_format(&self) -> PixelFormat {
        self.format
    }

    /// Whether the frame was decoded from a key frame, where the backend knows it.
    pub fn is_key_frame(&self) -> Option<bool> {
        self.key_frame
    }

    /// The pixel bytes: `height` rows of `stride` bytes.
    pub fn data(&self) -> &[u8] {
        &self.data
    }

    /// One row's pixels, without padding. Panics if `y` ≥ height.
    pub fn row(&self, y: u32) -> &[u8] {
        self.get_row(y).unwrap_or_else(|| {
            panic!(
                "row {y} is outside the {}×{} frame",
                self.width, self.height
            )
        })
    }

    /// One row's pixels, without padding; `None` if `y` ≥ height.
    pub fn get_row(&self, y: u32) -> Option<&[u8]> {
        if y >= self.height {
            return None;
        }
        let start = y as usize * self.stride;
        self.data
            .get(start..start + self.width as usize * self.format.bytes_per_pixel())
    }

    /// The pixel at (x, y): 3 bytes for colour formats, 1 for gray. Panics if (x, y) is
    /// outside the frame.
    pub fn pixel(&self, x: u32, y: u32) -> &[u8] {
        self.get_pixel(x, y).unwrap_or_else(|| {
            panic!(
                "pixel ({x}, {y}) is outside the {}×{} frame",
                self.width, self.height
            )
        })
    }

    /// The pixel at (x, y); `None` if it is outside the frame (x ≥ width or y ≥ height).
    pub fn get_pixel(&self, x: u32, y: u32) -> Option<&[u8]> {
        if x >= self.width {
            return None;
        }
        let bpp = self.format.bytes_per_pixel();
        let start = x as usize * bpp;
        self.get_row(y)?.get(start..start + bpp)
    }
}

impl Frame {
    pub(crate) fn mark_taken(&self) {
        // Load first: a frame read many times is written once.
        if !self.taken.load(Ordering::Relaxed) {
            self.taken.store(true, Ordering::Relaxed);
        }
    }

    pub(crate) fn was_taken(&self) -> bool {
        self.taken.load(Ordering::Relaxed)
    }
}

impl fmt::Debug for Frame {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Frame")
            .field("seq", &self.seq)
            .field("generation", &self.generation)
            .field("width", &self.width)
            .field("height", &self.height)
            .field("stride", &self.stride)
            .field("format", &self.format)
            .field("pts", &self.pts)
            .field("camera_time", &self.camera_time)
            .field("key_frame", &self.key_frame)
            .finish_non_exhaustive()
    }
}

/// `Ok` if a `width` × `height` picture is within `max_pixels`; else the permanent error that
/// names the size and the option.
pub(crate) fn check_frame_size(width: u32, height: u32, max_pixels: u64) -> Result<()> {
    let pixels = u64::from(width) * u64::from(height);
    if pixels <= max_pixels {
        return Ok(());
    }
    Err(Error::new(
        ErrorKind::Unsupported,
        "core",
        format!(
            "a {width}×{height} picture ({pixels} pixels) is larger than max_frame_pixels \
             ({max_pixels}); raise it with VideoStreamBuilder::max_frame_pixels if the stream \
             is meant to be this large"
        ),
    ))
}

/// The buffer the core lends a backend's [`read`](crate::raw::Capture::read).
///
/// A backend writes the decoded picture directly into the bytes it gets from
/// [`buffer`](FrameSink::buffer), in the pixel format the stream asked for
/// ([`pixel_format`](FrameSink::pixel_format)). The buffer is recycled from frames readers
/// have dropped, so it usually has the right size already and nothing is allocated. A
/// backend never hands over a buffer of its own: if its decoder owns the pixels it copies or
/// converts them into this one (the conversion pass usually does that anyway).
pub struct FrameSink<'a> {
    frame: &'a mut Frame,
    wanted: PixelFormat,
    max_pixels: u64,
    filled: bool,
}

impl<'a> FrameSink<'a> {
    pub(crate) fn new(frame: &'a mut Frame, wanted: PixelFormat, max_pixels: u64) -> Self {
        *frame.taken.get_mut() = false;
        frame.pts = None;
        frame.camera_time = None;
        frame.key_frame = None;
        FrameSink {
            frame,
            wanted,
            max_pixels,
            filled: false,
        }
    }

    /// The pixel format the stream wants.
    pub fn pixel_format(&self) -> PixelFormat {
        self.wanted
    }

    /// `Ok` if a `width` × `height` picture is within the stream's
    /// [`max_frame_pixels`](crate::StreamOptions::max_frame_pixels); else the permanent error
    /// that names the size. Backends call it with the size a stream declares (its parameter
    /// sets, its caps) before the decoder allocates for it.
    pub fn check_size(&self, width: u32, height: u32) -> Result<()> {
        check_frame_size(width, height, self.max_pixels)
    }

    /// The stream's [`max_frame_pixels`](crate::StreamOptions::max_frame_pixels), for decoders
    /// that take a limit of their own (libavcodec's `max_pixels`).
    pub fn max_pixels(&self) -> u64 {
        self.max_pixels
    }

    /// A buffer for a `width` × `height` picture with tightly packed rows
    /// (stride = width × bytes per pixel). Its previous content is unspecified. A picture
    /// larger than the stream's [`max_frame_pixels`](crate::StreamOptions::max_frame_pixels)
    /// is a permanent error, before anything is allocated.
    pub fn buffer(&mut self, width: u32, height: u32) -> Result<&mut [u8]> {
        let stride = width as usize * self.wanted.bytes_per_pixel();
        self.buffer_with_stride(width, height, stride)
    }

    /// A buffer for a `width` × `height` picture whose rows start `stride` bytes apart
    /// (for decoders that want aligned rows). A stride shorter than a row is an error.
    pub fn buffer_with_stride(
        &mut self,
        width: u32,
        height: u32,
        stride: usize,
    ) -> Result<&mut [u8]> {
        check_frame_size(width, height, self.max_pixels)?;
        let row = width as usize * self.wanted.bytes_per_pixel();
        let len = stride.checked_mul(height as usize);
        let Some(len) = len.filter(|_| stride >= row) else {
            return Err(Error::new(
                ErrorKind::Other,
                "core",
                format!("a stride of {stride} bytes does not hold a row of {width} pixels"),
            ));
        };
        if self.frame.data.len() != len {
            // Grows only when the resolution grows; a recycled buffer of the same size is
            // reused as it is.
            self.frame.data.resize(len, 0);
        }
        self.frame.width = width;
        self.frame.height = height;
        self.frame.stride = stride;
        self.frame.format = self.wanted;
        self.filled = true;
        Ok(&mut self.frame.data)
    }

    /// Sets the presentation time stamp.
    pub fn set_pts(&mut self, pts: Option<Duration>) {
        self.frame.pts = pts;
    }

    /// Sets when the camera captured the picture (see [`Frame::camera_time`]).
    pub fn set_camera_time(&mut self, camera_time: Option<CameraTime>) {
        self.frame.camera_time = camera_time;
    }

    /// Marks whether the frame was decoded from a key frame.
    pub fn set_key_frame(&mut self, key_frame: bool) {
        self.frame.key_frame = Some(key_frame);
    }

    pub(crate) fn is_filled(&self) -> bool {
        self.filled
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pixels_and_rows_outside_the_frame_are_refused() {
        let mut frame = Frame::empty();
        frame.width = 2;
        frame.height = 2;
        frame.stride = 8;
        frame.data = (0..16).collect();
        assert_eq!(frame.pixel(1, 1), &[11, 12, 13]);
        // (width, 0) used to be the padding, and (0, 1) of a packed frame.
        assert_eq!(frame.get_pixel(2, 0), None);
        assert_eq!(frame.get_pixel(0, 2), None);
        assert_eq!(frame.get_row(2), None);
        assert_eq!(frame.row(1), &[8, 9, 10, 11, 12, 13]);
        let panic = std::panic::catch_unwind(|| frame.pixel(2, 0).to_vec()).unwrap_err();
        let message = panic.downcast_ref::<String>().unwrap();
        assert!(
            message.contains("(2, 0) is outside the 2×2 frame"),
            "{message}"
        );
    }
}
