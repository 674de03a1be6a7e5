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

/// Generates the tests of `$backend` with `$config` that measure the whole process (threads,
/// descriptors, memory), for a test binary that holds nothing else: `endurance` runs
/// [`endurance`], `slow_peers` runs [`slow_peers_cost_nothing`] with 30 attempts. Both take
/// the suite's lock, so they run one after the other.
#[macro_export]
macro_rules! endurance_test {
    ($backend:ty, $config:expr) => {
        #[test]
        fn endurance() {
            $crate::TestServerProcess::serve_child_if_requested();
            let report = $crate::conformance::endurance::<$backend>(&$config, "endurance");
            println!("{report:?}");
        }
        #[test]
        fn slow_peers() {
            $crate::TestServerProcess::serve_child_if_requested();
            let report = $crate::conformance::slow_peers_cost_nothing::<$backend>(
                &$config,
                &["--exact", "slow_peers", "--nocapture", "--test-threads=1"],
                30,
            );
            let worst = report.overruns.iter().max().copied().unwrap_or_default();
            println!("figure: slow peers, worst overrun {worst:?}; {report:?}");
        }
    };
}

/// Generates one `#[test]` per row of the compatibility matrix (firmware quirks, impaired
/// networks; [`scenarios::world`]) for `$backend` with `$config`, each asserting what the backend
/// declares and printing its cell. They run on the scriptable camera, without the suite's
/// lock: a test binary of their own per backend keeps them apart from the scenarios that
/// measure.
#[macro_export]
macro_rules! world_tests {
    ($backend:ty, $config:expr) => {
        $crate::world_tests!(@each $backend, $config,
            world_loss_1_percent => loss_1_percent,
            world_loss_5_percent => loss_5_percent,
            world_reordering => reordering,
            world_ssrc_change => ssrc_change,
            world_sequence_and_time_stamp_jumps => sequence_and_time_stamp_jumps,
            world_wrap_around => wrap_around,
            world_parameter_sets_in_band => parameter_sets_in_band,
            world_new_picture_size => new_picture_size,
            world_b_frames => b_frames,
            world_h265 => h265,
            world_mjpeg => mjpeg,
            world_no_rtcp => no_rtcp,
            world_late_rtcp => late_rtcp,
            world_session_keep_alive => session_keep_alive,
            world_credentials_asked_again => credentials_asked_again,
            world_stale_nonce => stale_nonce,
            world_one_session_lingering => one_session_lingering,
            world_redirect => redirect,
            world_control_urls => control_urls,
            world_tracks_before_video => tracks_before_video,
            world_data_before_play_answer => data_before_play_answer,
        );
        $crate::world_tests!(@camera_time $backend, $config,
            camera_time_offset, camera_time_drift, camera_time_step, camera_time_without_a_clock,
            aligned_group,
        );
        $crate::world_tests!(@decode_modes $backend, $config,
            decode_key_frames_then_all, decode_max_rate,
        );
    };
    (@decode_modes $backend:ty, $config:expr, $($scenario:ident,)*) => {
        $(
            #[test]
            fn $scenario() {
                let _turn = $crate::conformance::world::turn::<$backend>(&$config);
                $crate::conformance::decode_modes::$scenario::<$backend>(&$config);
            }
        )*
    };
    (@camera_time $backend:ty, $config:expr, $($scenario:ident,)*) => {
        $(
            #[test]
            fn $scenario() {
                let _turn = $crate::conformance::world::turn::<$backend>(&$config);
                let worst = $crate::conformance::camera_time::$scenario::<$backend>(&$config);
                println!("figure: {}, largest camera-time error (aligned sets: widest spread) {worst:?}", stringify!($scenario));
            }
        )*
    };
    (@each $backend:ty, $config:expr, $($test:ident => $scenario:ident,)*) => {
        $(
            #[test]
            fn $test() {
                let _turn = $crate::conformance::world::turn::<$backend>(&$config);
                $crate::conformance::world::$scenario::<$backend>(&$config);
            }
        )*
    };
}

/// Generates one `#[test]` per conformance scenario for `$backend` with `$config`
/// (an expression evaluated in each test), expecting what the backend declares for that
/// configuration ([`CaptureBackend::describe`](rtsp_stream_core::CaptureBackend::describe)).
/// The test names start with `conformance_`.
#[macro_export]
macro_rules! conformance_tests {
    ($backend:ty, $config:expr) => {
        $crate::conformance_tests!(
            @with $backend,
            $config,
            <$backend as $crate::rtsp_stream_core::CaptureBackend>::describe(&$config).abilities
        );
    };
    (@with $backend:ty, $config:expr, $abilities:expr) => {
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
        fn conformance_colours_follow_the_declared_matrix() {
            $crate::conformance::colours_follow_the_declared_matrix::<$backend>(
                &$config, $abilities,
            );
        }
        #[test]
        fn conformance_other_codecs_decode() {
            $crate::conformance::other_codecs_decode::<$backend>(&$config, $abilities);
        }
        #[test]
        fn conformance_file_plays_at_its_own_rate_and_ends() {
            $crate::conformance::file_plays_at_its_own_rate_and_ends::<$backend>(
                &$config,
                ::std::path::Path::new(env!("CARGO_TARGET_TMPDIR")),
                $abilities,
            );
        }
        #[test]
        fn conformance_missing_file_is_not_found() {
            $crate::conformance::missing_file_is_not_found::<$backend>(&$config, $abilities);
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
            // The harness names a test by its path below the crate root.
            let name = match module_path!().split_once("::") {
                Some((_, module)) => format!("{module}::conformance_wrong_password"),
                None => "conformance_wrong_password".to_owned(),
            };
            $crate::conformance::wrong_password::<$backend>(&$config, &name, $abilities);
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
        fn conformance_resolution_changes_within_a_session() {
            $crate::conformance::resolution_changes_within_a_session::<$backend>(&$config);
        }
        #[test]
        fn conformance_bad_request_is_permanent() {
            $crate::conformance::bad_request_is_permanent::<$backend>(&$config, $abilities);
        }
        #[test]
        fn conformance_no_usable_media_is_not_a_transport_refusal() {
            $crate::conformance::no_usable_media_is_not_a_transport_refusal::<$backend>(
                &$config, $abilities,
            );
        }
        #[test]
        fn conformance_huge_timeouts_are_harmless() {
            $crate::conformance::huge_timeouts_are_harmless::<$backend>(&$config);
        }
        #[test]
        fn conformance_pictures_over_the_limit_are_refused() {
            $crate::conformance::pictures_over_the_limit_are_refused::<$backend>(&$config);
        }
        #[test]
        fn conformance_hostile_picture_size_is_refused_before_decoding() {
            let name = match module_path!().split_once("::") {
                Some((_, module)) => {
                    format!("{module}::conformance_hostile_picture_size_is_refused_before_decoding")
                }
                None => "conformance_hostile_picture_size_is_refused_before_decoding".to_owned(),
            };
            let abilities: $crate::conformance::Abilities = $abilities;
            $crate::conformance::hostile_picture_size_is_refused_before_decoding::<$backend>(
                &$config,
                &name,
                abilities.refuses_size_before_decoding,
            );
        }
        #[test]
        fn conformance_self_signed_tls_is_refused() {
            let abilities: $crate::conformance::Abilities = $abilities;
            $crate::conformance::self_signed_tls_is_refused::<$backend>(&$config, abilities.tls);
        }
        #[test]
        fn conformance_camera_text_stays_on_one_line() {
            $crate::conformance::camera_text_stays_on_one_line::<$backend>(&$config);
        }
        #[test]
        fn conformance_awkward_passwords_connect() {
            $crate::conformance::awkward_passwords_connect::<$backend>(&$config);
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
