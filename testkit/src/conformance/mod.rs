//! The conformance suite: scenarios every network backend passes (and files too), run through
//! [`VideoStream`](rtsp_stream_core::VideoStream) (the real reconnect loop, not the backend
//! alone) against a real RTSP server on loopback and through a fault proxy.
//!
//! A backend crate runs all of them with one macro in a test file:
//!
//! ```ignore
//! rtsp_stream_testkit::conformance_tests!(FfmpegBackend, FfmpegConfig::default());
//! ```
//!
//! Network scenarios take a process-wide lock, so they run one at a time on small streams
//! (320×240, 15 fps, a key frame every half second) and hold on two busy cores. Every
//! assertion waits on a condition with a deadline; none sleeps for a fixed time to let
//! something happen.

mod endurance;
mod helpers;
mod scenarios;

pub use endurance::{EnduranceReport, endurance};
pub use helpers::{EventRecorder, StderrLogger, serial, settle, wait_until};
pub use scenarios::*;

/// Generates the endurance test of `$backend` with `$config`: a `#[test] fn endurance()` that
/// runs [`endurance`] (the test binary must hold nothing else: it measures the whole process).
#[macro_export]
macro_rules! endurance_test {
    ($backend:ty, $config:expr) => {
        #[test]
        fn endurance() {
            $crate::TestServerProcess::serve_child_if_requested();
            let report = $crate::conformance::endurance::<$backend>(&$config, "endurance");
            println!("{report:?}");
        }
    };
}

/// Generates one `#[test]` per conformance scenario for `$backend` with `$config`
/// (an expression evaluated in each test), optionally with the backend's
/// [`Abilities`](scenarios::Abilities) (default: all). The test names start with
/// `conformance_`.
#[macro_export]
macro_rules! conformance_tests {
    ($backend:ty, $config:expr) => {
        $crate::conformance_tests!($backend, $config, $crate::conformance::Abilities::ALL);
    };
    ($backend:ty, $config:expr, $abilities:expr) => {
        #[test]
        fn conformance_first_frame_and_pixel_formats() {
            $crate::conformance::first_frame_and_pixel_formats::<$backend>(&$config, $abilities);
        }
        #[test]
        fn conformance_joining_mid_stream_starts_at_a_decodable_frame() {
            $crate::conformance::joining_mid_stream_starts_at_a_decodable_frame::<$backend>(
                &$config,
            );
        }
        #[test]
        fn conformance_large_pictures_decode_cleanly() {
            $crate::conformance::large_pictures_decode_cleanly::<$backend>(&$config);
        }
        #[test]
        fn conformance_other_codecs_decode() {
            $crate::conformance::other_codecs_decode::<$backend>(&$config);
        }
        #[test]
        fn conformance_file_plays_at_its_own_rate_and_ends() {
            $crate::conformance::file_plays_at_its_own_rate_and_ends::<$backend>(
                &$config,
                ::std::path::Path::new(env!("CARGO_TARGET_TMPDIR")),
            );
        }
        #[test]
        fn conformance_missing_file_is_not_found() {
            $crate::conformance::missing_file_is_not_found::<$backend>(&$config);
        }
        #[test]
        fn conformance_props_match_the_server() {
            $crate::conformance::props_match_the_server::<$backend>(&$config);
        }
        #[test]
        fn conformance_server_restart_reconnects() {
            let took = $crate::conformance::server_restart_reconnects::<$backend>(&$config);
            println!("figure: first frame {took:?} after the server restarted");
        }
        #[test]
        fn conformance_blackhole_is_detected() {
            let noticed = $crate::conformance::blackhole_is_detected::<$backend>(&$config);
            println!("figure: blackhole noticed after {noticed:?}");
        }
        #[test]
        fn conformance_refused_connections_back_off() {
            $crate::conformance::refused_connections_back_off::<$backend>(&$config);
        }
        #[test]
        fn conformance_wrong_password() {
            $crate::conformance::wrong_password::<$backend>(
                &$config,
                "conformance_wrong_password",
                $abilities,
            );
        }
        #[test]
        fn conformance_udp_only_server() {
            $crate::conformance::udp_only_server::<$backend>(&$config, $abilities);
        }
        #[test]
        fn conformance_unknown_path() {
            $crate::conformance::unknown_path::<$backend>(&$config, $abilities);
        }
        #[test]
        fn conformance_garbage_speaker() {
            $crate::conformance::garbage_speaker::<$backend>(&$config);
        }
        #[test]
        fn conformance_resolution_change() {
            $crate::conformance::resolution_change::<$backend>(&$config);
        }
        #[test]
        fn conformance_stop_is_bounded() {
            let (in_open, in_backoff) = $crate::conformance::stop_is_bounded::<$backend>(&$config);
            println!(
                "figure: stop() took {in_open:?} in a blocked open, {in_backoff:?} backing off"
            );
        }
        #[test]
        fn conformance_one_dead_camera_does_not_slow_the_others() {
            $crate::conformance::one_dead_camera_does_not_slow_the_others::<$backend>(
                &$config, $abilities,
            );
        }
    };
}
