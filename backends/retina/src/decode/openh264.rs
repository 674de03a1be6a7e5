//! openh264 (bundled source): H.264 access units into I420 pictures.

use super::Decoded;
use crate::colour::Colour;
use crate::error::RetinaError;
use openh264::OpenH264API;
use openh264::decoder::{DecodeOptions, Decoder, DecoderConfig, Flush};
use openh264::formats::YUVSource;
use rtsp_stream_core::raw::{CaptureContext, FrameSink, Plane, YuvLayout, YuvPicture};

pub(crate) struct OpenH264 {
    decoder: Decoder,
    /// Whether pictures may come out of decoding order (B-frames): until the stream rules it
    /// out, openh264 keeps each picture until the next unit, a frame interval of delay.
    pub(crate) may_reorder: bool,
}

impl OpenH264 {
    pub(crate) fn new() -> Result<Self, RetinaError> {
        // No flush after each access unit by default: that would hand out a picture before a
        // later one that precedes it (B-frames). Streams that rule B-frames out are flushed
        // per unit (`may_reorder`): openh264 would otherwise hold each picture of a High
        // profile stream until the next unit, and the one before a wait for a key frame
        // until that key frame, a second later.
        let config = DecoderConfig::new().flush_after_decode(Flush::NoFlush);
        let decoder =
            Decoder::with_api_config(OpenH264API::from_source(), config).map_err(|e| {
                RetinaError::Undecodable {
                    what: format!("H.264 (the decoder did not start: {e})"),
                    decoder: "openh264",
                    hint: "the libavcodec decoder (feature `ffmpeg`) is the alternative",
                }
            })?;
        Ok(OpenH264 {
            decoder,
            may_reorder: true,
        })
    }

    pub(crate) fn decode(
        &mut self,
        unit: &[u8],
        colour: Colour,
        sink: &mut FrameSink<'_>,
        ctx: &CaptureContext,
    ) -> Result<Decoded, RetinaError> {
        let flush = if self.may_reorder {
            Flush::NoFlush
        } else {
            Flush::Flush
        };
        let options = DecodeOptions::new().flush_after_decode(flush);
        let picture = match self.decoder.decode_with_options(unit, options) {
            Ok(Some(picture)) => picture,
            Ok(None) => return Ok(Decoded::Nothing),
            Err(e) => return Ok(Decoded::Damaged(e.to_string())),
        };
        if !ctx.should_convert() {
            return Ok(Decoded::NotConverted);
        }
        let (w, h) = picture.dimensions();
        let (y_stride, u_stride, v_stride) = picture.strides();
        let yuv = YuvPicture {
            width: w as u32,
            height: h as u32,
            layout: YuvLayout::I420 {
                y: Plane::new(picture.y(), y_stride),
                u: Plane::new(picture.u(), u_stride),
                v: Plane::new(picture.v(), v_stride),
            },
            // openh264 says nothing of the colour description: the SPS's, else the core's rule.
            range: colour.range,
            matrix: colour.matrix,
        };
        yuv.write_into(sink)?;
        Ok(Decoded::Picture {
            width: w as u32,
            height: h as u32,
        })
    }
}

/// `Ok` for the H.264 profiles openh264 decodes (from the RFC 6381 codec string,
/// `avc1.PPCCLL`); else the permanent error that names libavcodec.
pub(crate) fn check_profile(profile: Option<&str>) -> Result<(), RetinaError> {
    let Some(idc) = profile
        .and_then(|p| p.strip_prefix("avc1."))
        .and_then(|p| p.get(..2))
        .and_then(|pp| u8::from_str_radix(pp, 16).ok())
    else {
        return Ok(());
    };
    match idc {
        // Baseline / Constrained Baseline, Main, Extended, High.
        66 | 77 | 88 | 100 => Ok(()),
        other => Err(RetinaError::Undecodable {
            what: format!("H.264 profile {} ({other})", profile_name(other)),
            decoder: "openh264",
            hint: "the libavcodec decoder (RetinaDecoder::Libavcodec, feature `ffmpeg`) \
                   decodes it",
        }),
    }
}

fn profile_name(idc: u8) -> &'static str {
    match idc {
        110 => "High 10",
        122 => "High 4:2:2",
        244 => "High 4:4:4 Predictive",
        44 => "CAVLC 4:4:4 Intra",
        _ => "other",
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use rtsp_stream_core::{Error, ErrorKind};

    #[test]
    fn profiles_beyond_8_bit_4_2_0_are_refused_with_the_way_out() {
        for ok in [
            None,
            Some("avc1.42C01E"),
            Some("avc1.4D401F"),
            Some("avc1.640028"),
        ] {
            assert!(check_profile(ok).is_ok(), "{ok:?}");
        }
        for (refused, name) in [("avc1.6E0028", "High 10"), ("avc1.7A0028", "High 4:2:2")] {
            let e: Error = check_profile(Some(refused)).unwrap_err().into();
            assert_eq!(e.kind(), ErrorKind::Unsupported);
            assert!(e.to_string().contains(name), "{e}");
            assert!(e.to_string().contains("libavcodec"), "{e}");
        }
    }
}
