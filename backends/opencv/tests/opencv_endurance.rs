//! 100 drop/reconnect cycles and 3 server restarts: no thread, descriptor or memory leak.
//! A binary of its own, because it measures the whole process.

use rtsp_stream_opencv::{OpencvBackend, OpencvConfig};
use rtsp_stream_testkit::TestServerProcess;

#[test]
fn endurance() {
    TestServerProcess::serve_child_if_requested();
    let report = rtsp_stream_testkit::conformance::endurance::<OpencvBackend>(
        &OpencvConfig::default(),
        "endurance",
    );
    println!("{report:?}");
}
