//! The OpenCV backend against the shared conformance suite (real RTSP server on loopback,
//! fault proxy).
//!
//! OpenCV hides what the other backends report, so four scenarios assert the best available
//! behaviour (its `describe()` declares what it lacks):
//! - `VideoCapture::open` returns false without a reason: a wrong password and an unknown path
//!   are transient failures given up after `max_reconnect_attempts`, not typed errors;
//! - its FFmpeg reader falls back from TCP to UDP by itself (`rtsp_flags=prefer_tcp`) without
//!   telling, and its transport is a process-wide setting: no fallback event, and an explicit
//!   TCP is refused as unsupported;
//! - it opens one source at a time in a process (a global lock around `avformat_open_input`):
//!   a blackholed camera delays the others' first frame by up to its open timeout;
//! - `CAP_PROP_POS_MSEC`, its only time stamp, stays 0 for RTSP: frames carry none.

use rtsp_stream_opencv::{OpencvBackend, OpencvConfig};

rtsp_stream_testkit::conformance_tests!(OpencvBackend, OpencvConfig::default());
