//! One client's media: access units paced at the camera's frame clock, packetized, sent over
//! the RTSP connection or UDP (impaired as the scenario says), with sender reports.

use super::Shared;
use super::clock::{elapsed_of_frame, media_ticks, report_ntp, send_instant};
use super::wire::interleaved;
use crate::content::{ContentCodec, nal_type};
use crate::rng::Rng;
use crate::rtp::{RtpHeader, payloads, sender_report};
use std::io::Write;
use std::net::{SocketAddr, TcpStream, UdpSocket};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Condvar, Mutex, PoisonError};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

/// Where a client's media goes.
pub(super) enum MediaPath {
    /// Interleaved in the RTSP connection, RTP on `channel`, RTCP on the next.
    Tcp {
        writer: Arc<Mutex<TcpStream>>,
        channel: u8,
    },
    /// UDP to the client's RTP port (RTCP to the next one).
    Udp {
        rtp: UdpSocket,
        rtcp: UdpSocket,
        to: SocketAddr,
    },
}

/// A running sender; dropping it stops it.
pub(super) struct Sender {
    stop: Arc<AtomicBool>,
    sent: Arc<(Mutex<bool>, Condvar)>,
    thread: Option<JoinHandle<()>>,
    /// The first sequence number and time stamp it sends.
    pub(super) first: (u16, u32),
}

impl Sender {
    /// Waits until the first packet is out (or `limit`).
    pub(super) fn wait_first_packet(&self, limit: Duration) {
        let (lock, cond) = &*self.sent;
        let guard = lock.lock().unwrap_or_else(PoisonError::into_inner);
        let _ = cond
            .wait_timeout_while(guard, limit, |sent| !*sent)
            .unwrap_or_else(PoisonError::into_inner);
    }
}

impl Drop for Sender {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::Relaxed);
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}

pub(super) fn start(shared: &Arc<Shared>, client: u64, path: MediaPath) -> Sender {
    let elapsed = shared.start.0.elapsed();
    let fps = f64::from(shared.clip.fps());
    let mut first = (elapsed.as_secs_f64() * fps).ceil() as u64 + 1;
    if shared.scenario.start_at_key_frame {
        while !shared.unit(first).0.units[shared.unit(first).1].key {
            first += 1;
        }
    }
    let rtp = &shared.scenario.rtp;
    let first_ts = timestamp(shared, first);
    let stop = Arc::new(AtomicBool::new(false));
    let sent = Arc::new((Mutex::new(false), Condvar::new()));
    let thread = {
        let (shared, stop, sent) = (Arc::clone(shared), Arc::clone(&stop), Arc::clone(&sent));
        std::thread::Builder::new()
            .name("camera-send".into())
            .spawn(move || Media::new(shared, client, path, sent).run(first, &stop))
            .ok()
    };
    Sender {
        stop,
        sent,
        thread,
        first: (rtp.first_sequence, first_ts),
    }
}

/// The RTP time stamp of stream frame `n` (decoding position): its picture's presentation
/// number on the media clock, with the scenario's jump once it has happened.
fn timestamp(shared: &Shared, n: u64) -> u32 {
    let (clip, i) = shared.unit(n);
    let units = clip.units.len() as u64;
    let presentation = n - n % units + u64::from(clip.units[i].index);
    let ticks = presentation * 90_000 / u64::from(shared.clip.fps());
    let mut ts = shared
        .scenario
        .rtp
        .first_timestamp
        .wrapping_add(ticks as u32);
    if let Some((at, by)) = shared.scenario.rtp.timestamp_jump
        && n >= at
    {
        ts = ts.wrapping_add(by);
    }
    ts
}

struct Media {
    shared: Arc<Shared>,
    client: u64,
    path: MediaPath,
    sent: Arc<(Mutex<bool>, Condvar)>,
    sequence: u16,
    packets: u64,
    octets: u64,
    rng: Rng,
    /// UDP packets held back (delay, reordering) until their time.
    held: Vec<(Instant, Vec<u8>)>,
    next_report: Option<Instant>,
}

impl Media {
    fn new(
        shared: Arc<Shared>,
        client: u64,
        path: MediaPath,
        sent: Arc<(Mutex<bool>, Condvar)>,
    ) -> Self {
        let rtcp = &shared.scenario.rtcp;
        let next_report = rtcp.interval.map(|_| Instant::now() + rtcp.first_after);
        let seed = shared.scenario.impairment.seed ^ client.wrapping_mul(0x9e37_79b9_7f4a_7c15);
        Media {
            sequence: shared.scenario.rtp.first_sequence,
            shared,
            client,
            path,
            sent,
            packets: 0,
            octets: 0,
            rng: Rng::new(seed),
            held: Vec::new(),
            next_report,
        }
    }

    fn run(mut self, first: u64, stop: &AtomicBool) {
        let mut n = first;
        while !stop.load(Ordering::Relaxed) && !self.shared.stopping() {
            let due = send_instant(&self.shared, n);
            if !self.wait_until(due, stop) {
                return;
            }
            if !self.send_frame(n) {
                return;
            }
            if !self.report_if_due() {
                return;
            }
            n += 1;
        }
    }

    /// Sleeps until `due` in short steps, releasing held packets on time.
    fn wait_until(&mut self, due: Instant, stop: &AtomicBool) -> bool {
        loop {
            if stop.load(Ordering::Relaxed) || self.shared.stopping() {
                return false;
            }
            self.release_held();
            let now = Instant::now();
            if now >= due {
                return true;
            }
            let next_held = self.held.iter().map(|(t, _)| *t).min().unwrap_or(due);
            std::thread::sleep((due.min(next_held) - now).min(Duration::from_millis(20)));
        }
    }

    fn send_frame(&mut self, n: u64) -> bool {
        let shared = Arc::clone(&self.shared);
        let (clip, i) = shared.unit(n);
        let unit = &clip.units[i];
        let ts = timestamp(&shared, n);
        let parts = match &shared.scenario.sps_override {
            Some(sps) => {
                let nals: Vec<Vec<u8>> = unit
                    .nals
                    .iter()
                    .map(|nal| match nal_type(clip.spec.codec, nal) {
                        7 => sps.clone(),
                        _ => nal.clone(),
                    })
                    .collect();
                payloads(clip.spec.codec, &nals)
            }
            None => payloads(clip.spec.codec, &unit.nals),
        };
        let rtp = &shared.scenario.rtp;
        let last = parts.len().saturating_sub(1);
        let now = Instant::now();
        shared.log(|l| {
            if l.sent_at.back().is_none_or(|(m, _)| *m < n) {
                if l.sent_at.len() == super::SENT_LOG_LEN {
                    l.sent_at.pop_front();
                }
                l.sent_at.push_back((n, now));
            }
        });
        for (k, payload) in parts.iter().enumerate() {
            if let Some((at, by)) = rtp.sequence_jump
                && self.packets == at
            {
                self.sequence = self.sequence.wrapping_add(by);
                self.quirk("sequence jump", self.packets);
            }
            let ssrc = match rtp.ssrc_change_at {
                Some(at) if self.packets >= at => {
                    if self.packets == at {
                        self.quirk("ssrc change", at);
                    }
                    rtp.ssrc ^ 0x5a5a_0001
                }
                _ => rtp.ssrc,
            };
            let header = RtpHeader {
                payload_type: if clip.spec.codec.is_h26x() { 96 } else { 26 },
                sequence: self.sequence,
                timestamp: ts,
                ssrc,
                marker: k == last,
            };
            let packet = header.packet(payload);
            self.sequence = self.sequence.wrapping_add(1);
            self.packets += 1;
            self.octets += payload.len() as u64;
            if !self.send_rtp(packet, n) {
                return false;
            }
        }
        if n == rtp.timestamp_jump.map_or(u64::MAX, |(at, _)| at) {
            self.quirk("timestamp jump", n);
        }
        if shared
            .scenario
            .switch_content
            .as_ref()
            .is_some_and(|(at, _)| n == *at)
        {
            self.quirk("switch content", n);
        }
        shared.log(|l| l.frames_sent += 1);
        let (lock, cond) = &*self.sent;
        *lock.lock().unwrap_or_else(PoisonError::into_inner) = true;
        cond.notify_all();
        true
    }

    fn quirk(&self, what: &str, at: u64) {
        let client = self.client;
        self.shared
            .log(|l| l.quirks.push((client, what.to_owned(), at)));
    }

    fn send_rtp(&mut self, packet: Vec<u8>, frame: u64) -> bool {
        match &self.path {
            MediaPath::Tcp { writer, channel } => writer
                .lock()
                .unwrap_or_else(PoisonError::into_inner)
                .write_all(&interleaved(*channel, &packet))
                .is_ok(),
            MediaPath::Udp { .. } => {
                self.impair(packet, frame);
                true
            }
        }
    }

    /// Sends a UDP packet as the scenario's network would: dropped, duplicated, held back
    /// behind later ones, delayed, damaged.
    fn impair(&mut self, mut packet: Vec<u8>, frame: u64) {
        let imp = self.shared.scenario.impairment.clone();
        let now = Instant::now();
        if self.rng.unit() < imp.drop {
            let picture = carries_picture(self.shared.clip.spec.codec, &packet[12..]);
            self.shared.log(|l| {
                l.packets.dropped += 1;
                if !picture {
                    l.packets.dropped_outside_pictures += 1;
                } else if l.lost_frames.last() != Some(&frame) {
                    l.lost_frames.push(frame);
                }
            });
            return;
        }
        // Past the 12-byte RTP header and the first payload bytes (NAL and FU headers), so the
        // packet still frames: what breaks is the slice data inside.
        if packet.len() > 20 && self.rng.unit() < imp.corrupt {
            for _ in 0..4 {
                let len = packet.len();
                let at = 16 + (self.rng.unit() * (len - 16) as f64) as usize;
                packet[at.min(len - 1)] ^= 0x5a;
            }
            self.shared.log(|l| l.packets.corrupted += 1);
        }
        let mut at = now + imp.delay;
        if self.rng.unit() < imp.reorder {
            at += imp.reorder_window.mul_f64(0.5 + 0.5 * self.rng.unit());
            self.shared.log(|l| l.packets.reordered += 1);
        }
        if self.rng.unit() < imp.duplicate {
            self.shared.log(|l| l.packets.duplicated += 1);
            self.held.push((at, packet.clone()));
        }
        self.shared.log(|l| l.packets.sent += 1);
        self.held.push((at, packet));
        self.release_held();
    }

    fn release_held(&mut self) {
        let MediaPath::Udp { rtp, to, .. } = &self.path else {
            return;
        };
        let now = Instant::now();
        let mut i = 0;
        while i < self.held.len() {
            if self.held[i].0 <= now {
                let (_, packet) = self.held.remove(i);
                let _ = rtp.send_to(&packet, to);
            } else {
                i += 1;
            }
        }
    }

    fn report_if_due(&mut self) -> bool {
        let (Some(due), Some(interval)) = (self.next_report, self.shared.scenario.rtcp.interval)
        else {
            return true;
        };
        if Instant::now() < due {
            return true;
        }
        self.next_report = Some(due + interval);
        let shared = &self.shared;
        let e = shared.start.0.elapsed();
        let mut rtp_ts = shared
            .scenario
            .rtp
            .first_timestamp
            .wrapping_add(media_ticks(shared, e) as u32);
        if let Some((at, by)) = shared.scenario.rtp.timestamp_jump
            && elapsed_of_frame(shared, at) <= e
        {
            rtp_ts = rtp_ts.wrapping_add(by);
        }
        let ssrc = match shared.scenario.rtp.ssrc_change_at {
            Some(at) if self.packets >= at => shared.scenario.rtp.ssrc ^ 0x5a5a_0001,
            _ => shared.scenario.rtp.ssrc,
        };
        let report = sender_report(
            ssrc,
            report_ntp(shared, e),
            rtp_ts,
            self.packets as u32,
            self.octets as u32,
        );
        match &self.path {
            MediaPath::Tcp { writer, channel } => writer
                .lock()
                .unwrap_or_else(PoisonError::into_inner)
                .write_all(&interleaved(channel + 1, &report))
                .is_ok(),
            MediaPath::Udp { rtcp, to, .. } => {
                let to = SocketAddr::new(to.ip(), to.port() + 1);
                let _ = rtcp.send_to(&report, to);
                true
            }
        }
    }
}

/// Whether an RTP payload carries picture data (a slice, or a fragment of one): the loss of a
/// repeated parameter set or of an SEI message damages no picture.
fn carries_picture(codec: ContentCodec, payload: &[u8]) -> bool {
    match codec {
        ContentCodec::H265 => {
            let kind = payload.first().map_or(0, |b| (b >> 1) & 0x3f);
            let kind = if kind == 49 {
                payload.get(2).map_or(0, |b| b & 0x3f)
            } else {
                kind
            };
            kind < 32
        }
        ContentCodec::Mjpeg => true,
        _ => {
            let kind = payload.first().map_or(0, |b| b & 0x1f);
            let kind = if kind == 28 {
                payload.get(1).map_or(0, |b| b & 0x1f)
            } else {
                kind
            };
            (1..=5).contains(&kind)
        }
    }
}
