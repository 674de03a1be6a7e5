//! The GStreamer backend in the compatibility matrix's conditions (firmware quirks, impaired
//! networks).

use rtsp_stream_gstreamer::{GstreamerBackend, GstreamerConfig};

rtsp_stream_testkit::world_tests!(GstreamerBackend, GstreamerConfig::default());
