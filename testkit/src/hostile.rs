//! Small RTSP peers that misbehave on purpose, in this process, on loopback.

use crate::TestkitError;
use std::io::{ErrorKind, Read, Write};
use std::net::{TcpListener, TcpStream};
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, PoisonError};
use std::thread::JoinHandle;
use std::time::Duration;

/// How a [`HostilePeer`] answers a connection.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Hostility {
    /// Reads each request and sends a valid answer one byte every `interval`: an open never
    /// completes in time, and no read ever times out.
    SlowAnswer(Duration),
    /// Answers the first request with a header line of this many bytes (10 MiB is what broke
    /// a decoder), sent as fast as the client reads it.
    HugeHeader(usize),
    /// Answers every request with this RTSP status (e.g. `400 Bad Request`).
    Status(u16),
    /// Answers the first request with `Content-Length: 4294967295` and then sends body bytes
    /// as fast as the client reads them, without end: a client that believes the length
    /// buffers without bound.
    EndlessBody,
    /// Answers OPTIONS, DESCRIBE (with this SDP) and SETUP (with this status) as a server
    /// would, and PLAY with 200 but sends no media.
    Session {
        /// The session description DESCRIBE returns.
        sdp: String,
        /// The status SETUP answers (200 with an interleaved transport, or e.g. 461).
        setup_status: u16,
    },
}

impl Hostility {
    /// An SDP with one metadata stream (as an ONVIF camera's metadata-only profile has): no
    /// picture a decoder can use.
    pub fn metadata_only_sdp() -> String {
        "v=0\r\no=- 1 1 IN IP4 127.0.0.1\r\ns=metadata\r\nc=IN IP4 0.0.0.0\r\nt=0 0\r\n\
         m=application 0 RTP/AVP 107\r\na=rtpmap:107 vnd.onvif.metadata/90000\r\n\
         a=control:track1\r\n"
            .into()
    }
}

/// A TCP listener on 127.0.0.1 that answers RTSP requests according to a list of
/// [`Hostility`]s, one per connection in turn (so one peer can alternate behaviours). Every
/// connection is served on a thread of its own that ends when the client goes away or the peer
/// is dropped.
pub struct HostilePeer {
    port: u16,
    shared: Arc<Shared>,
    accept: Option<JoinHandle<()>>,
}

struct Shared {
    stop: AtomicBool,
    accepted: AtomicUsize,
    connections: Mutex<Vec<JoinHandle<()>>>,
}

impl HostilePeer {
    /// Starts a peer that answers the n-th connection as `behaviours[n % len]`.
    pub fn start(behaviours: Vec<Hostility>) -> Result<HostilePeer, TestkitError> {
        assert!(!behaviours.is_empty(), "a peer needs a behaviour");
        let listener = TcpListener::bind("127.0.0.1:0")?;
        listener.set_nonblocking(true)?;
        let port = listener.local_addr()?.port();
        let shared = Arc::new(Shared {
            stop: AtomicBool::new(false),
            accepted: AtomicUsize::new(0),
            connections: Mutex::new(Vec::new()),
        });
        let s = Arc::clone(&shared);
        let accept = std::thread::Builder::new()
            .name("hostile-peer".into())
            .spawn(move || accept_loop(&listener, &s, &behaviours))?;
        Ok(HostilePeer {
            port,
            shared,
            accept: Some(accept),
        })
    }

    /// The port on 127.0.0.1.
    pub fn port(&self) -> u16 {
        self.port
    }

    /// `rtsp://127.0.0.1:PORT/hostile`.
    pub fn url(&self) -> String {
        format!("rtsp://127.0.0.1:{}/hostile", self.port)
    }

    /// Connections accepted so far.
    pub fn accepted(&self) -> usize {
        self.shared.accepted.load(Ordering::SeqCst)
    }
}

impl Drop for HostilePeer {
    fn drop(&mut self) {
        self.shared.stop.store(true, Ordering::SeqCst);
        if let Some(t) = self.accept.take() {
            let _ = t.join();
        }
        let connections = std::mem::take(
            &mut *self
                .shared
                .connections
                .lock()
                .unwrap_or_else(PoisonError::into_inner),
        );
        for t in connections {
            let _ = t.join();
        }
    }
}

/// A [`HostilePeer`] in a child process (the current executable re-run, like
/// [`TestServerProcess`](crate::TestServerProcess)), so that its threads and sockets do not
/// count against the process being measured. The test must call
/// [`TestServerProcess::serve_child_if_requested`](crate::TestServerProcess::serve_child_if_requested)
/// first thing.
pub struct HostilePeerProcess {
    child: crate::child::ServingChild,
}

const PEER_ENV: &str = "RTSP_STREAM_TESTKIT_PEER";

impl HostilePeerProcess {
    /// Spawns the current executable with `args` as a peer answering with `behaviours`.
    pub fn spawn(behaviours: &[Hostility], args: &[&str]) -> Result<Self, TestkitError> {
        let spec = behaviours
            .iter()
            .map(Hostility::to_spec)
            .collect::<Vec<_>>()
            .join(",");
        Ok(HostilePeerProcess {
            child: crate::child::ServingChild::spawn(PEER_ENV, &spec, args)?,
        })
    }

    /// `rtsp://127.0.0.1:PORT/hostile`.
    pub fn url(&self) -> String {
        format!("rtsp://127.0.0.1:{}/hostile", self.child.port())
    }
}

pub(crate) fn serve_peer_child_if_requested() {
    let Ok(spec) = std::env::var(PEER_ENV) else {
        return;
    };
    let behaviours = spec
        .split(',')
        .map(|s| Hostility::from_spec(s).expect("a valid peer spec"))
        .collect();
    let peer = HostilePeer::start(behaviours).expect("the peer starts");
    crate::child::serve_until_stdin_closes(peer.port());
}

impl Hostility {
    /// The child-process form of the slow and huge answers (the others are not needed there).
    fn to_spec(&self) -> String {
        match self {
            Hostility::SlowAnswer(d) => format!("slow:{}", d.as_millis()),
            Hostility::HugeHeader(n) => format!("huge:{n}"),
            Hostility::EndlessBody => "endless:0".into(),
            Hostility::Status(code) => format!("status:{code}"),
            Hostility::Session { .. } => unimplemented!("a session peer runs in-process"),
        }
    }

    fn from_spec(spec: &str) -> Option<Hostility> {
        let (kind, n) = spec.split_once(':')?;
        let n: u64 = n.parse().ok()?;
        match kind {
            "slow" => Some(Hostility::SlowAnswer(Duration::from_millis(n))),
            "huge" => Some(Hostility::HugeHeader(n as usize)),
            "endless" => Some(Hostility::EndlessBody),
            "status" => Some(Hostility::Status(n as u16)),
            _ => None,
        }
    }
}

fn accept_loop(listener: &TcpListener, shared: &Arc<Shared>, behaviours: &[Hostility]) {
    while !shared.stop.load(Ordering::SeqCst) {
        match listener.accept() {
            Ok((stream, _)) => {
                let n = shared.accepted.fetch_add(1, Ordering::SeqCst);
                let behaviour = behaviours[n % behaviours.len()].clone();
                let s = Arc::clone(shared);
                if let Ok(t) = std::thread::Builder::new()
                    .name("hostile-conn".into())
                    .spawn(move || serve(stream, &behaviour, &s.stop))
                {
                    shared
                        .connections
                        .lock()
                        .unwrap_or_else(PoisonError::into_inner)
                        .push(t);
                }
            }
            Err(e) if e.kind() == ErrorKind::WouldBlock => {
                std::thread::sleep(Duration::from_millis(5));
            }
            Err(_) => return,
        }
    }
}

/// One connection: requests in, answers out, until the client leaves or the peer stops.
fn serve(mut stream: TcpStream, behaviour: &Hostility, stop: &AtomicBool) {
    let _ = stream.set_read_timeout(Some(Duration::from_millis(50)));
    let _ = stream.set_nodelay(true);
    let mut pending = Vec::new();
    while !stop.load(Ordering::SeqCst) {
        let Some(request) = next_request(&mut stream, &mut pending, stop) else {
            return;
        };
        let cseq = header(&request, "cseq").unwrap_or_else(|| "1".into());
        let ok = match behaviour {
            Hostility::SlowAnswer(interval) => {
                let answer = format!(
                    "RTSP/1.0 200 OK\r\nCSeq: {cseq}\r\nPublic: OPTIONS, DESCRIBE, SETUP, PLAY\r\n\r\n"
                );
                answer
                    .bytes()
                    .all(|b| pause(*interval, stop) && stream.write_all(&[b]).is_ok())
            }
            Hostility::HugeHeader(len) => huge_header(&mut stream, &cseq, *len, stop),
            Hostility::EndlessBody => endless_body(&mut stream, &cseq, stop),
            Hostility::Status(code) => stream
                .write_all(
                    format!("RTSP/1.0 {code} {}\r\nCSeq: {cseq}\r\n\r\n", reason(*code)).as_bytes(),
                )
                .is_ok(),
            Hostility::Session { sdp, setup_status } => {
                let answer = session_answer(&request, &cseq, sdp, *setup_status);
                stream.write_all(answer.as_bytes()).is_ok()
            }
        };
        if !ok {
            return;
        }
    }
}

/// Reads until a whole request (headers, and a body if Content-Length says so) is there.
fn next_request(
    stream: &mut TcpStream,
    pending: &mut Vec<u8>,
    stop: &AtomicBool,
) -> Option<String> {
    let mut buf = [0u8; 4096];
    loop {
        if let Some(end) = pending.windows(4).position(|w| w == b"\r\n\r\n") {
            let head = String::from_utf8_lossy(&pending[..end + 4]).into_owned();
            let body = header(&head, "content-length")
                .and_then(|l| l.parse::<usize>().ok())
                .unwrap_or(0);
            if pending.len() >= end + 4 + body {
                pending.drain(..end + 4 + body);
                return Some(head);
            }
        }
        if stop.load(Ordering::SeqCst) {
            return None;
        }
        match stream.read(&mut buf) {
            Ok(0) => return None,
            Ok(n) => pending.extend_from_slice(&buf[..n]),
            Err(e) if matches!(e.kind(), ErrorKind::WouldBlock | ErrorKind::TimedOut) => {}
            Err(_) => return None,
        }
    }
}

fn header(request: &str, name: &str) -> Option<String> {
    request.lines().find_map(|line| {
        let (key, value) = line.split_once(':')?;
        key.trim()
            .eq_ignore_ascii_case(name)
            .then(|| value.trim().to_owned())
    })
}

/// Sleeps `d` in short steps; false once the peer stops.
fn pause(d: Duration, stop: &AtomicBool) -> bool {
    let step = Duration::from_millis(20);
    let mut left = d;
    while !left.is_zero() {
        if stop.load(Ordering::SeqCst) {
            return false;
        }
        let now = left.min(step);
        std::thread::sleep(now);
        left -= now;
    }
    !stop.load(Ordering::SeqCst)
}

fn huge_header(stream: &mut TcpStream, cseq: &str, len: usize, stop: &AtomicBool) -> bool {
    let _ = stream.set_write_timeout(Some(Duration::from_millis(50)));
    let head = format!("RTSP/1.0 200 OK\r\nCSeq: {cseq}\r\nX-Padding: ");
    if stream.write_all(head.as_bytes()).is_err() {
        return false;
    }
    let chunk = vec![b'A'; 64 * 1024];
    let mut sent = 0;
    while sent < len {
        if stop.load(Ordering::SeqCst) {
            return false;
        }
        let n = chunk.len().min(len - sent);
        match stream.write(&chunk[..n]) {
            Ok(written) => sent += written,
            Err(e) if matches!(e.kind(), ErrorKind::WouldBlock | ErrorKind::TimedOut) => {}
            Err(_) => return false,
        }
    }
    stream.write_all(b"\r\n\r\n").is_ok()
}

fn endless_body(stream: &mut TcpStream, cseq: &str, stop: &AtomicBool) -> bool {
    let _ = stream.set_write_timeout(Some(Duration::from_millis(50)));
    let head = format!(
        "RTSP/1.0 200 OK\r\nCSeq: {cseq}\r\nContent-Type: application/sdp\r\n\
         Content-Length: 4294967295\r\n\r\nv=0\r\n"
    );
    if stream.write_all(head.as_bytes()).is_err() {
        return false;
    }
    let chunk = vec![b'a'; 64 * 1024];
    while !stop.load(Ordering::SeqCst) {
        match stream.write(&chunk) {
            Ok(_) => {}
            Err(e) if matches!(e.kind(), ErrorKind::WouldBlock | ErrorKind::TimedOut) => {}
            Err(_) => return false,
        }
    }
    false
}

fn session_answer(request: &str, cseq: &str, sdp: &str, setup_status: u16) -> String {
    let method = request.split_whitespace().next().unwrap_or("");
    match method {
        "OPTIONS" => format!(
            "RTSP/1.0 200 OK\r\nCSeq: {cseq}\r\nPublic: OPTIONS, DESCRIBE, SETUP, PLAY, \
             TEARDOWN\r\n\r\n"
        ),
        "DESCRIBE" => format!(
            "RTSP/1.0 200 OK\r\nCSeq: {cseq}\r\nContent-Type: application/sdp\r\n\
             Content-Base: rtsp://127.0.0.1/hostile/\r\nContent-Length: {}\r\n\r\n{sdp}",
            sdp.len()
        ),
        "SETUP" if setup_status == 200 => format!(
            "RTSP/1.0 200 OK\r\nCSeq: {cseq}\r\nSession: 12345678;timeout=60\r\n\
             Transport: RTP/AVP/TCP;unicast;interleaved=0-1\r\n\r\n"
        ),
        "SETUP" => format!(
            "RTSP/1.0 {setup_status} {}\r\nCSeq: {cseq}\r\n\r\n",
            reason(setup_status)
        ),
        "PLAY" | "TEARDOWN" | "GET_PARAMETER" | "SET_PARAMETER" | "PAUSE" => {
            format!("RTSP/1.0 200 OK\r\nCSeq: {cseq}\r\nSession: 12345678\r\n\r\n")
        }
        _ => format!("RTSP/1.0 405 Method Not Allowed\r\nCSeq: {cseq}\r\n\r\n"),
    }
}

fn reason(code: u16) -> &'static str {
    match code {
        200 => "OK",
        400 => "Bad Request",
        401 => "Unauthorized",
        404 => "Not Found",
        415 => "Unsupported Media Type",
        454 => "Session Not Found",
        461 => "Unsupported Transport",
        500 => "Internal Server Error",
        _ => "Error",
    }
}
