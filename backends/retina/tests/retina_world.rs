//! The retina backend in the compatibility matrix's conditions (firmware quirks, impaired
//! networks), with each of its decoders.

use rtsp_stream_retina::{RetinaBackend, RetinaConfig};

mod openh264 {
    use super::*;
    rtsp_stream_testkit::world_tests!(RetinaBackend, RetinaConfig::default());
}

#[cfg(feature = "ffmpeg")]
mod libavcodec {
    use super::*;
    use rtsp_stream_retina::RetinaDecoder;
    rtsp_stream_testkit::world_tests!(
        RetinaBackend,
        RetinaConfig::with_decoder(RetinaDecoder::Libavcodec)
    );
}
