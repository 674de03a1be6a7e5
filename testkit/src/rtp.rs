//! RTP and RTCP as a camera writes them: packetization of H.264 (RFC 6184), H.265 (RFC 7798)
//! and JPEG (RFC 2435) access units, and sender reports (RFC 3550).

use crate::content::ContentCodec;

/// The largest RTP payload sent (what fits an Ethernet frame with room for IP, UDP, RTP).
pub const MAX_PAYLOAD: usize = 1400;

/// One RTP packet's header fields.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RtpHeader {
    /// Payload type.
    pub payload_type: u8,
    /// Sequence number.
    pub sequence: u16,
    /// Media time stamp.
    pub timestamp: u32,
    /// Synchronisation source.
    pub ssrc: u32,
    /// The last packet of an access unit.
    pub marker: bool,
}

impl RtpHeader {
    /// The packet: this header and `payload`.
    pub fn packet(&self, payload: &[u8]) -> Vec<u8> {
        let mut out = Vec::with_capacity(12 + payload.len());
        out.push(0x80);
        out.push(self.payload_type & 0x7f | if self.marker { 0x80 } else { 0 });
        out.extend_from_slice(&self.sequence.to_be_bytes());
        out.extend_from_slice(&self.timestamp.to_be_bytes());
        out.extend_from_slice(&self.ssrc.to_be_bytes());
        out.extend_from_slice(payload);
        out
    }
}

/// The RTP payloads of one access unit, in order (the last one takes the marker bit).
pub fn payloads(codec: ContentCodec, nals: &[Vec<u8>]) -> Vec<Vec<u8>> {
    match codec {
        ContentCodec::Mjpeg => nals.iter().flat_map(|jpeg| jpeg_payloads(jpeg)).collect(),
        ContentCodec::H265 => nals.iter().flat_map(|n| h265_payloads(n)).collect(),
        _ => nals.iter().flat_map(|n| h264_payloads(n)).collect(),
    }
}

/// A NAL unit as one packet, or as FU-A fragments (type 28).
fn h264_payloads(nal: &[u8]) -> Vec<Vec<u8>> {
    if nal.len() <= MAX_PAYLOAD {
        return vec![nal.to_vec()];
    }
    let (header, body) = (nal[0], &nal[1..]);
    let indicator = header & 0xe0 | 28;
    let chunks: Vec<&[u8]> = body.chunks(MAX_PAYLOAD - 2).collect();
    let last = chunks.len() - 1;
    chunks
        .iter()
        .enumerate()
        .map(|(i, chunk)| {
            let start = if i == 0 { 0x80 } else { 0 };
            let end = if i == last { 0x40 } else { 0 };
            let mut p = vec![indicator, start | end | header & 0x1f];
            p.extend_from_slice(chunk);
            p
        })
        .collect()
}

/// A NAL unit as one packet, or as fragmentation units (type 49).
fn h265_payloads(nal: &[u8]) -> Vec<Vec<u8>> {
    if nal.len() <= MAX_PAYLOAD || nal.len() < 3 {
        return vec![nal.to_vec()];
    }
    let kind = (nal[0] >> 1) & 0x3f;
    let (header, body) = ([nal[0] & 0x81 | 49 << 1, nal[1]], &nal[2..]);
    let chunks: Vec<&[u8]> = body.chunks(MAX_PAYLOAD - 3).collect();
    let last = chunks.len() - 1;
    chunks
        .iter()
        .enumerate()
        .map(|(i, chunk)| {
            let start = if i == 0 { 0x80 } else { 0 };
            let end = if i == last { 0x40 } else { 0 };
            let mut p = vec![header[0], header[1], start | end | kind];
            p.extend_from_slice(chunk);
            p
        })
        .collect()
}

/// What RTP/JPEG needs of a JFIF image: its size, its two quantisation tables and its scan.
struct Jpeg<'a> {
    width: u16,
    height: u16,
    /// 4:2:0 (type 1) or 4:2:2 (type 0).
    type_: u8,
    tables: Vec<u8>,
    scan: &'a [u8],
}

fn parse_jpeg(jpeg: &[u8]) -> Option<Jpeg<'_>> {
    let mut i = 2;
    let (mut width, mut height, mut type_) = (0, 0, 1);
    let mut tables = vec![0u8; 128];
    while i + 4 <= jpeg.len() {
        if jpeg[i] != 0xff {
            return None;
        }
        let marker = jpeg[i + 1];
        let len = usize::from(u16::from_be_bytes([jpeg[i + 2], jpeg[i + 3]]));
        let body = jpeg.get(i + 4..i + 2 + len)?;
        match marker {
            0xdb => {
                // DQT: one or more 8-bit tables of 64 values.
                let mut t = body;
                while t.len() >= 65 {
                    let id = usize::from(t[0] & 0x0f).min(1);
                    tables[id * 64..id * 64 + 64].copy_from_slice(&t[1..65]);
                    t = &t[65..];
                }
            }
            0xc0 => {
                height = u16::from_be_bytes([body[1], body[2]]);
                width = u16::from_be_bytes([body[3], body[4]]);
                // The luma component's sampling: 2×2 is 4:2:0, 2×1 is 4:2:2.
                type_ = if body.get(7) == Some(&0x22) { 1 } else { 0 };
            }
            0xda => {
                return Some(Jpeg {
                    width,
                    height,
                    type_,
                    tables,
                    scan: jpeg.get(i + 2 + len..jpeg.len().saturating_sub(2))?,
                });
            }
            _ => {}
        }
        i += 2 + len;
    }
    None
}

/// A JPEG as RTP/JPEG payloads: the main header, the quantisation tables in the first packet
/// (Q = 255), the scan in fragments.
fn jpeg_payloads(jpeg: &[u8]) -> Vec<Vec<u8>> {
    let Some(j) = parse_jpeg(jpeg) else {
        return vec![jpeg.to_vec()];
    };
    let mut out = Vec::new();
    let mut offset = 0usize;
    while offset < j.scan.len() || offset == 0 {
        let mut p = vec![0u8];
        p.extend_from_slice(&(offset as u32).to_be_bytes()[1..]);
        p.extend_from_slice(&[j.type_, 255, (j.width / 8) as u8, (j.height / 8) as u8]);
        if offset == 0 {
            p.extend_from_slice(&[0, 0]);
            p.extend_from_slice(&(j.tables.len() as u16).to_be_bytes());
            p.extend_from_slice(&j.tables);
        }
        let room = MAX_PAYLOAD.saturating_sub(p.len()).max(1);
        let end = (offset + room).min(j.scan.len());
        p.extend_from_slice(&j.scan[offset..end]);
        out.push(p);
        if end == offset {
            break;
        }
        offset = end;
    }
    out
}

/// An RTCP sender report (with an empty source description, as cameras send it).
pub fn sender_report(
    ssrc: u32,
    ntp: u64,
    rtp_timestamp: u32,
    packets: u32,
    octets: u32,
) -> Vec<u8> {
    let mut sr = vec![0x80, 200, 0, 6];
    sr.extend_from_slice(&ssrc.to_be_bytes());
    sr.extend_from_slice(&ntp.to_be_bytes());
    sr.extend_from_slice(&rtp_timestamp.to_be_bytes());
    sr.extend_from_slice(&packets.to_be_bytes());
    sr.extend_from_slice(&octets.to_be_bytes());
    // SDES with a CNAME, padded to 32 bits.
    let cname = b"camera";
    let mut sdes = vec![0x81, 202, 0, 0];
    sdes.extend_from_slice(&ssrc.to_be_bytes());
    sdes.push(1);
    sdes.push(cname.len() as u8);
    sdes.extend_from_slice(cname);
    sdes.push(0);
    while sdes.len() % 4 != 0 {
        sdes.push(0);
    }
    let words = (sdes.len() / 4 - 1) as u16;
    sdes[2..4].copy_from_slice(&words.to_be_bytes());
    sr.extend_from_slice(&sdes);
    sr
}

/// A wall-clock time as a 64-bit NTP time stamp (seconds since 1900 and a binary fraction).
pub fn ntp_of(time: std::time::SystemTime) -> u64 {
    const NTP_UNIX_OFFSET: u64 = 2_208_988_800;
    let since = time
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap_or_default();
    let secs = since.as_secs() + NTP_UNIX_OFFSET;
    let frac = (u64::from(since.subsec_nanos()) << 32) / 1_000_000_000;
    secs << 32 | frac
}

/// The SDP `sprop-parameter-sets` (H.264) of a clip's parameter sets.
pub fn sprop(sets: &[Vec<u8>]) -> String {
    sets.iter().map(|s| base64(s)).collect::<Vec<_>>().join(",")
}

pub(crate) fn base64(bytes: &[u8]) -> String {
    const A: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    let mut out = String::new();
    for chunk in bytes.chunks(3) {
        let b = [
            chunk[0],
            *chunk.get(1).unwrap_or(&0),
            *chunk.get(2).unwrap_or(&0),
        ];
        let n = u32::from(b[0]) << 16 | u32::from(b[1]) << 8 | u32::from(b[2]);
        for i in 0..4 {
            out.push(if i <= chunk.len() {
                A[(n >> (18 - 6 * i) & 63) as usize] as char
            } else {
                '='
            });
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_large_nal_is_fragmented_and_reassembles() {
        let nal: Vec<u8> = std::iter::once(0x65)
            .chain((0..5000).map(|i| i as u8))
            .collect();
        let parts = h264_payloads(&nal);
        assert!(parts.len() > 3);
        assert_eq!(parts[0][1] & 0x80, 0x80);
        assert_eq!(parts.last().unwrap()[1] & 0x40, 0x40);
        let mut back = vec![parts[0][0] & 0xe0 | parts[0][1] & 0x1f];
        for p in &parts {
            assert!(p.len() <= MAX_PAYLOAD);
            back.extend_from_slice(&p[2..]);
        }
        assert_eq!(back, nal);
    }

    #[test]
    fn ntp_time_of_the_unix_epoch() {
        assert_eq!(ntp_of(std::time::UNIX_EPOCH), 2_208_988_800u64 << 32);
    }
}
