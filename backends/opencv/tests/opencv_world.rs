//! The OpenCV backend in the compatibility matrix's conditions (firmware quirks, impaired
//! networks).

use rtsp_stream_opencv::{OpencvBackend, OpencvConfig};

rtsp_stream_testkit::world_tests!(OpencvBackend, OpencvConfig::default());
