//! The colour description an H.264 stream declares in its SPS (VUI), for decoders that do not
//! report it (openh264).

use h264_reader::nal::sps::SeqParameterSet;
use h264_reader::nal::{Nal, RefNal};
use rtsp_stream_core::raw::{YuvMatrix, YuvRange, annex_b_units};

/// The range and matrix of a stream, as its SPS declares them; limited range and no matrix
/// (the core's rule by height) where it says nothing.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub(crate) struct Colour {
    pub range: YuvRange,
    pub matrix: Option<YuvMatrix>,
}

impl Colour {
    /// From an SPS NAL unit (header byte first, no start code); the default if it does not
    /// parse.
    pub(crate) fn from_h264_sps(nal: &[u8]) -> Colour {
        if nal.is_empty() {
            return Colour::default();
        }
        let Ok(sps) = SeqParameterSet::from_bits(RefNal::new(nal, &[], true).rbsp_bits()) else {
            return Colour::default();
        };
        let Some(signal) = sps.vui_parameters.and_then(|v| v.video_signal_type) else {
            return Colour::default();
        };
        Colour {
            range: if signal.video_full_range_flag {
                YuvRange::Full
            } else {
                YuvRange::Limited
            },
            // H.273 matrix coefficients: 1 BT.709; 5, 6 BT.601; 9, 10 BT.2020; the rest (2:
            // unspecified) leave it to the rule by height.
            matrix: signal
                .colour_description
                .and_then(|c| match c.matrix_coefficients {
                    1 => Some(YuvMatrix::Bt709),
                    5 | 6 => Some(YuvMatrix::Bt601),
                    9 | 10 => Some(YuvMatrix::Bt2020),
                    _ => None,
                }),
        }
    }
}

/// Whether an H.264 SPS rules out pictures shown out of decoding order (B-frames): a
/// Baseline stream, or a VUI that limits reordering to none. `false` when it does not say.
pub(crate) fn h264_sps_rules_out_reordering(nal: &[u8]) -> bool {
    if nal.is_empty() {
        return false;
    }
    let Ok(sps) = SeqParameterSet::from_bits(RefNal::new(nal, &[], true).rbsp_bits()) else {
        return false;
    };
    let baseline = u8::from(sps.profile_idc) == 66;
    let none_reordered = sps
        .vui_parameters
        .and_then(|v| v.bitstream_restrictions)
        .is_some_and(|b| b.max_num_reorder_frames == 0);
    baseline || none_reordered
}

/// The picture size the H.264 SPS units inside an access unit (Annex B) declare, the largest
/// if there are several: what a decoder would allocate for. `None` without a readable SPS.
pub(crate) fn declared_size(unit: &[u8]) -> Option<(u32, u32)> {
    annex_b_units(unit)
        .filter(|nal| nal.first().is_some_and(|b| b & 0x1f == 7))
        .filter_map(|nal| {
            let sps = SeqParameterSet::from_bits(RefNal::new(nal, &[], true).rbsp_bits()).ok()?;
            sps.pixel_dimensions().ok()
        })
        .max_by_key(|&(w, h)| u64::from(w) * u64::from(h))
}
