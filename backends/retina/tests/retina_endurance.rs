//! 100 drop/reconnect cycles and 3 server restarts, and 30 attempts against peers that answer
//! too slowly or without end: no thread, descriptor or memory leak. A binary of its own,
//! because it measures the whole process.

use rtsp_stream_retina::{RetinaBackend, RetinaConfig};

rtsp_stream_testkit::endurance_test!(RetinaBackend, RetinaConfig::default());
