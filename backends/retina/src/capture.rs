//! A playing session: access units from retina, decoded and converted into the lent buffer.

use crate::codec::VideoCodec;
use crate::colour::Colour;
use crate::decode::{Decoded, Decoder};
use crate::error::RetinaError;
use crate::session::{self, Opened, interruptible};
use futures_util::StreamExt;
use retina::client::{Demuxed, SessionGroup};
use retina::codec::{CodecItem, ParametersRef, VideoFrame, VideoParametersCodec};
use rtsp_stream_core::raw::{
    Capture, CaptureContext, FrameSink, ReadStatus, SenderReportClock, SenderReportOutcome,
    h264_unit_is_droppable,
};
use rtsp_stream_core::{CameraTimeSource, Notice, PixelFormat, Result, StreamProps, Transport};
use std::cmp::Reverse;
use std::collections::BinaryHeap;
use std::sync::Arc;
use std::time::{Duration, Instant};

/// Time stamps of access units sent to the decoder whose pictures have not come out yet;
/// more than this means the decoder dropped some, and the queue starts again.
const MAX_PENDING: usize = 16;

/// A connection silent for three frame intervals (at least 100 ms; 250 ms at an unknown rate)
/// is taken for frozen at stop: its TEARDOWN would only wait out its budget, so it is not sent.
fn frozen_after(fps: Option<f64>) -> Duration {
    fps.map_or(Duration::from_millis(250), |fps| {
        Duration::from_secs_f64(3.0 / fps).max(Duration::from_millis(100))
    })
}

/// A playing retina session and its decoder, owned by the capture thread (reachable only as
/// `<RetinaBackend as CaptureBackend>::Capture`).
pub struct RetinaCapture {
    runtime: tokio::runtime::Runtime,
    /// `None` once torn down.
    session: Option<Demuxed>,
    group: Arc<SessionGroup>,
    stream_index: usize,
    codec: VideoCodec,
    decoder: Decoder,
    /// Access units are skipped until a key frame: at the start (joining mid-GOP), after lost
    /// packets and after a unit the decoder refused, so a smeared picture is never delivered.
    waiting_for_key: bool,
    /// Waiting for a key frame because data was lost or damaged (not because the connection
    /// just started): the units skipped meanwhile are counted.
    after_damage: bool,
    size: (u32, u32),
    fps: Option<f64>,
    transport: Transport,
    pixel_format: Option<PixelFormat>,
    /// Set when the connection failed: no TEARDOWN is sent on a dead connection.
    broken: bool,
    teardown_budget: Duration,
    /// The time stamps (and key-frame flags) of units in the decoder. Pictures come out in
    /// display order, which with B-frames is not the order units go in, and a decoder may hand
    /// a picture out one unit late: each picture gets the earliest pending stamp, its flag and
    /// its RTP time stamp.
    pending_pts: BinaryHeap<Reverse<(Duration, bool, u32)>>,
    /// The video track's RTP time stamps on the camera's clock, from every sender report.
    camera_clock: SenderReportClock,
    /// What the stream's current parameters declare (read again when they change).
    colour: Colour,
    /// When the server last said something: the PLAY answer, then each access unit.
    last_heard: Instant,
}

impl RetinaCapture {
    pub(crate) fn new(
        runtime: tokio::runtime::Runtime,
        opened: Opened,
        decoder: Decoder,
        teardown_budget: Duration,
        clock_step_threshold: Duration,
    ) -> Self {
        let clock_rate = opened
            .session
            .streams()
            .get(opened.stream_index)
            .map_or(90_000, |s| s.clock_rate_hz());
        RetinaCapture {
            camera_clock: SenderReportClock::new(
                clock_rate,
                clock_step_threshold,
                CameraTimeSource::SenderReports,
            ),
            runtime,
            session: Some(opened.session),
            group: opened.group,
            stream_index: opened.stream_index,
            codec: opened.codec,
            decoder,
            waiting_for_key: true,
            after_damage: false,
            size: opened.size.unwrap_or((0, 0)),
            fps: opened.fps,
            transport: opened.transport,
            pixel_format: None,
            broken: false,
            teardown_budget,
            pending_pts: BinaryHeap::new(),
            colour: Colour::default(),
            last_heard: Instant::now(),
        }
        .with_colour_of_the_parameters()
    }

    /// Reads the colour description from the stream's H.264 parameters, if there are any.
    fn with_colour_of_the_parameters(mut self) -> Self {
        self.read_colour();
        self
    }

    fn read_colour(&mut self) {
        let Some(session) = &self.session else { return };
        let params = session
            .streams()
            .get(self.stream_index)
            .and_then(|s| s.parameters());
        if let Some(ParametersRef::Video(video)) = params
            && let VideoParametersCodec::H264 { sps, .. } = video.codec_params()
        {
            self.colour = Colour::from_h264_sps(sps);
            self.decoder
                .set_reordering_ruled_out(crate::colour::h264_sps_rules_out_reordering(sps));
        }
    }

    /// Refuses a picture size over the stream's limit, as the stream's parameters and the
    /// unit's own parameter sets declare it.
    fn check_declared_size(&self, data: &[u8], sink: &FrameSink<'_>) -> Result<(), RetinaError> {
        let from_parameters = self.session.as_ref().and_then(|s| {
            match s.streams().get(self.stream_index)?.parameters()? {
                ParametersRef::Video(v) => Some(v.pixel_dimensions()),
                _ => None,
            }
        });
        let in_unit = match self.codec {
            VideoCodec::H264 => crate::colour::declared_size(data),
            _ => None,
        };
        for (w, h) in [from_parameters, in_unit].into_iter().flatten() {
            sink.check_size(w, h)?;
        }
        Ok(())
    }

    /// The next access unit of the video track.
    fn next_unit(&mut self, ctx: &CaptureContext) -> Result<VideoFrame, RetinaError> {
        let session = self.session.as_mut().ok_or(RetinaError::SessionEnded)?;
        loop {
            let item =
                self.runtime
                    .block_on(interruptible(ctx, "waiting for a frame", session.next()))?;
            match item {
                None => return Err(RetinaError::SessionEnded),
                Some(Err(source)) => {
                    return Err(RetinaError::Rtsp {
                        during: "reading",
                        source,
                    });
                }
                Some(Ok(CodecItem::VideoFrame(unit))) if unit.stream_id() == self.stream_index => {
                    self.last_heard = Instant::now();
                    return Ok(unit);
                }
                Some(Ok(CodecItem::Rtcp(rtcp))) if rtcp.stream_id() == self.stream_index => {
                    self.last_heard = Instant::now();
                    let report = rtcp
                        .pkts()
                        .find_map(|p| p.as_sender_report().ok().flatten())
                        .map(|sr| (sr.ntp_timestamp().0, sr.rtp_timestamp()));
                    if let Some((ntp, rtp)) = report {
                        let outcome = self.camera_clock.sender_report(ntp, rtp, Instant::now());
                        sender_report_notice(outcome, ctx);
                    }
                }
                Some(Ok(_)) => self.last_heard = Instant::now(),
            }
        }
    }

    fn read_frame(
        &mut self,
        sink: &mut FrameSink<'_>,
        ctx: &CaptureContext,
    ) -> Result<ReadStatus, RetinaError> {
        loop {
            let unit = self.next_unit(ctx)?;
            if unit.loss() > 0 && !self.waiting_for_key {
                ctx.report_decode_error();
                self.waiting_for_key = true;
                self.after_damage = true;
            }
            let key = unit.is_random_access_point();
            if unit.has_new_parameters() {
                self.read_colour();
            }
            // A picture too large is refused before the decoder sees its parameter sets (and
            // allocates for them): those retina read, and those inside the unit itself.
            if key || unit.has_new_parameters() {
                self.check_declared_size(unit.data(), sink)?;
            }
            if self.waiting_for_key && !key {
                if self.after_damage {
                    ctx.report_frames_skipped(1);
                }
                continue;
            }
            self.waiting_for_key = false;
            self.after_damage = false;
            let h264 = self.codec == VideoCodec::H264;
            if !ctx.should_decode(key, || h264 && h264_unit_is_droppable(unit.data())) {
                continue;
            }
            if let Ok(pts) = Duration::try_from_secs_f64(unit.timestamp().elapsed_secs()) {
                if self.pending_pts.len() >= MAX_PENDING {
                    self.pending_pts.clear();
                }
                let rtp = unit.timestamp().timestamp() as u32;
                self.pending_pts.push(Reverse((pts, key, rtp)));
            }
            match self.decoder.decode(unit.data(), self.colour, sink, ctx)? {
                Decoded::Picture { width, height } => {
                    self.size = (width, height);
                    self.pixel_format = Some(sink.pixel_format());
                    let (pts, picture_key, rtp) = match self.pending_pts.pop() {
                        Some(Reverse((pts, was_key, rtp))) => (Some(pts), was_key, rtp),
                        None => (None, key, unit.timestamp().timestamp() as u32),
                    };
                    sink.set_pts(pts);
                    sink.set_camera_time(self.camera_clock.camera_time(rtp, Instant::now()));
                    sink.set_key_frame(picture_key);
                    return Ok(ReadStatus::Frame);
                }
                // The picture took its time stamp with it.
                Decoded::NotConverted => {
                    self.pending_pts.pop();
                }
                Decoded::Nothing => {}
                Decoded::Damaged(why) => {
                    log::debug!(
                        target: "rtsp_stream::retina",
                        "skipping to the next key frame: {why}"
                    );
                    ctx.report_decode_error();
                    self.waiting_for_key = true;
                    self.after_damage = true;
                    self.pending_pts.clear();
                }
            }
        }
    }
}

/// Tells the application what a sender report did to the camera-time mapping.
fn sender_report_notice(outcome: SenderReportOutcome, ctx: &CaptureContext) {
    match outcome {
        SenderReportOutcome::Step { by, backwards } => {
            ctx.notify(Notice::ClockStep { by, backwards });
        }
        SenderReportOutcome::Ignored { first: true } => {
            ctx.notify(Notice::SenderReportsIgnored);
        }
        _ => {}
    }
}

impl Capture for RetinaCapture {
    fn read(&mut self, sink: &mut FrameSink<'_>, ctx: &CaptureContext) -> Result<ReadStatus> {
        let read = self.read_frame(sink, ctx);
        if let Err(e) = &read
            && !matches!(e, RetinaError::Core(_))
        {
            self.broken = true;
        }
        Ok(read?)
    }

    fn props(&self) -> StreamProps {
        let mut props = StreamProps::new(self.size.0, self.size.1);
        props.fps = self.fps;
        props.codec = Some(self.codec.name().into());
        props.pixel_format = self.pixel_format;
        props.transport = Some(self.transport);
        props
    }

    fn close(&mut self, _ctx: &CaptureContext) {
        let Some(session) = self.session.take() else {
            return;
        };
        let frozen = self.last_heard.elapsed() > frozen_after(self.fps);
        if self.broken || frozen || self.teardown_budget.is_zero() {
            let _inside = self.runtime.enter();
            drop(session);
            return;
        }
        let budget = self.teardown_budget;
        self.runtime
            .block_on(session::teardown(session, &self.group, budget));
    }
}

impl Drop for RetinaCapture {
    fn drop(&mut self) {
        // retina starts its TEARDOWN from the session's drop with `tokio::spawn`, which needs
        // the runtime's context; the task dies with the runtime right after.
        if let Some(session) = self.session.take() {
            let _inside = self.runtime.enter();
            drop(session);
        }
    }
}
