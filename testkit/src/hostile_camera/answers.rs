//! One connection of a hostile camera: what it answers, and the media it sends once playing.

use crate::camera::wire::{Request, answer, interleaved};
use crate::content::{Clip, ContentCodec};
use crate::rng::Rng;
use crate::rtp::{RtpHeader, payloads, sprop};
use std::io::Write;
use std::net::TcpStream;
use std::sync::Arc;
use std::time::{Duration, Instant};

/// A step of the session a valid answer lets the client take.
pub(super) enum Step {
    Describe,
    Setup,
    Play,
}

/// What came of one request.
pub(super) struct Outcome {
    pub(super) reached: Option<Step>,
    pub(super) keep_open: bool,
}

/// Hostile text, beside the testkit's generator's numbers and bytes.
impl Rng {
    /// Text a camera could send: any byte, often multi-byte UTF-8, sometimes a line break.
    fn text(&mut self, len: usize) -> Vec<u8> {
        const PIECES: &[&str] = &[
            "未找到",
            "Nicht gefunden",
            "é",
            "\r\n",
            "\n",
            "\x1b[31m",
            "[ERROR rtsp_stream] ",
            "%s%n",
            "\0",
            "=",
            "@",
            "://",
            "password=",
            "😀",
            "\u{202e}",
        ];
        let mut out = Vec::new();
        while out.len() < len {
            if self.unit() < 0.3 {
                out.extend_from_slice(PIECES[self.below(PIECES.len() as u64) as usize].as_bytes());
            } else {
                out.push(self.next() as u8);
            }
        }
        out
    }
}

struct Playing {
    channel: u8,
    frame: u64,
    sequence: u16,
    next_at: Instant,
}

pub(super) struct Conversation {
    pub(super) seed: u64,
    rng: Rng,
    clip: Arc<Clip>,
    silent: bool,
    playing: Option<Playing>,
    /// What the client sent that a careless camera echoes: its URLs and credentials.
    echo: Vec<String>,
}

impl Conversation {
    pub(super) fn new(seed: u64, connection: u64, clip: Arc<Clip>) -> Self {
        Conversation {
            seed,
            rng: Rng::new(seed ^ connection.wrapping_mul(0x9e37_79b9_7f4a_7c15)),
            clip,
            silent: false,
            playing: None,
            echo: Vec::new(),
        }
    }

    fn echo(&mut self) -> String {
        if self.echo.is_empty() || self.rng.unit() < 0.5 {
            return String::new();
        }
        let i = self.rng.below(self.echo.len() as u64) as usize;
        format!(" {}", self.echo[i])
    }

    pub(super) fn answer(&mut self, request: &Request, stream: &mut TcpStream) -> Outcome {
        self.echo.push(request.url.clone());
        if let Some(auth) = request.header("Authorization") {
            self.echo.push(auth.to_owned());
        }
        let keep = Outcome {
            reached: None,
            keep_open: true,
        };
        if self.silent {
            return keep;
        }
        let roll = self.rng.unit();
        if roll < 0.72 {
            return self.valid(request, stream);
        }
        if roll < 0.75 {
            self.silent = true;
            return keep;
        }
        if roll < 0.78 {
            return Outcome {
                reached: None,
                keep_open: false,
            };
        }
        let bytes = self.malformed(request);
        Outcome {
            reached: None,
            keep_open: stream.write_all(&bytes).is_ok(),
        }
    }

    fn valid(&mut self, request: &Request, stream: &mut TcpStream) -> Outcome {
        let cseq = request.cseq().to_owned();
        let session = ("Session", "5EED0001;timeout=60".to_owned());
        let (bytes, reached) = match request.method.as_str() {
            "DESCRIBE" => {
                let sdp = self.sdp();
                let base = (
                    "Content-Base",
                    format!("{}/", request.url.trim_end_matches('/')),
                );
                let kind = ("Content-Type", "application/sdp".to_owned());
                (
                    answer(200, &cseq, &[base, kind], &sdp),
                    Some(Step::Describe),
                )
            }
            "SETUP"
                if request
                    .header("Transport")
                    .is_some_and(|t| t.contains("TCP")) =>
            {
                let transport = (
                    "Transport",
                    "RTP/AVP/TCP;unicast;interleaved=0-1".to_owned(),
                );
                (
                    answer(200, &cseq, &[transport, session], ""),
                    Some(Step::Setup),
                )
            }
            "SETUP" => (answer(461, &cseq, &[], ""), None),
            "PLAY" => {
                self.playing = Some(Playing {
                    channel: 0,
                    frame: 0,
                    sequence: self.rng.next() as u16,
                    next_at: Instant::now(),
                });
                (answer(200, &cseq, &[session], ""), Some(Step::Play))
            }
            _ => (
                answer(
                    200,
                    &cseq,
                    &[
                        ("Public", "OPTIONS, DESCRIBE, SETUP, PLAY, TEARDOWN".into()),
                        session,
                    ],
                    "",
                ),
                None,
            ),
        };
        Outcome {
            reached,
            keep_open: stream.write_all(&bytes).is_ok(),
        }
    }

    fn sdp(&mut self) -> String {
        let sets = sprop(&self.clip.parameter_sets);
        format!(
            "v=0\r\no=- 1 1 IN IP4 127.0.0.1\r\ns=hostile{}\r\nc=IN IP4 0.0.0.0\r\nt=0 0\r\n\
             m=video 0 RTP/AVP 96\r\na=rtpmap:96 H264/90000\r\n\
             a=fmtp:96 packetization-mode=1;sprop-parameter-sets={sets}\r\na=control:track1\r\n",
            self.echo()
        )
    }

    /// One malformed answer, of a kind drawn at random.
    fn malformed(&mut self, request: &Request) -> Vec<u8> {
        let cseq = request.cseq().to_owned();
        let echo = self.echo();
        let kind = self.rng.below(12);
        let mut out = Vec::new();
        match kind {
            0 => {
                let len = 1 + self.rng.below(60) as usize;
                out.extend(self.rng.text(len));
                out.extend_from_slice(format!("\r\nCSeq: {cseq}\r\n\r\n").as_bytes());
            }
            1 => {
                let code = self.rng.below(1000);
                out.extend_from_slice(format!("RTSP/1.0 {code:03} ").as_bytes());
                let len = self.rng.below(40) as usize;
                out.extend(self.rng.text(len));
                out.extend_from_slice(format!("{echo}\r\nCSeq: {cseq}\r\n\r\n").as_bytes());
            }
            2 => {
                out.extend_from_slice(format!("RTSP/1.0 200 OK\r\nCSeq: {cseq}\r\n").as_bytes());
                for _ in 0..1 + self.rng.below(5) {
                    let len = self.rng.below(200) as usize;
                    out.extend(self.rng.text(len));
                    out.extend_from_slice(b"\r\n");
                }
                out.extend_from_slice(b"\r\n");
            }
            3 => {
                let body = self.sdp();
                out.extend_from_slice(
                    format!(
                        "RTSP/1.0 200 OK\r\nCSeq: {cseq}\r\nCSeq: {}\r\nContent-Length: {}\r\n\
                         Content-Length: {}\r\nSession: 1\r\nSession: 2{echo}\r\n\r\n{body}",
                        self.rng.below(100),
                        body.len(),
                        self.rng.below(100_000),
                    )
                    .as_bytes(),
                );
            }
            4 => {
                let length = match self.rng.below(4) {
                    0 => "4294967295".to_owned(),
                    1 => "99999999999999999999".to_owned(),
                    2 => "-5".to_owned(),
                    _ => "abc".to_owned(),
                };
                out.extend_from_slice(
                    format!(
                        "RTSP/1.0 200 OK\r\nCSeq: {cseq}\r\nContent-Type: application/sdp\r\n\
                         Content-Length: {length}\r\n\r\n{}",
                        self.sdp()
                    )
                    .as_bytes(),
                );
            }
            5 => {
                let sdp = self.sdp();
                let cut = self.rng.below(sdp.len() as u64) as usize;
                out.extend_from_slice(
                    format!(
                        "RTSP/1.0 200 OK\r\nCSeq: {cseq}\r\nContent-Type: application/sdp\r\n\
                         Content-Length: {}\r\n\r\n",
                        cut
                    )
                    .as_bytes(),
                );
                out.extend_from_slice(&sdp.as_bytes()[..cut]);
            }
            6 => {
                let mut sdp = self.sdp();
                for i in 0..2000 {
                    sdp.push_str(&format!(
                        "m=video 0 RTP/AVP {}\r\na=x-junk:{i}\r\n",
                        i % 128
                    ));
                }
                out.extend_from_slice(
                    answer(
                        200,
                        &cseq,
                        &[("Content-Type", "application/sdp".into())],
                        &sdp,
                    )
                    .as_slice(),
                );
            }
            7 => {
                let framerate = ["1e308", "-5", "nan", "0", "99999999"][self.rng.below(5) as usize];
                let codec = ["H265", "H264", "JPEG", "VP8", "\u{1b}x"][self.rng.below(5) as usize];
                let len = 1 + self.rng.below(40) as usize;
                let sets = crate::rtp::base64(&self.rng.bytes(len));
                let sdp = format!(
                    "v=0\r\no=- 1 1 IN IP4 127.0.0.1\r\ns={echo}\r\nt=0 0\r\n\
                     m=video 0 RTP/AVP 96\r\na=rtpmap:96 {codec}/90000\r\n\
                     a=fmtp:96 packetization-mode=1;sprop-parameter-sets={sets},{sets}\r\n\
                     a=framerate:{framerate}\r\na=x-dimensions:100000,100000\r\na=control:track1\r\n"
                );
                out.extend_from_slice(
                    answer(
                        200,
                        &cseq,
                        &[("Content-Type", "application/sdp".into())],
                        &sdp,
                    )
                    .as_slice(),
                );
            }
            8 => {
                for _ in 0..1 + self.rng.below(4) {
                    let channel = self.rng.next() as u8;
                    let len = self.rng.below(3000) as usize;
                    let claimed = if self.rng.unit() < 0.5 {
                        len
                    } else {
                        self.rng.below(65_536) as usize
                    };
                    out.push(b'$');
                    out.push(channel);
                    out.extend_from_slice(&(claimed as u16).to_be_bytes());
                    out.extend(self.rng.bytes(len));
                }
            }
            9 => {
                let len = 1 + self.rng.below(4000) as usize;
                out.extend(self.rng.bytes(len));
            }
            10 => {
                out.extend_from_slice(
                    format!("RTSP/1.0 200 OK{echo}\r\nContent-Length: 0\r\n\r\n").as_bytes(),
                );
            }
            _ => {
                out.extend_from_slice(
                    format!("RTSP/1.0 200 OK\r\nCSeq: {cseq}\r\nX-Long: ").as_bytes(),
                );
                out.extend(std::iter::repeat_n(
                    b'A',
                    64 * 1024 + self.rng.below(200_000) as usize,
                ));
                out.extend_from_slice(b"\r\n\r\n");
            }
        }
        out
    }

    /// Sends what is due while playing; false when the connection should end.
    pub(super) fn tick(&mut self, stream: &mut TcpStream) -> bool {
        let fps = f64::from(self.clip.fps());
        while let Some(playing) = &self.playing
            && playing.next_at <= Instant::now()
        {
            let roll = self.rng.unit();
            if roll < 0.004 {
                // Silence from here on.
                self.playing = None;
                return true;
            }
            if roll < 0.006 {
                return false;
            }
            let bytes = self.frame_bytes();
            let Some(playing) = &mut self.playing else {
                return true;
            };
            playing.frame += 1;
            playing.next_at += Duration::from_secs_f64(1.0 / fps);
            if stream.write_all(&bytes).is_err() {
                return false;
            }
        }
        true
    }

    /// The next access unit as interleaved RTP, now and then damaged.
    fn frame_bytes(&mut self) -> Vec<u8> {
        let clip = Arc::clone(&self.clip);
        let Some(playing) = &mut self.playing else {
            return Vec::new();
        };
        let unit = &clip.units[(playing.frame % clip.units.len() as u64) as usize];
        let parts = payloads(ContentCodec::H264, &unit.nals);
        let ts = (playing.frame * 90_000 / u64::from(clip.fps())) as u32;
        let channel = playing.channel;
        let mut out = Vec::new();
        let last = parts.len().saturating_sub(1);
        let mut sequence = playing.sequence;
        for (i, payload) in parts.iter().enumerate() {
            let header = RtpHeader {
                payload_type: 96,
                sequence,
                timestamp: ts,
                ssrc: 0x5eed,
                marker: i == last,
            };
            sequence = sequence.wrapping_add(1);
            let mut packet = header.packet(payload);
            let roll = self.rng.unit();
            if roll < 0.01 {
                let at = self.rng.below(packet.len() as u64) as usize;
                packet[at] = self.rng.next() as u8;
            } else if roll < 0.015 {
                let len = self.rng.below(1500) as usize;
                packet = self.rng.bytes(len);
            } else if roll < 0.018 {
                let keep = self.rng.below(packet.len() as u64) as usize;
                packet.truncate(keep);
            }
            let ch = if self.rng.unit() < 0.005 {
                self.rng.next() as u8
            } else {
                channel
            };
            out.extend(interleaved(ch, &packet));
        }
        if let Some(p) = &mut self.playing {
            p.sequence = sequence;
        }
        out
    }
}
