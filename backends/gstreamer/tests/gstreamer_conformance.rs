//! The GStreamer backend against the shared conformance suite (real RTSP server on loopback,
//! fault proxy).

use rtsp_stream_gstreamer::{GstreamerBackend, GstreamerConfig};
use rtsp_stream_testkit::conformance::Abilities;

rtsp_stream_testkit::conformance_tests!(
    GstreamerBackend,
    GstreamerConfig::default(),
    Abilities::ALL
);

/// With `videoconvert` converting (the core's conversion off): the pictures, where the two
/// paths differ. videoconvert rounds its own way, 4 levels off one bar (measured, BT.601 and
/// BT.709 alike), where swscale and the core's conversion stay within 2.
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
            Abilities {
                colour_tolerance: 5,
                ..Abilities::ALL
            },
        );
    }

    #[test]
    fn first_frame_and_pixel_formats() {
        rtsp_stream_testkit::conformance::first_frame_and_pixel_formats::<GstreamerBackend>(
            &config(),
            Abilities::ALL,
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
