//! The GStreamer backend against the shared conformance suite (real RTSP server on loopback,
//! fault proxy).

use rtsp_stream_core::CaptureBackend;
use rtsp_stream_gstreamer::{GstreamerBackend, GstreamerConfig};

rtsp_stream_testkit::conformance_tests!(GstreamerBackend, GstreamerConfig::default());

/// With `videoconvert` converting (the core's conversion off): the pictures, where the two
/// paths differ. videoconvert rounds its own way, 4 levels off one bar (measured, BT.601 and
/// BT.709 alike), where swscale and the core's conversion stay within 2: the backend declares
/// a wider tolerance for that configuration.
mod videoconvert {
    use super::*;

    fn config() -> GstreamerConfig {
        let mut config = GstreamerConfig::default();
        config.core_conversion = false;
        config
    }

    #[test]
    fn colours_follow_the_declared_matrix() {
        rtsp_stream_testkit::conformance::colours_follow_the_declared_matrix::<GstreamerBackend>(
            &config(),
            GstreamerBackend::describe(&config()).abilities,
        );
    }

    #[test]
    fn first_frame_and_pixel_formats() {
        rtsp_stream_testkit::conformance::first_frame_and_pixel_formats::<GstreamerBackend>(
            &config(),
            GstreamerBackend::describe(&config()).abilities,
        );
    }
}

/// Six cameras in one group, two of them failing (a cut, a blackhole): the others go on.
#[test]
fn group_rides_out_faults() {
    let report = rtsp_stream_testkit::conformance::group_rides_out_faults::<GstreamerBackend>(
        &GstreamerConfig::default(),
    );
    println!("figure: group under faults: {}", report.summary());
}
