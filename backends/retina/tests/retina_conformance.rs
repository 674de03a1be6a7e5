//! The retina backend against the shared conformance suite (real RTSP server on loopback,
//! fault proxy), with each of its decoders. Files are not RTSP, and openh264 decodes H.264
//! only: those scenarios check the refusal instead.

use rtsp_stream_retina::{RetinaBackend, RetinaConfig};

mod openh264 {
    use super::*;
    rtsp_stream_testkit::conformance_tests!(RetinaBackend, RetinaConfig::default());

    #[test]
    fn group_rides_out_faults() {
        let report = rtsp_stream_testkit::conformance::group_rides_out_faults::<RetinaBackend>(
            &RetinaConfig::default(),
        );
        println!("figure: group under faults: {}", report.summary());
    }
}

#[cfg(feature = "ffmpeg")]
mod libavcodec {
    use super::*;
    use rtsp_stream_retina::RetinaDecoder;

    rtsp_stream_testkit::conformance_tests!(
        RetinaBackend,
        RetinaConfig::with_decoder(RetinaDecoder::Libavcodec)
    );
}
