//! The GStreamer backend against the shared conformance suite (real RTSP server on loopback,
//! fault proxy).

use rtsp_stream_gstreamer::{GstreamerBackend, GstreamerConfig};

rtsp_stream_testkit::conformance_tests!(GstreamerBackend, GstreamerConfig::default());
