//! An open `VideoCapture`: reading frames straight into the lent buffer.

use crate::error::OcvError;
use opencv::core::Mat;
use opencv::imgproc;
use opencv::prelude::*;
use opencv::videoio::{self, VideoCapture};
use rtsp_stream_core::raw::{
    Capture, CaptureContext, FilePacer, FrameSink, ReadStatus, codec_name, plausible_fps,
    pts_of_seconds,
};
use rtsp_stream_core::{PixelFormat, Result, StreamProps, Transport};

/// An open OpenCV capture, owned by the capture thread (reachable only as
/// `<OpencvBackend as CaptureBackend>::Capture`).
pub struct OpencvCapture {
    cap: VideoCapture,
    /// A network stream or a camera: a failed read is a lost connection, not the end.
    live: bool,
    /// Files are delivered at their own rate.
    pace: Option<FilePacer>,
    props: StreamProps,
    /// The picture OpenCV decodes into when it cannot write into the lent buffer directly
    /// (another pixel format, or a size not known yet).
    scratch: Mat,
    /// The threads of this capture's decoder (see `ffmpeg_logs`).
    decoder_threads: Vec<i64>,
    /// Frames read so far, up to the end of the start-up, and the decoder's reinitialisations
    /// at its end: every decoding thread says "Reinit context" once as it starts.
    frames_read: u64,
    reinits: Option<u64>,
}

/// Frames after which every decoding thread has started (FFmpeg runs one per core at most).
const STARTUP_FRAMES: u64 = 16;

impl OpencvCapture {
    pub(crate) fn new(
        cap: VideoCapture,
        live: bool,
        pace: bool,
        transport: Option<Transport>,
        decoder_threads: Vec<i64>,
    ) -> Self {
        let get = |prop| cap.get(prop).unwrap_or(0.0);
        let fps = plausible_fps(get(videoio::CAP_PROP_FPS));
        let mut props = StreamProps::new(
            get(videoio::CAP_PROP_FRAME_WIDTH).max(0.0) as u32,
            get(videoio::CAP_PROP_FRAME_HEIGHT).max(0.0) as u32,
        );
        props.fps = fps;
        props.codec = fourcc_codec(get(videoio::CAP_PROP_FOURCC));
        props.transport = transport;
        OpencvCapture {
            cap,
            live,
            pace: pace.then(FilePacer::new),
            props,
            scratch: Mat::default(),
            decoder_threads,
            frames_read: 0,
            reinits: None,
        }
    }

    /// BGR of the size OpenCV announced: decode straight into the lent buffer. Returns
    /// `Some(read ok)`, or `None` when OpenCV wrote elsewhere (the size changed) and the
    /// picture is in `scratch`.
    fn read_in_place(&mut self, sink: &mut FrameSink<'_>) -> Result<Option<bool>, OcvError> {
        let (w, h) = (self.props.width, self.props.height);
        let buffer = sink.buffer(w, h)?;
        let at = buffer.as_ptr();
        let mut flat = Mat::new_rows_cols_with_data_mut::<u8>(h as i32, w as i32 * 3, buffer)?;
        let mut bgr = flat.reshape_mut(3, h as i32)?;
        let ok = self.cap.retrieve(&mut bgr, 0)?;
        if !ok || bgr.data() == at {
            return Ok(Some(ok));
        }
        // OpenCV allocated a picture of another size: keep it and convert from there.
        self.scratch = bgr.try_clone()?;
        Ok(None)
    }

    /// Converts `scratch` (BGR, gray or BGRA, any size) into the lent buffer in the wanted
    /// format, with one imgproc pass writing into the buffer itself.
    fn convert_scratch(&mut self, sink: &mut FrameSink<'_>) -> Result<(), OcvError> {
        let format = sink.pixel_format();
        let (w, h) = (self.scratch.cols(), self.scratch.rows());
        let cn = format.bytes_per_pixel() as i32;
        let code = match (self.scratch.channels(), format) {
            (3, PixelFormat::Rgb8) => Some(imgproc::COLOR_BGR2RGB),
            (3, PixelFormat::Gray8) => Some(imgproc::COLOR_BGR2GRAY),
            (3, _) => None,
            (1, PixelFormat::Rgb8) => Some(imgproc::COLOR_GRAY2RGB),
            (1, PixelFormat::Gray8) => None,
            (1, _) => Some(imgproc::COLOR_GRAY2BGR),
            (4, PixelFormat::Rgb8) => Some(imgproc::COLOR_BGRA2RGB),
            (4, PixelFormat::Gray8) => Some(imgproc::COLOR_BGRA2GRAY),
            (4, _) => Some(imgproc::COLOR_BGRA2BGR),
            (n, _) => {
                return Err(OcvError::OpenCv(opencv::Error::new(
                    opencv::core::StsUnsupportedFormat,
                    format!("a picture with {n} channels"),
                )));
            }
        };
        let buffer = sink.buffer(w as u32, h as u32)?;
        let mut flat = Mat::new_rows_cols_with_data_mut::<u8>(h, w * cn, buffer)?;
        let mut dst = flat.reshape_mut(cn, h)?;
        match code {
            Some(code) => imgproc::cvt_color(&self.scratch, &mut dst, code, 0)?,
            None => self.scratch.copy_to(&mut dst)?,
        }
        self.props.width = w as u32;
        self.props.height = h as u32;
        Ok(())
    }

    fn read_frame(&mut self, sink: &mut FrameSink<'_>) -> Result<bool, OcvError> {
        self.props.pixel_format = Some(sink.pixel_format());
        let direct = sink.pixel_format() == PixelFormat::Bgr8
            && self.props.width > 0
            && self.props.height > 0;
        if direct && let Some(ok) = self.read_in_place(sink)? {
            return Ok(ok);
        }
        if !direct && !self.cap.retrieve(&mut self.scratch, 0)? {
            return Ok(false);
        }
        self.convert_scratch(sink)?;
        Ok(true)
    }
}

impl OpencvCapture {
    /// OpenCV's position of the frame just grabbed (`CAP_PROP_POS_MSEC`, 0 when unknown).
    fn position(&self) -> Option<std::time::Duration> {
        let position = self.cap.get(videoio::CAP_PROP_POS_MSEC).unwrap_or(0.0);
        (position > 0.0)
            .then(|| pts_of_seconds(position / 1000.0))
            .flatten()
    }
}

/// OpenCV's four-character code as the codec names the other backends report.
fn fourcc_codec(fourcc: f64) -> Option<String> {
    let code = (fourcc as i64 as u32).to_le_bytes();
    let text: String = code
        .iter()
        .filter(|b| b.is_ascii_alphanumeric())
        .map(|&b| b as char)
        .collect();
    (!text.is_empty()).then(|| codec_name(&text))
}

impl Capture for OpencvCapture {
    fn read(&mut self, sink: &mut FrameSink<'_>, ctx: &CaptureContext) -> Result<ReadStatus> {
        // `read` is `grab` (decode) and `retrieve` (convert): a picture over the decode
        // mode's rate is grabbed and not retrieved.
        let live = self.live;
        let ended = || match live {
            true => Err(OcvError::ReadFailed.into()),
            false => Ok(ReadStatus::EndOfStream),
        };
        loop {
            ctx.checkpoint("reading")?;
            if !self.cap.grab().map_err(OcvError::OpenCv)? {
                return ended();
            }
            if ctx.should_convert() {
                break;
            }
            // A file left unconverted still plays at its own rate.
            let pts = self.position();
            if let Some(pace) = &mut self.pace {
                pace.wait(pts, ctx)?;
            }
        }
        if !self.read_frame(sink)? {
            return ended();
        }
        // OpenCV 4.6 keeps converting into the picture size it opened with when a stream's
        // size changes inside its session (its Mat and its width property stay as they were):
        // the frame read is a stale or torn picture. FFmpeg's decoder saying it started again
        // at a new size is the only sign; a new connection opens at the new size.
        self.frames_read += 1;
        let reinits = crate::ffmpeg_logs::decoder_reinits(
            &self.decoder_threads,
            (self.props.width, self.props.height),
        );
        match self.reinits {
            None if self.frames_read >= STARTUP_FRAMES => self.reinits = Some(reinits),
            Some(seen) if reinits != seen => return Err(OcvError::PictureSizeChanged.into()),
            _ => {}
        }
        let pts = self.position();
        sink.set_pts(pts);
        if let Some(pace) = &mut self.pace {
            pace.wait(pts, ctx)?;
        }
        Ok(ReadStatus::Frame)
    }

    fn props(&self) -> StreamProps {
        self.props.clone()
    }

    fn close(&mut self, _ctx: &CaptureContext) {
        let _ = self.cap.release();
    }
}
