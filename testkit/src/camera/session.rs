//! One client connection: RTSP requests in, answers out, the media sender started by PLAY.

use super::auth::{Gate, Verdict};
use super::sender::{self, MediaPath, Sender};
use super::wire::{self, AskedTransport, Incoming, Request};
use super::{ControlStyle, Shared};
use crate::content::ContentCodec;
use crate::rtp::{base64, sprop};
use std::io::Write;
use std::net::{TcpListener, TcpStream, UdpSocket};
use std::sync::atomic::Ordering;
use std::sync::{Arc, Mutex, PoisonError};
use std::time::{Duration, Instant};

pub(super) fn accept_loop(shared: &Arc<Shared>, listener: &TcpListener) {
    let mut threads = Vec::new();
    while !shared.stopping() {
        match listener.accept() {
            Ok((stream, _)) => {
                let client = shared.clients.fetch_add(1, Ordering::Relaxed) + 1;
                shared.log(|l| l.connections += 1);
                let s = Arc::clone(shared);
                if let Ok(t) = std::thread::Builder::new()
                    .name("camera-conn".into())
                    .spawn(move || Connection::new(s, stream, client).serve())
                {
                    threads.push(t);
                }
                threads.retain(|t| !t.is_finished());
            }
            Err(_) => std::thread::sleep(Duration::from_millis(5)),
        }
    }
    for t in threads {
        let _ = t.join();
    }
}

/// A SETUP'd track: the video one (media flows) or another (nothing is sent).
#[derive(Clone, Copy)]
enum Track {
    Video,
    Other,
}

struct Connection {
    shared: Arc<Shared>,
    stream: TcpStream,
    writer: Arc<Mutex<TcpStream>>,
    client: u64,
    gate: Gate,
    session: Option<String>,
    path: Option<MediaPath>,
    sender: Option<Sender>,
    last_request: Instant,
    torn_down: bool,
}

impl Connection {
    fn new(shared: Arc<Shared>, stream: TcpStream, client: u64) -> Self {
        let _ = stream.set_nodelay(true);
        let writer = Arc::new(Mutex::new(stream.try_clone().expect("a socket clones")));
        Connection {
            shared,
            stream,
            writer,
            client,
            gate: Gate::new(client),
            session: None,
            path: None,
            sender: None,
            last_request: Instant::now(),
            torn_down: false,
        }
    }

    fn serve(mut self) {
        let mut reader = wire::Reader::new();
        while !self.shared.stopping() {
            if self.expired() {
                self.shared.log(|l| l.expired += 1);
                break;
            }
            match reader.next(&mut self.stream, Duration::from_millis(50)) {
                Incoming::Closed => break,
                Incoming::Idle | Incoming::Interleaved => {}
                Incoming::Request(request) => {
                    self.last_request = Instant::now();
                    if !self.handle(&request) {
                        break;
                    }
                }
            }
        }
        self.sender = None;
        let _ = self.stream.shutdown(std::net::Shutdown::Both);
        self.release_session();
    }

    fn expired(&self) -> bool {
        let timeout = self.shared.scenario.session_timeout;
        self.session.is_some() && timeout.is_some_and(|t| self.last_request.elapsed() > t)
    }

    fn send(&self, bytes: &[u8]) -> bool {
        self.writer
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .write_all(bytes)
            .is_ok()
    }

    fn reply(
        &self,
        request: &Request,
        status: u16,
        headers: &[(&str, String)],
        body: &str,
    ) -> bool {
        let method = request.method.clone();
        self.shared
            .log(|l| l.requests.push((self.client, method, status)));
        let mut all = headers.to_vec();
        if let Some(id) = &self.session {
            let timeout = self
                .shared
                .scenario
                .session_timeout
                .map_or(String::new(), |t| {
                    format!(";timeout={}", t.as_secs().max(1))
                });
            all.push(("Session", format!("{id}{timeout}")));
        }
        self.send(&wire::answer(status, request.cseq(), &all, body))
    }

    /// Answers one request; false when the connection should close.
    fn handle(&mut self, request: &Request) -> bool {
        let scenario = &self.shared.scenario;
        if scenario
            .unanswered
            .iter()
            .any(|m| m.eq_ignore_ascii_case(&request.method))
        {
            let method = request.method.clone();
            self.shared
                .log(|l| l.requests.push((self.client, method, 0)));
            return true;
        }
        if let Some((_, status)) = scenario
            .answers
            .iter()
            .find(|(m, _)| m.eq_ignore_ascii_case(&request.method))
        {
            return self.reply(request, *status, &[], "");
        }
        if let Some(auth) = scenario.auth.clone()
            && request.method != "OPTIONS"
            && let Verdict::Challenge(challenge) = self.gate.check(&auth, request)
        {
            return self.reply(request, 401, &[("WWW-Authenticate", challenge)], "");
        }
        match request.method.as_str() {
            "OPTIONS" => self.reply(
                request,
                200,
                &[(
                    "Public",
                    "OPTIONS, DESCRIBE, SETUP, PLAY, PAUSE, TEARDOWN, GET_PARAMETER, SET_PARAMETER"
                        .into(),
                )],
                "",
            ),
            "DESCRIBE" => self.describe(request),
            "SETUP" => self.setup(request),
            "PLAY" => self.play(request),
            "TEARDOWN" => {
                self.sender = None;
                self.torn_down = true;
                let ok = self.reply(request, 200, &[], "");
                self.release_session();
                self.session = None;
                ok
            }
            "GET_PARAMETER" | "SET_PARAMETER" | "PAUSE" => self.reply(request, 200, &[], ""),
            _ => self.reply(request, 405, &[], ""),
        }
    }

    fn base(&self) -> String {
        format!(
            "rtsp://127.0.0.1:{}{}",
            self.shared.port, self.shared.scenario.path
        )
    }

    fn describe(&mut self, request: &Request) -> bool {
        let scenario = &self.shared.scenario;
        if let Some((status, location)) = &scenario.redirect {
            return self.reply(request, *status, &[("Location", location.clone())], "");
        }
        if !request.url.ends_with(&scenario.path)
            && !request.url.ends_with(&format!("{}/", scenario.path))
        {
            return self.reply(request, 404, &[], "");
        }
        let base = format!("{}/", self.base());
        let mut headers = vec![("Content-Type", "application/sdp".to_owned())];
        match scenario.control {
            ControlStyle::ContentBase => headers.push(("Content-Base", base)),
            ControlStyle::ContentLocation => headers.push(("Content-Location", base)),
            ControlStyle::RequestUrl | ControlStyle::Absolute => {}
        }
        let sdp = self.sdp();
        self.reply(request, 200, &headers, &sdp)
    }

    fn control(&self, track: &str) -> String {
        match self.shared.scenario.control {
            ControlStyle::Absolute => format!("{}/{track}", self.base()),
            _ => track.to_owned(),
        }
    }

    fn sdp(&self) -> String {
        let clip = &self.shared.clip;
        let scenario = &self.shared.scenario;
        let mut sdp = format!(
            "v=0\r\no=- {} 1 IN IP4 127.0.0.1\r\ns=camera\r\nc=IN IP4 0.0.0.0\r\nt=0 0\r\n\
             a=control:*\r\na=range:npt=0-\r\n",
            self.client
        );
        if scenario.tracks_before_video {
            sdp.push_str(&format!(
                "m=audio 0 RTP/AVP 0\r\na=rtpmap:0 PCMU/8000\r\na=control:{}\r\n\
                 m=application 0 RTP/AVP 107\r\na=rtpmap:107 vnd.onvif.metadata/90000\r\n\
                 a=control:{}\r\n",
                self.control("trackA"),
                self.control("trackM")
            ));
        }
        let sets = &clip.parameter_sets;
        let (pt, rtpmap, fmtp) = match clip.spec.codec {
            ContentCodec::Mjpeg => (26, "JPEG/90000".to_owned(), None),
            ContentCodec::H265 => {
                let named = |kind: u8| {
                    sets.iter()
                        .find(|s| crate::content::nal_type(ContentCodec::H265, s) == kind)
                        .map(|s| base64(s))
                        .unwrap_or_default()
                };
                let fmtp = scenario.sprop.then(|| {
                    format!(
                        "sprop-vps={};sprop-sps={};sprop-pps={}",
                        named(32),
                        named(33),
                        named(34)
                    )
                });
                (96, "H265/90000".to_owned(), fmtp)
            }
            _ => {
                let profile = sets
                    .first()
                    .filter(|s| s.len() >= 4)
                    .map_or("64001f".into(), |s| {
                        format!("{:02x}{:02x}{:02x}", s[1], s[2], s[3])
                    });
                let mut fmtp = format!("packetization-mode=1;profile-level-id={profile}");
                if scenario.sprop && scenario.sps_override.is_none() {
                    fmtp.push_str(&format!(";sprop-parameter-sets={}", sprop(sets)));
                }
                (96, "H264/90000".to_owned(), Some(fmtp))
            }
        };
        sdp.push_str(&format!(
            "m=video 0 RTP/AVP {pt}\r\na=rtpmap:{pt} {rtpmap}\r\n"
        ));
        if let Some(fmtp) = fmtp {
            sdp.push_str(&format!("a=fmtp:{pt} {fmtp}\r\n"));
        }
        sdp.push_str(&format!(
            "a=framerate:{}\r\na=control:{}\r\n",
            clip.fps(),
            self.control("trackV")
        ));
        sdp
    }

    fn track_of(&self, url: &str) -> Track {
        if url.ends_with("trackA") || url.ends_with("trackM") {
            Track::Other
        } else {
            Track::Video
        }
    }

    fn setup(&mut self, request: &Request) -> bool {
        let scenario = self.shared.scenario.clone();
        let Some(asked) = wire::asked_transport(request) else {
            return self.reply(request, 461, &[], "");
        };
        let allowed = match asked {
            AskedTransport::Tcp(_) => scenario.tcp,
            AskedTransport::Udp(_) => scenario.udp,
        };
        if !allowed {
            return self.reply(request, 461, &[], "");
        }
        if self.session.is_none() {
            if let Some(max) = scenario.max_sessions
                && self.live_sessions() >= max
            {
                return self.reply(request, 453, &[], "");
            }
            self.session = Some(format!("{:08X}", 0x1000_0000 + self.client));
            self.shared
                .sessions
                .lock()
                .unwrap_or_else(PoisonError::into_inner)
                .push((self.client, Instant::now(), false));
        }
        let track = self.track_of(&request.url);
        let ssrc = scenario.rtp.ssrc;
        let transport = match asked {
            AskedTransport::Tcp(channel) => {
                if matches!(track, Track::Video) {
                    self.path = Some(MediaPath::Tcp {
                        writer: Arc::clone(&self.writer),
                        channel,
                    });
                }
                format!(
                    "RTP/AVP/TCP;unicast;interleaved={channel}-{};ssrc={ssrc:08X}",
                    channel + 1
                )
            }
            AskedTransport::Udp(port) => {
                let Some((rtp, rtcp)) = udp_pair() else {
                    return self.reply(request, 500, &[], "");
                };
                let ports = (
                    rtp.local_addr().map_or(0, |a| a.port()),
                    rtcp.local_addr().map_or(0, |a| a.port()),
                );
                if matches!(track, Track::Video) {
                    self.path = Some(MediaPath::Udp {
                        rtp,
                        rtcp,
                        to: std::net::SocketAddr::from(([127, 0, 0, 1], port)),
                    });
                }
                format!(
                    "RTP/AVP;unicast;client_port={port}-{};server_port={}-{};ssrc={ssrc:08X}",
                    port + 1,
                    ports.0,
                    ports.1
                )
            }
        };
        self.reply(request, 200, &[("Transport", transport)], "")
    }

    fn play(&mut self, request: &Request) -> bool {
        if self.session.is_none() {
            return self.reply(request, 454, &[], "");
        }
        if self.sender.is_none()
            && let Some(path) = self.path.take()
        {
            let sender = sender::start(&self.shared, self.client, path);
            if self.shared.scenario.data_before_play_answer {
                sender.wait_first_packet(Duration::from_secs(2));
            }
            self.sender = Some(sender);
        }
        let info = self.sender.as_ref().map_or(String::new(), |s| {
            format!(
                "url={}/trackV;seq={};rtptime={}",
                self.base(),
                s.first.0,
                s.first.1
            )
        });
        self.reply(
            request,
            200,
            &[("RTP-Info", info), ("Range", "npt=0.000-".into())],
            "",
        )
    }

    /// Sessions that count against `max_sessions`: live ones, and ones left without TEARDOWN
    /// that still linger.
    fn live_sessions(&self) -> usize {
        let linger = self.shared.scenario.linger;
        let mut sessions = self
            .shared
            .sessions
            .lock()
            .unwrap_or_else(PoisonError::into_inner);
        sessions.retain(|(_, since, lingering)| !*lingering || since.elapsed() < linger);
        sessions.len()
    }

    fn release_session(&self) {
        let mut sessions = self
            .shared
            .sessions
            .lock()
            .unwrap_or_else(PoisonError::into_inner);
        if self.torn_down {
            sessions.retain(|(c, _, _)| *c != self.client);
        } else if let Some(s) = sessions.iter_mut().find(|(c, _, _)| *c == self.client) {
            // Left without TEARDOWN: it lingers from now.
            *s = (self.client, Instant::now(), true);
        }
    }
}

/// Two UDP sockets on an even port and the next one, as RTP and RTCP (RFC 3550 §11): clients
/// such as retina refuse a `server_port` pair that is not.
fn udp_pair() -> Option<(UdpSocket, UdpSocket)> {
    for _ in 0..64 {
        let rtp = UdpSocket::bind("127.0.0.1:0").ok()?;
        let port = rtp.local_addr().ok()?.port();
        if port % 2 != 0 || port == u16::MAX {
            continue;
        }
        if let Ok(rtcp) = UdpSocket::bind(("127.0.0.1", port + 1)) {
            return Some((rtp, rtcp));
        }
    }
    None
}
