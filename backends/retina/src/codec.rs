//! The codecs this backend knows, by the name the session description gives them.

/// The codecs this backend knows how to hand to a decoder.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum VideoCodec {
    H264,
    H265,
    Mjpeg,
}

impl VideoCodec {
    pub(crate) fn from_encoding(name: &str) -> Option<Self> {
        match name.to_ascii_lowercase().as_str() {
            "h264" => Some(VideoCodec::H264),
            "h265" => Some(VideoCodec::H265),
            "jpeg" => Some(VideoCodec::Mjpeg),
            _ => None,
        }
    }

    /// The stream's name for the codec (as every backend reports it).
    pub(crate) fn name(self) -> &'static str {
        match self {
            VideoCodec::H264 => "h264",
            VideoCodec::H265 => "hevc",
            VideoCodec::Mjpeg => "mjpeg",
        }
    }
}
