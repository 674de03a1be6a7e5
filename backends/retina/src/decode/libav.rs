//! libavcodec through ffmpeg-next's decoder only (no libavformat, no parser): each complete
//! access unit is sent as one packet and its picture received at once.

use super::Decoded;
use crate::codec::VideoCodec;
use crate::colour::Colour;
use crate::error::RetinaError;
use ffmpeg_next::format::Pixel;
use ffmpeg_next::util::color;
use ffmpeg_next::util::error::EAGAIN;
use ffmpeg_next::{Packet, codec, frame};
use rtsp_stream_core::raw::{
    CaptureContext, FrameSink, Plane, YuvLayout, YuvMatrix, YuvPicture, YuvRange,
};

pub(crate) struct Libav {
    decoder: codec::decoder::Video,
    picture: frame::Video,
    codec: VideoCodec,
}

impl Libav {
    pub(crate) fn new(codec: VideoCodec, max_pixels: u64) -> Result<Self, RetinaError> {
        let id = match codec {
            VideoCodec::H264 => codec::Id::H264,
            VideoCodec::H265 => codec::Id::HEVC,
            VideoCodec::Mjpeg => codec::Id::MJPEG,
        };
        let refused = |why: String| RetinaError::Undecodable {
            what: format!("{} ({why})", codec.name()),
            decoder: "libavcodec",
            hint: "this libavcodec lacks the decoder; the gstreamer backend may have it",
        };
        route_logs();
        let found = codec::decoder::find(id).ok_or_else(|| refused("no decoder".into()))?;
        let mut context = codec::context::Context::new_with_codec(found);
        // libavcodec's own limit, a second line behind the parameter sets checked before each
        // key frame: it refuses a larger picture before allocating for it.
        // SAFETY: a plain field of a context not opened yet.
        unsafe {
            (*context.as_mut_ptr()).max_pixels = max_pixels.min(i64::MAX as u64) as i64;
        }
        // One thread: frame threading holds each picture back by a frame per extra thread.
        context.set_threading(codec::threading::Config {
            kind: codec::threading::Type::Slice,
            count: 1,
            ..Default::default()
        });
        // Not LOW_DELAY: it would hand out B-frame streams in decoding order. A stream
        // without B-frames comes out at once anyway (its SPS says nothing is reordered).
        let decoder = context
            .decoder()
            .video()
            .map_err(|e| refused(e.to_string()))?;
        Ok(Libav {
            decoder,
            picture: frame::Video::empty(),
            codec,
        })
    }

    pub(crate) fn decode(
        &mut self,
        unit: &[u8],
        colour: Colour,
        sink: &mut FrameSink<'_>,
        ctx: &CaptureContext,
    ) -> Result<Decoded, RetinaError> {
        match self.decoder.send_packet(&Packet::copy(unit)) {
            Ok(()) | Err(ffmpeg_next::Error::Other { errno: EAGAIN }) => {}
            Err(e) => return Ok(Decoded::Damaged(e.to_string())),
        }
        match self.decoder.receive_frame(&mut self.picture) {
            Ok(()) => {}
            Err(ffmpeg_next::Error::Other { errno: EAGAIN }) => return Ok(Decoded::Nothing),
            Err(e) => return Ok(Decoded::Damaged(e.to_string())),
        }
        if self.picture.is_corrupt() {
            return Ok(Decoded::Damaged("a corrupt picture".into()));
        }
        if !ctx.should_convert() {
            return Ok(Decoded::NotConverted);
        }
        self.convert(colour, sink)
    }

    fn convert(&self, declared: Colour, sink: &mut FrameSink<'_>) -> Result<Decoded, RetinaError> {
        let p = &self.picture;
        let (width, height) = (p.width(), p.height());
        let plane = |i: usize| Plane::new(p.data(i), p.stride(i));
        let (layout, full) = match p.format() {
            Pixel::YUV420P | Pixel::YUVJ420P => (
                YuvLayout::I420 {
                    y: plane(0),
                    u: plane(1),
                    v: plane(2),
                },
                p.format() == Pixel::YUVJ420P,
            ),
            Pixel::YUV422P | Pixel::YUVJ422P => (
                YuvLayout::I422 {
                    y: plane(0),
                    u: plane(1),
                    v: plane(2),
                },
                p.format() == Pixel::YUVJ422P,
            ),
            Pixel::YUV444P | Pixel::YUVJ444P => (
                YuvLayout::I444 {
                    y: plane(0),
                    u: plane(1),
                    v: plane(2),
                },
                p.format() == Pixel::YUVJ444P,
            ),
            Pixel::NV12 => (
                YuvLayout::Nv12 {
                    y: plane(0),
                    uv: plane(1),
                },
                false,
            ),
            Pixel::GRAY8 => (YuvLayout::Gray8(plane(0)), false),
            other => {
                return Err(RetinaError::Undecodable {
                    what: format!("{} decoded to {other:?}", self.codec.name()),
                    decoder: "libavcodec",
                    hint: "the ffmpeg backend converts every format with swscale",
                });
            }
        };
        let range = if full || p.color_range() == color::Range::JPEG {
            YuvRange::Full
        } else {
            YuvRange::Limited
        };
        let matrix = match p.color_space() {
            color::Space::BT709 => Some(YuvMatrix::Bt709),
            color::Space::BT470BG | color::Space::SMPTE170M => Some(YuvMatrix::Bt601),
            color::Space::BT2020NCL | color::Space::BT2020CL => Some(YuvMatrix::Bt2020),
            _ => declared.matrix,
        };
        YuvPicture {
            width,
            height,
            layout,
            range,
            matrix,
        }
        .write_into(sink)?;
        Ok(Decoded::Picture { width, height })
    }
}

/// libavcodec's log lines (a damaged unit, a missing reference) to the `log` crate, scrubbed,
/// through the process's one owner of FFmpeg's log, instead of standard error.
fn route_logs() {
    use ffmpeg_next::ffi;
    // SAFETY: the four functions are this crate's libavutil's own.
    unsafe {
        rtsp_stream_ffmpeg_log::route_linked(
            ffi::av_log_set_callback as *const _,
            ffi::av_log_set_level as *const _,
            ffi::av_log_get_level as *const _,
            ffi::av_log_format_line2 as *const _,
        );
    }
}
