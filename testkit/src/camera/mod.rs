//! A scriptable RTSP camera on loopback: pre-encoded content (no encoder at run time) over TCP
//! or UDP, with every field a scenario may want to bend — RTP (SSRC, sequence numbers, time
//! stamps and their jumps), RTCP (sender reports from a camera clock with an offset, drift or
//! a step; none at all, or only after a while), RTSP (authentication and re-authentication,
//! stale nonces, session expiry, one session only, redirects, answers of its choosing, content
//! bases, tracks before the video one, data before the PLAY answer) and, over UDP, seeded
//! packet loss, duplication, reordering and delay.
//!
//! It is the ground truth of what it sent: every picture carries its index in the pixels
//! ([`crate::content`]), frame `n` of the stream is captured at [`CameraServer::capture_time`]
//! on the camera's clock, and [`CameraServer::log`] says what happened on the wire (a quirk
//! at which packet, how many packets were dropped) per client and the instant it sent each
//! frame ([`ServerLog::sent_instant`]).
//!
//! One thread per client sends its media; a process feeds well over a hundred clients.

mod auth;
mod client;
mod clock;
mod sender;
mod session;
pub mod wire;

pub use client::{count_frames, leave_a_session, play_over_tcp};
pub use clock::CameraClock;

use crate::TestkitError;
use crate::content::{Clip, ContentSpec};
use std::net::TcpListener;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex, PoisonError};
use std::thread::JoinHandle;
use std::time::{Duration, Instant, SystemTime};

/// How the server authenticates.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum AuthKind {
    /// HTTP Basic.
    Basic,
    /// HTTP Digest (MD5).
    Digest,
}

/// Credentials the server asks for, and how it behaves about them.
#[derive(Debug, Clone)]
pub struct Auth {
    /// Basic or Digest.
    pub kind: AuthKind,
    /// The user name it accepts.
    pub user: String,
    /// The password it accepts.
    pub password: String,
    /// After this many requests of a session it asks again (401) once, whatever it was sent:
    /// firmware whose authentication expires.
    pub ask_again_after: Option<u32>,
    /// The Digest nonce goes stale after this many requests (401 with `stale=true`).
    pub stale_after: Option<u32>,
}

/// RTP fields and their jumps.
#[derive(Debug, Clone)]
pub struct RtpScript {
    /// The first sequence number (near 65535 to wrap early).
    pub first_sequence: u16,
    /// The first time stamp (near 2^32 to wrap early).
    pub first_timestamp: u32,
    /// The SSRC.
    pub ssrc: u32,
    /// From this packet on (counted from 0 per client), another SSRC.
    pub ssrc_change_at: Option<u64>,
    /// At this packet, the sequence number jumps by this much.
    pub sequence_jump: Option<(u64, u16)>,
    /// At this frame, the time stamp jumps by this much.
    pub timestamp_jump: Option<(u64, u32)>,
}

impl Default for RtpScript {
    fn default() -> Self {
        RtpScript {
            first_sequence: 4321,
            first_timestamp: 0x1234_5678,
            ssrc: 0x0bad_cafe,
            ssrc_change_at: None,
            sequence_jump: None,
            timestamp_jump: None,
        }
    }
}

/// Sender reports.
#[derive(Debug, Clone)]
pub struct RtcpScript {
    /// Interval between reports; `None`: no RTCP at all.
    pub interval: Option<Duration>,
    /// No report before this long into the session.
    pub first_after: Duration,
}

impl Default for RtcpScript {
    fn default() -> Self {
        RtcpScript {
            interval: Some(Duration::from_millis(500)),
            first_after: Duration::ZERO,
        }
    }
}

/// What happens to packets over UDP (never over TCP), drawn from a seeded generator per client.
#[derive(Debug, Clone, Default)]
pub struct Impairment {
    /// Probability of dropping a packet.
    pub drop: f64,
    /// Probability of sending a packet twice.
    pub duplicate: f64,
    /// Probability of holding a packet back behind later ones.
    pub reorder: f64,
    /// How long a reordered packet is held (at most).
    pub reorder_window: Duration,
    /// Added to every packet.
    pub delay: Duration,
    /// Probability of flipping bits in a packet's payload (its RTP header kept): a slice the
    /// decoder receives whole but cannot decode.
    pub corrupt: f64,
    /// The generator's seed.
    pub seed: u64,
}

/// `Content-Base` and control URLs as various firmware writes them.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum ControlStyle {
    /// `Content-Base: <url>/` and relative `a=control:trackN`.
    #[default]
    ContentBase,
    /// No `Content-Base`; `Content-Location` instead.
    ContentLocation,
    /// Neither: relative controls resolve against the request URL.
    RequestUrl,
    /// Absolute control URLs in the SDP.
    Absolute,
}

/// Everything a scenario sets. Start from `Scenario::new(content)`.
#[derive(Debug, Clone)]
pub struct Scenario {
    /// What the camera sends.
    pub content: ContentSpec,
    /// The stream's path.
    pub path: String,
    /// Whether SETUP over TCP is accepted (461 otherwise).
    pub tcp: bool,
    /// Whether SETUP over UDP is accepted (461 otherwise).
    pub udp: bool,
    /// Authentication required.
    pub auth: Option<Auth>,
    /// `Session: …;timeout=N`; the session expires (media stop, the connection closes) unless
    /// a request comes within it.
    pub session_timeout: Option<Duration>,
    /// At most this many sessions; another SETUP gets 453 while they last. A session left
    /// without TEARDOWN lingers until its timeout (or this long without one).
    pub max_sessions: Option<usize>,
    /// How long a session left without TEARDOWN lingers with `max_sessions`.
    pub linger: Duration,
    /// DESCRIBE is answered with this redirect (301 or 302, `Location`).
    pub redirect: Option<(u16, String)>,
    /// A method answered with a status of the scenario's choosing.
    pub answers: Vec<(String, u16)>,
    /// Methods taken and never answered (logged with status 0), as a camera whose firmware
    /// hangs on them.
    pub unanswered: Vec<String>,
    /// `sprop-parameter-sets` in the SDP (false: parameter sets only in-band).
    pub sprop: bool,
    /// Content base and control URLs.
    pub control: ControlStyle,
    /// Audio and metadata tracks described before the video track.
    pub tracks_before_video: bool,
    /// Media start before the PLAY answer (over TCP).
    pub data_before_play_answer: bool,
    /// RTP fields.
    pub rtp: RtpScript,
    /// RTCP.
    pub rtcp: RtcpScript,
    /// The camera's clock.
    pub clock: CameraClock,
    /// UDP impairments.
    pub impairment: Impairment,
    /// From this frame on, another content (a new picture size, new parameter sets in-band).
    pub switch_content: Option<(u64, ContentSpec)>,
    /// Clients start at the next key frame (true) or at the next frame (false).
    pub start_at_key_frame: bool,
    /// Every SPS sent in-band is replaced by this one, and the SDP carries no parameter sets:
    /// a camera declaring a picture size of its choosing.
    pub sps_override: Option<Vec<u8>>,
}

impl Scenario {
    /// A well-behaved camera sending `content` at `/cam`.
    pub fn new(content: ContentSpec) -> Self {
        Scenario {
            content,
            path: "/cam".into(),
            tcp: true,
            udp: true,
            auth: None,
            session_timeout: Some(Duration::from_secs(60)),
            max_sessions: None,
            linger: Duration::from_secs(60),
            redirect: None,
            answers: Vec::new(),
            unanswered: Vec::new(),
            sprop: true,
            control: ControlStyle::default(),
            tracks_before_video: false,
            data_before_play_answer: false,
            rtp: RtpScript::default(),
            rtcp: RtcpScript::default(),
            clock: CameraClock::default(),
            impairment: Impairment::default(),
            switch_content: None,
            start_at_key_frame: false,
            sps_override: None,
        }
    }
}

/// What the server saw and did, for a test's assertions from the server's side.
#[derive(Debug, Default, Clone)]
pub struct ServerLog {
    /// Connections accepted.
    pub connections: u64,
    /// Requests by method, in order: (client, method, status answered).
    pub requests: Vec<(u64, String, u16)>,
    /// Sessions that expired for lack of a keep-alive.
    pub expired: u64,
    /// Things that happened on the wire: (client, what, at packet or frame).
    pub quirks: Vec<(u64, String, u64)>,
    /// Frames sent (all clients).
    pub frames_sent: u64,
    /// Packets sent, dropped, duplicated and reordered over UDP (all clients).
    pub packets: PacketCounts,
    /// Stream frames that lost at least one packet of picture data (all clients).
    pub lost_frames: Vec<u64>,
    /// The instant the server assigned to each stream frame it sent: when the first client
    /// was sent its first packet, in frame order (the newest [`SENT_LOG_LEN`] frames).
    pub sent_at: std::collections::VecDeque<(u64, Instant)>,
}

/// How many frames [`ServerLog::sent_at`] remembers (an hour and a half at 15 fps).
pub const SENT_LOG_LEN: usize = 80_000;

impl ServerLog {
    /// The instant the server assigned to stream frame `n`, if it sent it and still remembers.
    pub fn sent_instant(&self, n: u64) -> Option<Instant> {
        let at = self.sent_at.partition_point(|(m, _)| *m < n);
        self.sent_at
            .get(at)
            .filter(|(m, _)| *m == n)
            .map(|(_, t)| *t)
    }
}

/// Packet counts over UDP.
#[derive(Debug, Default, Clone, Copy)]
pub struct PacketCounts {
    /// Sent (duplicates counted once).
    pub sent: u64,
    /// Dropped.
    pub dropped: u64,
    /// Of those, the ones that carried no picture data (repeated parameter sets, SEI): their
    /// frames stay decodable and are not in [`ServerLog::lost_frames`].
    pub dropped_outside_pictures: u64,
    /// Sent twice.
    pub duplicated: u64,
    /// Held back behind later ones.
    pub reordered: u64,
    /// Payload bits flipped.
    pub corrupted: u64,
}

pub(crate) struct Shared {
    pub(crate) scenario: Scenario,
    pub(crate) clip: Arc<Clip>,
    pub(crate) switch_clip: Option<Arc<Clip>>,
    pub(crate) port: u16,
    /// When frame 0 of the stream is sent (real time), and the wall-clock time then.
    pub(crate) start: (Instant, SystemTime),
    pub(crate) stop: AtomicBool,
    pub(crate) log: Mutex<ServerLog>,
    pub(crate) clients: AtomicU64,
    /// Live sessions (id, when they last heard of their client).
    pub(crate) sessions: Mutex<Vec<(u64, Instant, bool)>>,
}

impl Shared {
    pub(crate) fn log(&self, f: impl FnOnce(&mut ServerLog)) {
        f(&mut self.log.lock().unwrap_or_else(PoisonError::into_inner));
    }

    pub(crate) fn stopping(&self) -> bool {
        self.stop.load(Ordering::Relaxed)
    }

    /// The clip frame `n` of the stream comes from, and its unit there.
    pub(crate) fn unit(&self, n: u64) -> (&Clip, usize) {
        let clip = match &self.switch_clip {
            Some(other)
                if self
                    .scenario
                    .switch_content
                    .as_ref()
                    .is_some_and(|(at, _)| n >= *at) =>
            {
                other
            }
            _ => &self.clip,
        };
        (clip, (n % clip.units.len() as u64) as usize)
    }
}

/// The scriptable camera: a listener on 127.0.0.1 and a thread per client. Dropping it stops
/// everything.
pub struct CameraServer {
    shared: Arc<Shared>,
    accept: Option<JoinHandle<()>>,
}

impl CameraServer {
    /// Starts a camera playing `scenario` (its content generated or taken from the cache).
    pub fn start(scenario: Scenario) -> Result<CameraServer, TestkitError> {
        let clip = Clip::get(&scenario.content)?;
        let switch_clip = match &scenario.switch_content {
            Some((_, spec)) => Some(Clip::get(spec)?),
            None => None,
        };
        let listener = TcpListener::bind("127.0.0.1:0")?;
        listener.set_nonblocking(true)?;
        let port = listener.local_addr()?.port();
        let shared = Arc::new(Shared {
            scenario,
            clip,
            switch_clip,
            port,
            start: (Instant::now(), SystemTime::now()),
            stop: AtomicBool::new(false),
            log: Mutex::default(),
            clients: AtomicU64::new(0),
            sessions: Mutex::default(),
        });
        let s = Arc::clone(&shared);
        let accept = std::thread::Builder::new()
            .name("camera-accept".into())
            .spawn(move || session::accept_loop(&s, &listener))?;
        Ok(CameraServer {
            shared,
            accept: Some(accept),
        })
    }

    /// The port on 127.0.0.1.
    pub fn port(&self) -> u16 {
        self.shared.port
    }

    /// `rtsp://127.0.0.1:PORT/cam` (the scenario's path).
    pub fn url(&self) -> String {
        format!(
            "rtsp://127.0.0.1:{}{}",
            self.shared.port, self.shared.scenario.path
        )
    }

    /// The clip it serves.
    pub fn clip(&self) -> &Arc<Clip> {
        &self.shared.clip
    }

    /// What the server saw and did so far.
    pub fn log(&self) -> ServerLog {
        self.shared
            .log
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .clone()
    }

    /// When frame `n` of the stream was captured, on the camera's clock: the instant its RTP
    /// time stamp stands for, and the one sender reports map it to.
    pub fn capture_time(&self, n: u64) -> SystemTime {
        clock::capture_time(&self.shared, n)
    }

    /// When frame `n` of the stream is sent (real time).
    pub fn send_instant(&self, n: u64) -> Instant {
        clock::send_instant(&self.shared, n)
    }

    /// The stream frame whose pictures carry `index` (its index in the clip), sent closest to
    /// `seen` (when a client received it): the frame a decoded picture was.
    pub fn frame_of(&self, index: u32, seen: Instant) -> u64 {
        let units = self.shared.clip.units.len() as u64;
        let fps = f64::from(self.shared.clip.fps());
        let elapsed = seen
            .saturating_duration_since(self.shared.start.0)
            .as_secs_f64();
        let approx = (elapsed * fps) as u64;
        let base = approx.saturating_sub(approx % units);
        [base.saturating_sub(units), base, base + units]
            .into_iter()
            .map(|loop_start| loop_start + u64::from(index))
            .filter(|&n| self.send_instant(n) <= seen + Duration::from_millis(50))
            .max()
            .unwrap_or(u64::from(index))
    }

    /// The stream frame a decoded picture shows: the index in its pixels, placed by when it
    /// was received (see [`frame_of`](Self::frame_of)); `None` if the picture carries none.
    pub fn frame_in(&self, frame: &rtsp_stream_core::Frame) -> Option<u64> {
        let index = (crate::decode_stamp(frame)? & 0xff_ffff) as u32;
        Some(self.frame_of(index, frame.received_instant()))
    }

    /// Whether stream frame `n` is a key frame.
    pub fn is_key_frame(&self, n: u64) -> bool {
        let (clip, i) = self.shared.unit(n);
        clip.units[i].key
    }

    /// Clients connected so far.
    pub fn clients(&self) -> u64 {
        self.shared.clients.load(Ordering::Relaxed)
    }
}

impl Drop for CameraServer {
    fn drop(&mut self) {
        self.shared.stop.store(true, Ordering::Relaxed);
        if let Some(t) = self.accept.take() {
            let _ = t.join();
        }
    }
}
