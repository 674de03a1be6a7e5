//! The world's cameras and networks, on the testkit's scriptable camera
//! ([`CameraServer`]): firmware quirks (well-formed but unusual behaviour after which the
//! stream must keep working) and impaired UDP links. No encoder runs during a scenario (the
//! content is encoded once and cached), so these scenarios take no lock and may run at once.
//!
//! Each scenario is a row of the README's compatibility matrix. What a backend does there is
//! what it declares ([`Description::limits`]): it works, works with a named limit, or cannot
//! (its library offers no way), and the scenario asserts exactly that — the quirk happened on
//! the wire (from the server's log), then frames after it (works: without a reconnection;
//! with a limit: possibly after one), or for "cannot", what the user gets instead: an error
//! naming the problem, no hang, no password. It prints its cell
//! (`matrix-cell<TAB>index<TAB>row<TAB>column<TAB>cell`), from which `scripts/compat-matrix.py`
//! makes the
//! matrix; a failed assertion prints nothing, so a row cannot claim what did not hold.
//!
//! The behaviour each scenario reproduces, as real cameras show it (recorded exchanges in the
//! retina crate's test data, `src/client/testdata`, by vendor, and its issues):
//! - SSRC change: cameras that restart their encoder mid-session (Reolink, some Dahua NVR
//!   channels) keep the session and send a new SSRC.
//! - sequence and time stamp jumps: Hikvision and Uniview firmware after an encoder restart.
//! - parameter sets only in-band: Geovision and Anpviz SDPs carry no `sprop-parameter-sets`.
//! - a new picture size mid-stream: a camera whose resolution is changed in its web page.
//! - no RTCP, late RTCP: cheap cameras send no sender reports, others only after seconds.
//! - session timeout: Dahua and Hikvision answer `Session: …;timeout=60` and expire sessions
//!   without a keep-alive.
//! - credentials asked again, stale Digest nonces: Hikvision re-challenges keep-alives.
//! - one session at a time: Foscam and many NVR channels answer 453 while an old session
//!   lingers.
//! - redirects: cameras behind NVRs and cloud relays answer DESCRIBE with 301/302.
//! - control URLs: `Content-Base` (Hikvision), `Content-Location` (GW Security), neither
//!   (Anjvision), absolute URLs (Dahua).
//! - tracks before video: ONVIF metadata and audio described first (Dahua, Reolink).
//! - data before the PLAY answer: Bunny/Vstarcam firmware starts interleaved data early.

use super::{PATIENCE, builder};
use crate::camera::{Auth, AuthKind, CameraServer, ControlStyle, Impairment, Scenario};
use crate::conformance::helpers::{EventRecorder, wait_until};
use crate::content::{ContentCodec, ContentSpec};
use rtsp_stream_core::raw::{Description, LimitKind};
use rtsp_stream_core::{CaptureBackend, Transport, VideoStream};
use std::collections::BTreeSet;
use std::sync::{Mutex, MutexGuard, PoisonError};
use std::time::{Duration, Instant};

/// Frames the stream must deliver after a quirk.
const AFTER: u64 = 12;

/// What a scenario asserted for a backend: the cell of the matrix.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Cell {
    /// It works.
    Works,
    /// It works with the named limit.
    Limited(&'static str),
    /// It cannot; the text names the missing API and what the user gets.
    Cannot(&'static str),
}

impl std::fmt::Display for Cell {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Cell::Works => f.write_str("works"),
            Cell::Limited(why) => write!(f, "works, {why}"),
            Cell::Cannot(why) => write!(f, "cannot: {why}"),
        }
    }
}

/// The cell `description` declares for `row`.
pub fn declared(description: &Description, row: &str) -> Cell {
    match description.limits.iter().find(|l| l.condition == row) {
        None => Cell::Works,
        Some(limit) => match limit.kind {
            LimitKind::Limited => Cell::Limited(limit.why),
            LimitKind::Cannot => Cell::Cannot(limit.why),
        },
    }
}

/// The matrix column of a backend with a configuration.
fn column<B: CaptureBackend>(config: &B::Config) -> String {
    let description = B::describe(config);
    match description.variant {
        "" => B::name(config).to_owned(),
        variant => format!("{} ({variant})", B::name(config)),
    }
}

fn print_cell<B: CaptureBackend>(config: &B::Config, row: &str, cell: &Cell) {
    let index = ROWS
        .iter()
        .position(|r| *r == row)
        .expect("a row of the matrix");
    // Past the test harness's capture (it takes only `print!`): the test command collects
    // these lines from a passing run into the README's matrix.
    let line = format!(
        "matrix-cell\t{index}\t{row}\t{}\t{cell}\n",
        column::<B>(config)
    );
    let _ = std::io::Write::write_all(&mut std::io::stdout().lock(), line.as_bytes());
}

/// A stream of a camera playing `scenario`, and what it saw.
pub struct WorldRun<B: CaptureBackend> {
    /// The camera.
    pub camera: CameraServer,
    /// The stream under test.
    pub stream: VideoStream<B>,
    /// Its events.
    pub events: EventRecorder,
}

impl<B: CaptureBackend> WorldRun<B> {
    /// Waits until the server logged `what` happening on the wire.
    fn wait_quirk(&self, what: &str) {
        wait_until(PATIENCE, &format!("the camera does: {what}"), || {
            self.camera.log().quirks.iter().any(|(_, q, _)| q == what)
        });
    }

    /// Waits for `n` more frames than now.
    fn frames_more(&self, n: u64, what: &str) {
        let from = self.stream.stats().frames_decoded;
        let done = || self.stream.stats().frames_decoded >= from + n;
        let deadline = Instant::now() + PATIENCE;
        while !done() && Instant::now() < deadline {
            std::thread::sleep(Duration::from_millis(10));
        }
        assert!(
            done(),
            "{n} frames {what}: not within {PATIENCE:?}; events {:?}; the camera answered {:?}",
            self.events.events(),
            self.camera.log().requests
        );
    }

    fn disconnections(&self) -> usize {
        self.events.count("disconnected")
    }
}

/// How a scenario checks a backend that declares it works (or works with a limit).
struct Check {
    row: &'static str,
    scenario: Scenario,
    transport: Transport,
    /// The server-side evidence the quirk happened, waited for before counting frames.
    quirk: Option<&'static str>,
    /// Extra server-side assertion once the frames arrived.
    server: Option<fn(&CameraServer, &Cell)>,
    /// How long the stream must keep streaming after the quirk (keep-alive scenarios).
    hold: Duration,
}

impl Check {
    fn new(row: &'static str, scenario: Scenario) -> Self {
        Check {
            row,
            scenario,
            transport: Transport::Tcp,
            quirk: None,
            server: None,
            hold: Duration::ZERO,
        }
    }
}

/// Runs `check` for a backend, asserting its declared cell, and prints the cell.
fn run_check<B: CaptureBackend>(
    config: &B::Config,
    check: Check,
    url: Option<fn(&CameraServer) -> String>,
) -> Cell {
    let cell = declared(&B::describe(config), check.row);
    let row = check.row;
    let camera_url = url;
    let run = {
        let camera = CameraServer::start(check.scenario.clone()).expect("the camera starts");
        let events = EventRecorder::new();
        let url = camera_url.map_or_else(|| camera.url(), |f| f(&camera));
        // Opening is not what these rows measure: a backend that waits out its library's
        // stream analysis (tracks that send nothing) still opens.
        let stream = builder::<B>(&url, config, &events)
            .open_timeout(Duration::from_secs(10))
            .first_frame_timeout(Duration::from_secs(10))
            .transport(interleaved::<B>(config, check.transport))
            .start()
            .expect("the stream starts");
        WorldRun {
            camera,
            stream,
            events,
        }
    };
    match &cell {
        Cell::Works | Cell::Limited(_) => {
            run.frames_more(1, &format!("{row}: the first frame"));
            if let Some(quirk) = check.quirk {
                run.wait_quirk(quirk);
            }
            let held = Instant::now();
            run.frames_more(AFTER, &format!("{row}: after the quirk"));
            while held.elapsed() < check.hold {
                run.frames_more(1, &format!("{row}: while held"));
            }
            if let Some(server) = check.server {
                server(&run.camera, &cell);
            }
            if cell == Cell::Works {
                assert_eq!(
                    run.disconnections(),
                    0,
                    "{row}: works without a reconnection, yet: {:?}",
                    run.events.names()
                );
            }
        }
        Cell::Cannot(_) => {
            let error = run.events.gave_up(PATIENCE * 2);
            assert!(!error.to_string().contains("secret"), "{row}: {error}");
        }
    }
    let stopped = Instant::now();
    run.stream.stop();
    assert!(
        stopped.elapsed() < Duration::from_secs(2),
        "{row}: stop took {:?}",
        stopped.elapsed()
    );
    print_cell::<B>(config, row, &cell);
    cell
}

/// The rows of a backend that opens one source at a time run one at a time: its
/// process-wide lock would otherwise make one row's slow open another row's missed deadline.
pub fn turn<B: CaptureBackend>(config: &B::Config) -> Option<MutexGuard<'static, ()>> {
    static TURN: Mutex<()> = Mutex::new(());
    (!B::describe(config).abilities.opens_concurrently)
        .then(|| TURN.lock().unwrap_or_else(PoisonError::into_inner))
}

/// The transport a TCP row asks for: TCP itself where the backend can be told, else the
/// default, which a backend without that ability tries TCP with first (its declaration says
/// an explicit transport is refused).
pub(crate) fn interleaved<B: CaptureBackend>(config: &B::Config, wanted: Transport) -> Transport {
    if B::describe(config).abilities.reports_transport_fallback {
        wanted
    } else {
        Transport::Auto
    }
}

fn small() -> Scenario {
    Scenario::new(ContentSpec::small())
}

/// The camera changes its SSRC mid-stream (an encoder restart inside the session).
pub fn ssrc_change<B: CaptureBackend>(config: &B::Config) -> Cell {
    let mut scenario = small();
    scenario.rtp.ssrc_change_at = Some(60);
    let mut check = Check::new(ROW_SSRC, scenario);
    check.quirk = Some("ssrc change");
    run_check::<B>(config, check, None)
}

/// Sequence numbers and time stamps jump forward mid-stream.
pub fn sequence_and_time_stamp_jumps<B: CaptureBackend>(config: &B::Config) -> Cell {
    let mut scenario = small();
    scenario.rtp.sequence_jump = Some((50, 5000));
    scenario.rtp.timestamp_jump = Some((20, 90_000 * 30));
    let mut check = Check::new(ROW_JUMPS, scenario);
    check.quirk = Some("timestamp jump");
    run_check::<B>(config, check, None)
}

/// Sequence numbers and time stamps wrap around within the first seconds.
pub fn wrap_around<B: CaptureBackend>(config: &B::Config) -> Cell {
    let mut scenario = small();
    scenario.rtp.first_sequence = 65_400;
    scenario.rtp.first_timestamp = u32::MAX - 90_000;
    let check = Check::new(ROW_WRAP, scenario);
    // 2 s of frames crosses both wraps (136 packets, one second of time stamps).
    let cell = declared(&B::describe(config), ROW_WRAP);
    let _ = cell;
    run_check::<B>(
        config,
        Check {
            hold: Duration::from_secs(3),
            ..check
        },
        None,
    )
}

/// No `sprop-parameter-sets` in the SDP: the parameter sets come in-band only.
pub fn parameter_sets_in_band<B: CaptureBackend>(config: &B::Config) -> Cell {
    let mut scenario = small();
    scenario.sprop = false;
    run_check::<B>(config, Check::new(ROW_IN_BAND, scenario), None)
}

/// New parameter sets mid-stream, with a new picture size.
pub fn new_picture_size<B: CaptureBackend>(config: &B::Config) -> Cell {
    let mut scenario = small();
    scenario.switch_content = Some((
        45,
        ContentSpec {
            width: 256,
            height: 192,
            ..ContentSpec::small()
        },
    ));
    let mut check = Check::new(ROW_NEW_SIZE, scenario);
    check.quirk = Some("switch content");
    run_check::<B>(config, check, None)
}

/// B-frames (display order differs from decoding order).
pub fn b_frames<B: CaptureBackend>(config: &B::Config) -> Cell {
    let scenario = Scenario::new(ContentSpec::small().with_codec(ContentCodec::H264BFrames));
    run_check::<B>(config, Check::new(ROW_B_FRAMES, scenario), None)
}

/// H.265 from the scriptable camera.
pub fn h265<B: CaptureBackend>(config: &B::Config) -> Cell {
    let scenario = Scenario::new(ContentSpec::small().with_codec(ContentCodec::H265));
    run_check::<B>(config, Check::new(ROW_H265, scenario), None)
}

/// MJPEG (RTP/JPEG) from the scriptable camera.
pub fn mjpeg<B: CaptureBackend>(config: &B::Config) -> Cell {
    let scenario = Scenario::new(ContentSpec::small().with_codec(ContentCodec::Mjpeg));
    run_check::<B>(config, Check::new(ROW_MJPEG, scenario), None)
}

/// No RTCP at all.
pub fn no_rtcp<B: CaptureBackend>(config: &B::Config) -> Cell {
    let mut scenario = small();
    scenario.rtcp.interval = None;
    run_check::<B>(config, Check::new(ROW_NO_RTCP, scenario), None)
}

/// RTCP only after 4 s.
pub fn late_rtcp<B: CaptureBackend>(config: &B::Config) -> Cell {
    let mut scenario = small();
    scenario.rtcp.first_after = Duration::from_secs(4);
    let check = Check {
        hold: Duration::from_secs(5),
        ..Check::new(ROW_LATE_RTCP, scenario)
    };
    run_check::<B>(config, check, None)
}

/// A session the camera expires unless kept alive: the stream outlives three timeouts.
pub fn session_keep_alive<B: CaptureBackend>(config: &B::Config) -> Cell {
    let mut scenario = small();
    scenario.session_timeout = Some(Duration::from_secs(2));
    let check = Check {
        hold: Duration::from_secs(7),
        server: Some(|camera, cell| {
            // Limited: the declared reason is that sessions expire and the stream reconnects.
            let expired = camera.log().expired;
            if *cell == Cell::Works {
                assert_eq!(expired, 0, "a session expired");
            } else {
                assert!(expired > 0, "declared limited, yet no session expired");
            }
        }),
        ..Check::new(ROW_KEEP_ALIVE, scenario)
    };
    run_check::<B>(config, check, None)
}

fn digest(scenario: &mut Scenario, ask_again_after: Option<u32>, stale_after: Option<u32>) {
    scenario.auth = Some(Auth {
        kind: AuthKind::Digest,
        user: "viewer".into(),
        password: "Zs3cret-world".into(),
        ask_again_after,
        stale_after,
    });
    // Keep-alives every second or so: the later requests that meet the new challenge.
    scenario.session_timeout = Some(Duration::from_secs(2));
}

fn with_password(camera: &CameraServer) -> String {
    camera
        .url()
        .replace("rtsp://", "rtsp://viewer:Zs3cret-world@")
}

/// The camera asks for credentials again on a later request.
pub fn credentials_asked_again<B: CaptureBackend>(config: &B::Config) -> Cell {
    let mut scenario = small();
    digest(&mut scenario, Some(4), None);
    let check = Check {
        hold: Duration::from_secs(4),
        server: Some(|camera, _| {
            let log = camera.log();
            let challenged = log
                .requests
                .iter()
                .skip(4)
                .any(|(_, _, status)| *status == 401);
            assert!(
                challenged,
                "the camera never asked again: {:?}",
                log.requests
            );
        }),
        ..Check::new(ROW_REAUTH, scenario)
    };
    run_check::<B>(config, check, Some(with_password))
}

/// The Digest nonce goes stale.
pub fn stale_nonce<B: CaptureBackend>(config: &B::Config) -> Cell {
    let mut scenario = small();
    digest(&mut scenario, None, Some(4));
    let check = Check {
        hold: Duration::from_secs(4),
        server: Some(|camera, _| {
            let log = camera.log();
            let stale = log
                .requests
                .iter()
                .skip(4)
                .any(|(_, _, status)| *status == 401);
            assert!(stale, "the nonce never went stale: {:?}", log.requests);
        }),
        ..Check::new(ROW_STALE, scenario)
    };
    run_check::<B>(config, check, Some(with_password))
}

/// Control URLs as various firmware writes them.
pub fn control_urls<B: CaptureBackend>(config: &B::Config) -> Cell {
    let mut cell = Cell::Works;
    for style in [
        ControlStyle::ContentLocation,
        ControlStyle::RequestUrl,
        ControlStyle::Absolute,
    ] {
        let mut scenario = small();
        scenario.control = style;
        cell = run_check::<B>(config, Check::new(ROW_CONTROL, scenario), None);
    }
    cell
}

/// Audio and metadata tracks described before the video track.
pub fn tracks_before_video<B: CaptureBackend>(config: &B::Config) -> Cell {
    let mut scenario = small();
    scenario.tracks_before_video = true;
    run_check::<B>(config, Check::new(ROW_TRACKS, scenario), None)
}

/// Interleaved data before the PLAY answer.
pub fn data_before_play_answer<B: CaptureBackend>(config: &B::Config) -> Cell {
    let mut scenario = small();
    scenario.data_before_play_answer = true;
    run_check::<B>(config, Check::new(ROW_EARLY_DATA, scenario), None)
}

/// A DESCRIBE answered with a redirect to another camera.
pub fn redirect<B: CaptureBackend>(config: &B::Config) -> Cell {
    let target = CameraServer::start(small()).expect("the target camera starts");
    let mut scenario = small();
    scenario.redirect = Some((302, target.url()));
    let cell = run_check::<B>(config, Check::new(ROW_REDIRECT, scenario), None);
    if cell != Cell::Works {
        return cell;
    }
    assert!(target.clients() >= 1, "the target never saw the client");
    cell
}

/// One session at a time: a session left without TEARDOWN lingers, and SETUP gets 453 until
/// it has gone; the stream backs off and gets in once it has.
pub fn one_session_lingering<B: CaptureBackend>(config: &B::Config) -> Cell {
    let mut scenario = small();
    scenario.max_sessions = Some(1);
    scenario.linger = Duration::from_secs(3);
    let camera = CameraServer::start(scenario).expect("the camera starts");
    // Another client takes the one session and vanishes without TEARDOWN.
    crate::camera::leave_a_session(camera.port(), "/cam").expect("a session to leave");
    let row = ROW_ONE_SESSION;
    let cell = declared(&B::describe(config), row);
    let events = EventRecorder::new();
    let stream = builder::<B>(&camera.url(), config, &events)
        .transport(interleaved::<B>(config, Transport::Tcp))
        .start()
        .expect("the stream starts");
    match &cell {
        Cell::Works | Cell::Limited(_) => {
            wait_until(PATIENCE, "frames once the old session has gone", || {
                stream.stats().frames_decoded >= AFTER
            });
            let refused = camera
                .log()
                .requests
                .iter()
                .any(|(_, m, s)| m == "SETUP" && *s == 453);
            assert!(refused, "the camera never answered 453");
        }
        Cell::Cannot(_) => {
            events.gave_up(PATIENCE);
        }
    }
    stream.stop();
    print_cell::<B>(config, row, &cell);
    cell
}

/// Impaired UDP: packet loss at `percent`, or reordering within 50 ms. Against the frames the
/// server sent to this client, identified by the index each picture carries.
pub fn impaired<B: CaptureBackend>(
    config: &B::Config,
    impairment: Impairment,
    row: &'static str,
) -> Cell {
    let cell = declared(&B::describe(config), row);
    let mut scenario = Scenario::new(ContentSpec::small().with_seconds(6));
    scenario.impairment = impairment.clone();
    let camera = CameraServer::start(scenario).expect("the camera starts");
    let events = EventRecorder::new();
    // A loss can cost the frames up to the next key frame, two losses in a row two key
    // intervals: the stall deadline is not what these rows measure.
    let stream = builder::<B>(&camera.url(), config, &events)
        .stall_timeout(Duration::from_secs(5))
        .transport(Transport::Udp)
        .start()
        .expect("the stream starts");
    if let Cell::Cannot(_) = cell {
        events.gave_up(PATIENCE);
        stream.stop();
        print_cell::<B>(config, row, &cell);
        return cell;
    }
    // Read every frame for 8 s, noting which stream frame each was.
    let mut seen = BTreeSet::new();
    let mut last = 0;
    let until = Instant::now() + Duration::from_secs(8);
    while Instant::now() < until {
        match stream.wait_next(last, Duration::from_millis(500)) {
            Ok(frame) => {
                last = frame.seq();
                if let Some(n) = camera.frame_in(&frame) {
                    seen.insert(n);
                }
            }
            Err(rtsp_stream_core::WaitError::Timeout) => {}
            Err(e) => panic!("{row}: the stream ended: {e}"),
        }
    }
    let stats = stream.stats();
    stream.stop();
    let log = camera.log();
    let sent = log.frames_sent.max(1);
    let lossy = impairment.drop > 0.0;
    let (first, last_n) = (
        *seen.first().expect("frames"),
        *seen.last().expect("frames"),
    );
    // Frames between a loss and the next key frame are the ones nobody can decode whole.
    let damaged: BTreeSet<u64> = {
        let mut out = BTreeSet::new();
        for &lost in &log.lost_frames {
            let mut n = lost;
            while n <= last_n && (n == lost || !camera.is_key_frame(n)) {
                out.insert(n);
                n += 1;
            }
        }
        out
    };
    let whole: Vec<u64> = (first..=last_n).filter(|n| !damaged.contains(n)).collect();
    let missing = whole.iter().filter(|n| !seen.contains(n)).count() as u64;
    let from_damaged = seen.intersection(&damaged).count();
    eprintln!(
        "{row}: sent {sent}, seen {}, whole {}, missing {missing}, from damaged data {from_damaged}, \
         overwritten {}, decode errors {}, skipped {}, disconnections {}",
        seen.len(),
        whole.len(),
        stats.frames_overwritten_unread,
        stats.decode_errors,
        stats.frames_skipped,
        events.count("disconnected"),
    );
    match (&cell, lossy) {
        (Cell::Works, true) if impairment.drop <= 0.011 => {
            assert_eq!(events.count("disconnected"), 0, "{row}: a reconnection");
            assert!(
                missing <= stats.frames_overwritten_unread + 2,
                "{row}: {missing} whole frames missing"
            );
            assert_eq!(
                from_damaged, 0,
                "{row}: frames decoded from incomplete data were delivered"
            );
            if !log.lost_frames.is_empty() {
                assert!(
                    stats.frames_skipped > 0 || stats.decode_errors > 0,
                    "{row}: losses not counted"
                );
            }
        }
        (Cell::Works | Cell::Limited(_), true) => {
            // 5 %: connected or recovered by itself, frames flowing at the end.
            assert!(
                seen.len() as u64 >= AFTER,
                "{row}: only {} frames",
                seen.len()
            );
        }
        (Cell::Works, false) => {
            let ratio = seen.len() as f64 / whole.len().max(1) as f64;
            assert!(
                ratio >= 0.95,
                "{row}: {:.0} % of the frames arrived",
                ratio * 100.0
            );
            assert_eq!(events.count("disconnected"), 0, "{row}: a reconnection");
        }
        (Cell::Limited(_), false) => {
            assert!(
                seen.len() as u64 >= AFTER,
                "{row}: only {} frames",
                seen.len()
            );
        }
        (Cell::Cannot(_), _) => unreachable!(),
    }
    print_cell::<B>(config, row, &cell);
    cell
}

/// 1 % packet loss over UDP.
pub fn loss_1_percent<B: CaptureBackend>(config: &B::Config) -> Cell {
    impaired::<B>(
        config,
        Impairment {
            drop: 0.01,
            seed: 11,
            ..Impairment::default()
        },
        ROW_LOSS_1,
    )
}

/// 5 % packet loss over UDP.
pub fn loss_5_percent<B: CaptureBackend>(config: &B::Config) -> Cell {
    impaired::<B>(
        config,
        Impairment {
            drop: 0.05,
            seed: 12,
            ..Impairment::default()
        },
        ROW_LOSS_5,
    )
}

/// Reordering within 50 ms over UDP, no loss.
pub fn reordering<B: CaptureBackend>(config: &B::Config) -> Cell {
    impaired::<B>(
        config,
        Impairment {
            reorder: 0.05,
            reorder_window: Duration::from_millis(50),
            seed: 13,
            ..Impairment::default()
        },
        ROW_REORDER,
    )
}

/// Matrix rows, in the README's order.
pub const ROWS: &[&str] = &[
    ROW_LOSS_1,
    ROW_LOSS_5,
    ROW_REORDER,
    ROW_SSRC,
    ROW_JUMPS,
    ROW_WRAP,
    ROW_IN_BAND,
    ROW_NEW_SIZE,
    ROW_B_FRAMES,
    ROW_H265,
    ROW_MJPEG,
    ROW_NO_RTCP,
    ROW_LATE_RTCP,
    ROW_KEEP_ALIVE,
    ROW_REAUTH,
    ROW_STALE,
    ROW_ONE_SESSION,
    ROW_REDIRECT,
    ROW_CONTROL,
    ROW_TRACKS,
    ROW_EARLY_DATA,
];

/// 1 % UDP packet loss.
pub const ROW_LOSS_1: &str = "1 % UDP packet loss";
/// 5 % UDP packet loss.
pub const ROW_LOSS_5: &str = "5 % UDP packet loss";
/// UDP reordering.
pub const ROW_REORDER: &str = "UDP packets reordered within 50 ms";
/// SSRC change.
pub const ROW_SSRC: &str = "SSRC change mid-stream";
/// Jumps.
pub const ROW_JUMPS: &str = "sequence and time stamp jumps";
/// Wrap-around.
pub const ROW_WRAP: &str = "sequence and time stamp wrap-around";
/// In-band parameter sets.
pub const ROW_IN_BAND: &str = "parameter sets only in-band";
/// New picture size.
pub const ROW_NEW_SIZE: &str = "new parameter sets and picture size mid-stream";
/// B-frames.
pub const ROW_B_FRAMES: &str = "H.264 with B-frames";
/// H.265.
pub const ROW_H265: &str = "H.265";
/// MJPEG.
pub const ROW_MJPEG: &str = "MJPEG (RTP/JPEG)";
/// No RTCP.
pub const ROW_NO_RTCP: &str = "no RTCP at all";
/// Late RTCP.
pub const ROW_LATE_RTCP: &str = "RTCP only after 4 s";
/// Keep-alive.
pub const ROW_KEEP_ALIVE: &str = "session expires without keep-alives";
/// Re-authentication.
pub const ROW_REAUTH: &str = "credentials asked again on a later request";
/// Stale nonce.
pub const ROW_STALE: &str = "Digest nonce goes stale";
/// One session.
pub const ROW_ONE_SESSION: &str = "one session, 453 while an old one lingers";
/// Redirect.
pub const ROW_REDIRECT: &str = "redirect (302) to another camera";
/// Control URLs.
pub const ROW_CONTROL: &str = "Content-Location, request-URL and absolute control URLs";
/// Tracks before video.
pub const ROW_TRACKS: &str = "audio and metadata tracks before the video";
/// Early data.
pub const ROW_EARLY_DATA: &str = "media before the PLAY answer";
