//! Camera time: the camera's sender reports as rtpbin keeps them, and each picture's RTP time
//! stamp as it left the jitter buffer, mapped by the core's `SenderReportClock` (retina's
//! rule). Not rtpbin's own NTP meta: it is missing on key frames (GStreamer 1.22), and a
//! step or a key frame told through the jitter buffer's time stamps moves with the buffer's
//! skew correction, tens of milliseconds on a starved machine.

use gstreamer as gst;
use gstreamer::prelude::*;
use rtsp_stream_core::raw::{CaptureContext, SenderReportClock, SenderReportOutcome};
use rtsp_stream_core::{CameraTime, CameraTimeSource, Notice};
use std::collections::VecDeque;
use std::sync::atomic::{AtomicU32, Ordering};
use std::sync::{Arc, Mutex, PoisonError};
use std::time::{Duration, Instant};

/// The newest RTCP packet rtpbin took from the camera: when, and from which source.
#[derive(Clone)]
pub(crate) struct Report {
    pub(crate) at: Instant,
    pub(crate) rtpbin: gst::glib::WeakRef<gst::Element>,
    pub(crate) session: u32,
    pub(crate) ssrc: u32,
}

/// A sender report as rtpbin's statistics of its source hold it.
#[derive(Clone, Copy, PartialEq, Eq)]
struct SenderReport {
    ssrc: u32,
    ntp: u64,
    rtp: u32,
}

impl Report {
    /// The source's newest sender report, read from rtpbin's statistics of it (on the capture
    /// thread, not inside rtpbin's signal).
    fn sender_report(&self) -> Option<SenderReport> {
        let rtpbin = self.rtpbin.upgrade()?;
        let session = rtpbin
            .emit_by_name::<Option<gst::glib::Object>>("get-internal-session", &[&self.session])?;
        let source = session
            .emit_by_name::<Option<gst::glib::Object>>("get-source-by-ssrc", &[&self.ssrc])?;
        let stats = source.property::<gst::Structure>("stats");
        if !stats.get::<bool>("have-sr").unwrap_or(false) {
            return None;
        }
        Some(SenderReport {
            ssrc: self.ssrc,
            ntp: stats.get::<u64>("sr-ntptime").ok()?,
            rtp: stats.get::<u32>("sr-rtptime").ok()?,
        })
    }
}

/// The RTP time stamp and SSRC of the packets the jitter buffer let out, by their buffer time
/// stamp: the decoder keeps a picture's time stamp, so a picture finds its RTP time here.
#[derive(Default)]
pub(crate) struct RtpStamps {
    recent: Mutex<VecDeque<Stamp>>,
    clock_rate: AtomicU32,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
struct Stamp {
    pts: u64,
    rtp: u32,
    ssrc: u32,
}

impl RtpStamps {
    /// Pictures' worth of time stamps kept: more than a decoder holds back (B-frames, a frame
    /// thread's delay) at any frame rate a camera sends.
    const KEPT: usize = 128;
    /// How far a picture's time stamp may lie from its packets' (the depayloader stamps a
    /// picture with one of its packets' times, which the jitter buffer may have spread).
    const NEAR: u64 = 20_000_000;

    /// Watches the RTP packets leaving `pad` (the funnel in front of the decoder).
    pub(crate) fn watch(self: &Arc<Self>, pad: &gst::Pad) {
        let stamps = Arc::clone(self);
        pad.add_probe(
            gst::PadProbeType::BUFFER | gst::PadProbeType::BUFFER_LIST,
            move |pad, info| {
                // Called from C: a panic here must not unwind.
                let _ = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
                    if stamps.clock_rate.load(Ordering::Relaxed) == 0
                        && let Some(rate) = pad
                            .current_caps()
                            .and_then(|c| c.structure(0)?.get::<i32>("clock-rate").ok())
                    {
                        stamps
                            .clock_rate
                            .store(rate.max(0) as u32, Ordering::Relaxed);
                    }
                    match &info.data {
                        Some(gst::PadProbeData::Buffer(buffer)) => stamps.record(buffer),
                        Some(gst::PadProbeData::BufferList(list)) => {
                            list.iter().for_each(|b| stamps.record(b))
                        }
                        _ => {}
                    }
                }));
                gst::PadProbeReturn::Ok
            },
        );
    }

    fn record(&self, buffer: &gst::BufferRef) {
        let Some(pts) = buffer.pts() else {
            return;
        };
        let mut header = [0u8; 12];
        if buffer.copy_to_slice(0, &mut header).is_err() {
            return;
        }
        if let Some(stamp) = Stamp::read(pts.nseconds(), &header) {
            self.push(stamp);
        }
    }

    fn push(&self, stamp: Stamp) {
        let mut recent = self.recent.lock().unwrap_or_else(PoisonError::into_inner);
        // The packets of one picture share its RTP time: one entry for them.
        if recent
            .back()
            .is_some_and(|last| last.rtp == stamp.rtp && last.ssrc == stamp.ssrc)
        {
            return;
        }
        if recent.len() == Self::KEPT {
            recent.pop_front();
        }
        recent.push_back(stamp);
    }

    /// The stamp whose time stamp lies nearest `pts`, if near enough.
    fn find(&self, pts: u64) -> Option<Stamp> {
        let recent = self.recent.lock().unwrap_or_else(PoisonError::into_inner);
        recent
            .iter()
            .min_by_key(|s| s.pts.abs_diff(pts))
            .filter(|s| s.pts.abs_diff(pts) <= Self::NEAR)
            .copied()
    }

    fn clock_rate(&self) -> u32 {
        match self.clock_rate.load(Ordering::Relaxed) {
            0 => 90_000,
            rate => rate,
        }
    }
}

impl Stamp {
    /// The RTP time stamp and SSRC of an RTP packet's fixed header (RFC 3550 § 5.1).
    fn read(pts: u64, header: &[u8; 12]) -> Option<Stamp> {
        if header[0] >> 6 != 2 {
            return None;
        }
        let word = |at: usize| u32::from_be_bytes(header[at..at + 4].try_into().expect("4 bytes"));
        Some(Stamp {
            pts,
            rtp: word(4),
            ssrc: word(8),
        })
    }
}

/// Follows the camera's sender reports and maps each picture through them.
pub(crate) struct CameraClock {
    step_threshold: Duration,
    last_report: Arc<Mutex<Option<Report>>>,
    stamps: Arc<RtpStamps>,
    /// The mapping of the SSRC whose reports it follows.
    clock: Option<(u32, SenderReportClock)>,
    /// The report last fed (each report once: rtpbin signals every RTCP packet).
    fed: Option<SenderReport>,
    checked: Option<Instant>,
    ignored_told: bool,
}

impl CameraClock {
    pub(crate) fn new(
        step_threshold: Duration,
        last_report: Arc<Mutex<Option<Report>>>,
        stamps: Arc<RtpStamps>,
    ) -> Self {
        CameraClock {
            step_threshold,
            last_report,
            stamps,
            clock: None,
            fed: None,
            checked: None,
            ignored_told: false,
        }
    }

    /// The camera time of the picture stamped `pts`; `None` before the first usable report,
    /// and for a picture of another SSRC than the reports'.
    pub(crate) fn camera_time(
        &mut self,
        pts: Option<Duration>,
        ctx: &CaptureContext,
    ) -> Option<CameraTime> {
        self.follow_reports(ctx);
        let stamp = self.stamps.find(pts?.as_nanos() as u64)?;
        let (ssrc, clock) = self.clock.as_ref()?;
        (*ssrc == stamp.ssrc)
            .then(|| clock.camera_time(stamp.rtp, Instant::now()))
            .flatten()
    }

    fn follow_reports(&mut self, ctx: &CaptureContext) {
        let report = self
            .last_report
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .clone()
            .filter(|r| self.checked != Some(r.at));
        let Some(report) = report else {
            return;
        };
        self.checked = Some(report.at);
        let Some(sr) = report.sender_report().filter(|sr| self.fed != Some(*sr)) else {
            return;
        };
        self.fed = Some(sr);
        if self.clock.as_ref().is_none_or(|(ssrc, _)| *ssrc != sr.ssrc) {
            // A new SSRC starts its RTP time anywhere: its own mapping, no step.
            let clock = SenderReportClock::new(
                self.stamps.clock_rate(),
                self.step_threshold,
                CameraTimeSource::SenderReports,
            );
            self.clock = Some((sr.ssrc, clock));
        }
        let (_, clock) = self.clock.as_mut().expect("set above");
        match clock.sender_report(sr.ntp, sr.rtp, report.at) {
            SenderReportOutcome::Step { by, backwards } => {
                ctx.notify(Notice::ClockStep { by, backwards })
            }
            SenderReportOutcome::Ignored { .. } if !self.ignored_told => {
                self.ignored_told = true;
                ctx.notify(Notice::SenderReportsIgnored);
            }
            _ => {}
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn header(rtp: u32, ssrc: u32) -> [u8; 12] {
        let mut h = [0u8; 12];
        h[0] = 0x80;
        h[1] = 96;
        h[4..8].copy_from_slice(&rtp.to_be_bytes());
        h[8..12].copy_from_slice(&ssrc.to_be_bytes());
        h
    }

    #[test]
    fn rtp_headers_are_read_and_other_versions_refused() {
        let stamp = Stamp::read(7, &header(0xdead_beef, 42)).expect("an RTP header");
        assert_eq!((stamp.pts, stamp.rtp, stamp.ssrc), (7, 0xdead_beef, 42));
        let mut bad = header(1, 2);
        bad[0] = 0x40;
        assert_eq!(Stamp::read(0, &bad), None);
    }

    /// A picture finds its packets' RTP time from a time stamp near theirs, one entry per
    /// picture is kept, and a time stamp far from every packet's finds nothing.
    #[test]
    fn pictures_find_their_rtp_time_by_time_stamp() {
        let stamps = RtpStamps::default();
        let frame = 66_666_667u64;
        for n in 0..300u64 {
            for packet in 0..3 {
                // The jitter buffer may spread one picture's packets by a few milliseconds.
                let pts = n * frame + packet * 2_000_000;
                stamps.push(Stamp::read(pts, &header(6000 * n as u32, 9)).expect("header"));
            }
        }
        assert_eq!(
            stamps.recent.lock().unwrap().len(),
            RtpStamps::KEPT,
            "one entry per picture, the newest kept"
        );
        let found = stamps.find(299 * frame + 3_000_000).expect("near");
        assert_eq!(found.rtp, 6000 * 299);
        let found = stamps.find(250 * frame).expect("exact");
        assert_eq!(found.rtp, 6000 * 250);
        assert_eq!(
            stamps.find(250 * frame + frame / 2),
            None,
            "between two pictures"
        );
        assert_eq!(stamps.find(10 * frame), None, "forgotten");
    }
}
