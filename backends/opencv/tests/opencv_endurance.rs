//! 100 drop/reconnect cycles and 3 server restarts, and 30 attempts against peers that answer
//! too slowly or without end: no thread, descriptor or memory leak. A binary of its own,
//! because it measures the whole process.

use rtsp_stream_opencv::{OpencvBackend, OpencvConfig};

rtsp_stream_testkit::endurance_test!(OpencvBackend, OpencvConfig::default());
