//! 100 drop/reconnect cycles and 3 server restarts: no thread, descriptor or memory leak.
//! A binary of its own, because it measures the whole process.

use rtsp_stream_ffmpeg::{FfmpegBackend, FfmpegConfig};
use rtsp_stream_testkit::TestServerProcess;

#[test]
fn endurance() {
    TestServerProcess::serve_child_if_requested();
    let report = rtsp_stream_testkit::conformance::endurance::<FfmpegBackend>(
        &FfmpegConfig::default(),
        "endurance",
    );
    println!("{report:?}");
}
