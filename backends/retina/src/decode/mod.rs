//! Access units into pictures: openh264 or libavcodec, one access unit in, the picture out at
//! once, converted into the lent buffer by the core.

#[cfg(feature = "ffmpeg")]
mod libav;
mod openh264;

use crate::RetinaDecoder;
use crate::codec::VideoCodec;
use crate::colour::Colour;
use crate::error::RetinaError;
use rtsp_stream_core::raw::{CaptureContext, FrameSink};

/// What one access unit gave.
pub(crate) enum Decoded {
    /// A picture, written into the sink.
    Picture { width: u32, height: u32 },
    /// A picture the decode mode does not publish (over `MaxRate`): decoded, not converted.
    NotConverted,
    /// Nothing yet (the decoder needs more, e.g. parameter sets alone).
    Nothing,
    /// The access unit could not be decoded: skip to the next key frame.
    Damaged(String),
}

/// The decoder of one connection.
pub(crate) enum Decoder {
    OpenH264(openh264::OpenH264),
    #[cfg(feature = "ffmpeg")]
    Libav(libav::Libav),
}

impl Decoder {
    /// The decoder of `kind` for `codec`, refusing pictures over `max_pixels` where it can
    /// (libavcodec's `max_pixels`; openh264 has no such limit, its units are checked before).
    pub(crate) fn new(
        kind: RetinaDecoder,
        codec: VideoCodec,
        max_pixels: u64,
    ) -> Result<Self, RetinaError> {
        #[cfg(not(feature = "ffmpeg"))]
        let _ = (codec, max_pixels);
        match kind {
            RetinaDecoder::OpenH264 => Ok(Decoder::OpenH264(openh264::OpenH264::new()?)),
            #[cfg(feature = "ffmpeg")]
            RetinaDecoder::Libavcodec => Ok(Decoder::Libav(libav::Libav::new(codec, max_pixels)?)),
        }
    }

    /// Tells the decoder whether the stream's parameters rule out pictures shown out of
    /// decoding order (see `colour::h264_sps_rules_out_reordering`). libavcodec reads that
    /// from the stream itself.
    pub(crate) fn set_reordering_ruled_out(&mut self, ruled_out: bool) {
        match self {
            Decoder::OpenH264(d) => d.may_reorder = !ruled_out,
            #[cfg(feature = "ffmpeg")]
            Decoder::Libav(_) => {}
        }
    }

    /// Decodes one complete access unit (Annex B, parameter sets before each key frame) into
    /// `sink`, if `ctx` says to convert it (its decode mode). `colour` is what the stream's
    /// parameters declare, for a decoder that does not say.
    pub(crate) fn decode(
        &mut self,
        unit: &[u8],
        colour: Colour,
        sink: &mut FrameSink<'_>,
        ctx: &CaptureContext,
    ) -> Result<Decoded, RetinaError> {
        match self {
            Decoder::OpenH264(d) => d.decode(unit, colour, sink, ctx),
            #[cfg(feature = "ffmpeg")]
            Decoder::Libav(d) => d.decode(unit, colour, sink, ctx),
        }
    }
}

/// The codec, if `decoder` can decode it (and, for openh264, the H.264 profile); else the
/// permanent error naming the decoder that could.
pub(crate) fn check_decodable(
    decoder: RetinaDecoder,
    codec: Option<VideoCodec>,
    encoding: &str,
    profile: Option<&str>,
) -> Result<VideoCodec, RetinaError> {
    let Some(codec) = codec else {
        return Err(RetinaError::Undecodable {
            what: format!("the codec {encoding:?}"),
            decoder: decoder.name(),
            hint: "the ffmpeg or gstreamer backend may decode it",
        });
    };
    match decoder {
        RetinaDecoder::OpenH264 => match codec {
            VideoCodec::H264 => {
                openh264::check_profile(profile)?;
                Ok(codec)
            }
            _ => Err(RetinaError::Undecodable {
                what: format!("{} video", codec.name()),
                decoder: decoder.name(),
                hint: "the libavcodec decoder (RetinaDecoder::Libavcodec, feature `ffmpeg`) \
                       decodes it",
            }),
        },
        #[cfg(feature = "ffmpeg")]
        RetinaDecoder::Libavcodec => Ok(codec),
    }
}
