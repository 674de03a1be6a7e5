//! The scriptable camera feeds many clients from one process, and logs the instant it sent
//! each frame.

use rtsp_stream_testkit::camera::{CameraServer, Scenario, count_frames, play_over_tcp};
use rtsp_stream_testkit::content::ContentSpec;
use std::time::Duration;

const CLIENTS: usize = 120;
const WINDOW: Duration = Duration::from_secs(3);

#[test]
fn one_camera_process_feeds_120_clients_and_logs_each_frame_instant() {
    let camera = CameraServer::start(Scenario::new(ContentSpec::small())).expect("camera starts");
    let port = camera.port();
    let clients: Vec<_> = (0..CLIENTS)
        .map(|_| {
            std::thread::spawn(move || {
                let mut connection = play_over_tcp(port, "/cam")?;
                connection.set_read_timeout(Some(Duration::from_secs(5)))?;
                count_frames(&mut connection, WINDOW)
            })
        })
        .collect();
    let counts: Vec<u64> = clients
        .into_iter()
        .map(|c| c.join().expect("no panic").expect("the client reads media"))
        .collect();
    // 15 fps for 3 s: 45 frames each; a busy two-core machine may start a client late.
    let fewest = *counts.iter().min().expect("clients");
    assert!(
        fewest >= 30,
        "a client got {fewest} frames in {WINDOW:?}: {counts:?}"
    );
    assert_eq!(camera.clients(), CLIENTS as u64);
    let log = camera.log();
    assert!(log.frames_sent >= counts.iter().sum::<u64>());
    // Every frame sent is logged once, in order, at the instant the schedule gave it (a
    // loaded machine sends late, never early).
    let frames: Vec<u64> = log.sent_at.iter().map(|(n, _)| *n).collect();
    assert!(frames.windows(2).all(|w| w[0] < w[1]), "{frames:?}");
    assert!(frames.len() >= 40, "{} frames logged", frames.len());
    for &(n, at) in &log.sent_at {
        let due = camera.send_instant(n);
        assert!(
            at + Duration::from_millis(5) >= due && at <= due + Duration::from_secs(1),
            "frame {n} sent {:?} after its due instant",
            at.saturating_duration_since(due)
        );
        assert_eq!(log.sent_instant(n), Some(at));
    }
    assert_eq!(log.sent_instant(frames[frames.len() - 1] + 1_000), None);
}
