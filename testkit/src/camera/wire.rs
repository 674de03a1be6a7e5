//! RTSP on the wire, as a server reads requests and writes answers.

use std::io::{ErrorKind, Read};
use std::net::TcpStream;
use std::time::{Duration, Instant};

/// A request as a client sent it.
#[derive(Debug, Clone)]
pub struct Request {
    /// `DESCRIBE`, `SETUP` …
    pub method: String,
    /// The URL of the request line.
    pub url: String,
    /// Header lines, names as sent.
    pub headers: Vec<(String, String)>,
}

impl Request {
    /// The value of header `name` (case-insensitive), if present.
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(n, _)| n.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }

    /// The `CSeq` (as sent; "0" if missing).
    pub fn cseq(&self) -> &str {
        self.header("CSeq").unwrap_or("0")
    }
}

/// What the reader found.
pub enum Incoming {
    /// A request.
    Request(Request),
    /// An interleaved frame from the client (RTCP receiver reports): ignored.
    Interleaved,
    /// Nothing within the wait.
    Idle,
    /// The client went away, or sent what no server would read.
    Closed,
}

/// Reads requests from a connection, keeping what arrived beyond the current one.
pub struct Reader {
    pending: Vec<u8>,
}

impl Default for Reader {
    fn default() -> Self {
        Self::new()
    }
}

impl Reader {
    /// A reader with nothing read yet.
    pub fn new() -> Self {
        Reader {
            pending: Vec::new(),
        }
    }

    /// The next request or interleaved frame, waiting at most `wait`.
    pub fn next(&mut self, stream: &mut TcpStream, wait: Duration) -> Incoming {
        let until = Instant::now() + wait;
        loop {
            if let Some(found) = self.parse() {
                return found;
            }
            let left = until.saturating_duration_since(Instant::now());
            if left.is_zero() {
                return Incoming::Idle;
            }
            let _ = stream.set_read_timeout(Some(left.max(Duration::from_millis(1))));
            let mut buf = [0u8; 8192];
            match stream.read(&mut buf) {
                Ok(0) => return Incoming::Closed,
                Ok(n) => self.pending.extend_from_slice(&buf[..n]),
                Err(e) if matches!(e.kind(), ErrorKind::WouldBlock | ErrorKind::TimedOut) => {
                    return Incoming::Idle;
                }
                Err(_) => return Incoming::Closed,
            }
            if self.pending.len() > 1 << 20 {
                return Incoming::Closed;
            }
        }
    }

    fn parse(&mut self) -> Option<Incoming> {
        while self
            .pending
            .first()
            .is_some_and(|b| *b == b'\r' || *b == b'\n')
        {
            self.pending.remove(0);
        }
        if self.pending.first() == Some(&b'$') {
            if self.pending.len() < 4 {
                return None;
            }
            let len = usize::from(u16::from_be_bytes([self.pending[2], self.pending[3]]));
            if self.pending.len() < 4 + len {
                return None;
            }
            self.pending.drain(..4 + len);
            return Some(Incoming::Interleaved);
        }
        let end = self.pending.windows(4).position(|w| w == b"\r\n\r\n")?;
        let head = String::from_utf8_lossy(&self.pending[..end]).into_owned();
        let mut lines = head.split("\r\n");
        let first = lines.next().unwrap_or("");
        let mut words = first.split_whitespace();
        let (method, url) = (
            words.next()?.to_owned(),
            words.next().unwrap_or("").to_owned(),
        );
        let headers: Vec<(String, String)> = lines
            .filter_map(|l| {
                let (n, v) = l.split_once(':')?;
                Some((n.trim().to_owned(), v.trim().to_owned()))
            })
            .collect();
        let body = headers
            .iter()
            .find(|(n, _)| n.eq_ignore_ascii_case("content-length"))
            .and_then(|(_, v)| v.parse::<usize>().ok())
            .unwrap_or(0);
        if self.pending.len() < end + 4 + body {
            return None;
        }
        self.pending.drain(..end + 4 + body);
        Some(Incoming::Request(Request {
            method,
            url,
            headers,
        }))
    }
}

/// The reason phrase of a status.
pub fn reason(status: u16) -> &'static str {
    match status {
        200 => "OK",
        301 => "Moved Permanently",
        302 => "Moved Temporarily",
        400 => "Bad Request",
        401 => "Unauthorized",
        403 => "Forbidden",
        404 => "Not Found",
        405 => "Method Not Allowed",
        453 => "Not Enough Bandwidth",
        454 => "Session Not Found",
        455 => "Method Not Valid in This State",
        461 => "Unsupported Transport",
        500 => "Internal Server Error",
        503 => "Service Unavailable",
        _ => "Error",
    }
}

/// An answer: status, the request's CSeq, headers, body.
pub fn answer(status: u16, cseq: &str, headers: &[(&str, String)], body: &str) -> Vec<u8> {
    let mut out = format!("RTSP/1.0 {status} {}\r\nCSeq: {cseq}\r\n", reason(status));
    for (name, value) in headers {
        out.push_str(&format!("{name}: {value}\r\n"));
    }
    if !body.is_empty() {
        out.push_str(&format!("Content-Length: {}\r\n", body.len()));
    }
    out.push_str("\r\n");
    out.push_str(body);
    out.into_bytes()
}

/// An RTP or RTCP packet interleaved in the RTSP connection on `channel`.
pub fn interleaved(channel: u8, packet: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(4 + packet.len());
    out.push(b'$');
    out.push(channel);
    out.extend_from_slice(&(packet.len().min(u16::MAX as usize) as u16).to_be_bytes());
    out.extend_from_slice(packet);
    out
}

/// The transport a SETUP asks for: interleaved channels (TCP) or client ports (UDP).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AskedTransport {
    /// RTP/AVP/TCP with its RTP channel.
    Tcp(u8),
    /// RTP/AVP over UDP to the client's RTP port (RTCP on the next one).
    Udp(u16),
}

/// Reads the `Transport` header of a SETUP.
pub fn asked_transport(request: &Request) -> Option<AskedTransport> {
    let transport = request.header("Transport")?;
    let option = |name: &str| {
        transport
            .split(';')
            .find_map(|part| part.trim().strip_prefix(name)?.strip_prefix('='))
    };
    if transport.contains("TCP") {
        let channel = option("interleaved")
            .and_then(|c| c.split('-').next()?.parse().ok())
            .unwrap_or(0);
        Some(AskedTransport::Tcp(channel))
    } else {
        let port = option("client_port").and_then(|p| p.split('-').next()?.parse().ok())?;
        Some(AskedTransport::Udp(port))
    }
}
