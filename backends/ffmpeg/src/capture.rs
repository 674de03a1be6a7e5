//! A live FFmpeg input: demux, decode, convert into the lent buffer.

use crate::FfmpegConfig;
use crate::error::FfmpegError;
use ffmpeg_next::software::scaling;
use ffmpeg_next::util::error::EAGAIN;
use ffmpeg_next::{Packet, Rational, codec, ffi, format, frame, media};
use rtsp_stream_core::raw::{
    Capture, CaptureContext, FilePacer, FrameSink, ReadStatus, codec_name, fps_of_ratio,
    h264_unit_is_droppable, pts_of_ticks,
};
use rtsp_stream_core::{
    CameraTime, CameraTimeSource, Notice, PixelFormat, Result, StreamProps, Transport,
};
use std::time::{Duration, Instant, UNIX_EPOCH};

/// A live FFmpeg input and its video decoder, owned by the capture thread (reachable only as
/// `<FfmpegBackend as CaptureBackend>::Capture`).
pub struct FfmpegCapture {
    input: format::context::Input,
    decoder: codec::decoder::Video,
    stream_index: usize,
    time_base: Rational,
    fps: Option<f64>,
    codec: String,
    transport: Option<Transport>,
    network: bool,
    scaler: Option<Scaler>,
    decoded: frame::Video,
    packet: Packet,
    /// Drop decoded frames until a key frame: at the start, and after a decode error, lost
    /// data or a frame FFmpeg marks corrupt or concealed, so a smeared picture is never
    /// delivered.
    waiting_for_key: bool,
    /// Waiting for a key frame because of damage (not at the start): skipped frames counted.
    after_damage: bool,
    /// Set once the demuxer reported the end; then the decoder is drained.
    draining: bool,
    pace: Option<FilePacer>,
    loop_files: bool,
    /// When the demuxer first gave the wall-clock time of the stream's start (from the first
    /// RTCP sender report), and whether an unusable one was already reported.
    first_report: Option<Instant>,
    reported_unusable: bool,
    /// The packets are H.264 in Annex B (RTSP, raw streams; not MP4's length-prefixed
    /// units), whose non-reference pictures a decode mode may leave out.
    h264_annex_b: bool,
}

/// 2000-01-01 in seconds since the Unix epoch: an earlier camera time is a clock never set.
const YEAR_2000: u64 = 946_684_800;
/// Seconds from the NTP epoch (1900) to the Unix epoch (1970).
const NTP_TO_UNIX: i64 = 2_208_988_800;

/// The conversion into the requested format; rebuilt when the input size or format changes.
struct Scaler {
    context: scaling::Context,
    from: (ffmpeg_next::format::Pixel, u32, u32),
    to: PixelFormat,
}

impl FfmpegCapture {
    pub(crate) fn new(
        config: &FfmpegConfig,
        input: format::context::Input,
        transport: Option<Transport>,
        network: bool,
        max_pixels: u64,
    ) -> Result<Self, FfmpegError> {
        let stream = input
            .streams()
            .best(media::Type::Video)
            .ok_or(FfmpegError::NoVideoStream)?;
        let stream_index = stream.index();
        let time_base = stream.time_base();
        let fps = [stream.avg_frame_rate(), stream.rate()]
            .into_iter()
            .find_map(|r| fps_of_ratio(r.numerator().into(), r.denominator().into()));
        // SAFETY: plain fields of the stream's codec parameters; `extradata` holds
        // `extradata_size` bytes when not null.
        let h264_annex_b = stream.parameters().id() == codec::Id::H264
            && unsafe {
                let par = &*stream.parameters().as_ptr();
                // An `avcC` record starts with its version, 1; Annex B with a start code.
                par.extradata.is_null() || par.extradata_size < 1 || *par.extradata != 1
            };
        let mut context = codec::context::Context::from_parameters(stream.parameters())
            .map_err(|e| FfmpegError::av("reading codec parameters", e, network))?;
        context.set_threading(codec::threading::Config {
            kind: codec::threading::Type::Slice,
            count: config.decoder_threads.max(1),
            ..Default::default()
        });
        // SAFETY: plain fields of the codec parameters and of the not yet opened context.
        unsafe {
            // The stream's size limit, refused by libavcodec before it allocates for a
            // picture (an in-band SPS of a hostile size); the refusal is told from its log
            // line (`refused`).
            (*context.as_mut_ptr()).max_pixels = max_pixels.min(i64::MAX as u64) as i64;
            let delay = (*stream.parameters().as_ptr()).video_delay;
            if network && delay == 0 {
                // Output each frame at once; only for streams without B-frames, whose
                // reordering this flag would break.
                context.set_flags(codec::Flags::LOW_DELAY);
            }
        }
        let decoder = context
            .decoder()
            .video()
            .map_err(|e| FfmpegError::av("opening the decoder", e, network))?;
        let codec = decoder
            .codec()
            .map_or_else(|| "unknown".into(), |c| codec_name(c.name()));
        Ok(FfmpegCapture {
            input,
            decoder,
            stream_index,
            time_base,
            fps,
            codec,
            transport,
            network,
            scaler: None,
            decoded: frame::Video::empty(),
            packet: Packet::empty(),
            waiting_for_key: true,
            after_damage: false,
            draining: false,
            pace: (!network && config.pace_files).then(FilePacer::new),
            loop_files: config.loop_files && !network,
            first_report: None,
            reported_unusable: false,
            h264_annex_b,
        })
    }

    /// Sends packets until the decoder has a frame for us.
    fn next_frame(&mut self, ctx: &CaptureContext) -> Result<Option<()>, FfmpegError> {
        loop {
            match self.decoder.receive_frame(&mut self.decoded) {
                Ok(()) => {
                    // SAFETY: reads a plain field of the frame the decoder just filled.
                    let concealed = unsafe { (*self.decoded.as_ptr()).decode_error_flags } != 0;
                    if self.decoded.is_corrupt() || concealed {
                        ctx.report_decode_error();
                        ctx.report_frames_skipped(1);
                        self.waiting_for_key = true;
                        self.after_damage = true;
                        continue;
                    }
                    if self.waiting_for_key {
                        if !self.decoded.is_key() {
                            if self.after_damage {
                                ctx.report_frames_skipped(1);
                            }
                            continue;
                        }
                        self.waiting_for_key = false;
                        self.after_damage = false;
                    }
                    return Ok(Some(()));
                }
                Err(ffmpeg_next::Error::Eof) => {
                    if self.loop_files && self.rewind() {
                        continue;
                    }
                    return Ok(None);
                }
                Err(ffmpeg_next::Error::Other { errno: EAGAIN }) => {}
                Err(e) => {
                    refused()?;
                    return Err(FfmpegError::av("decoding", e, self.network));
                }
            }
            if self.draining {
                // receive_frame said "again" while draining: nothing more will come.
                return Ok(None);
            }
            // A fresh packet each time: reusing one would leak the previous packet's buffer,
            // av_read_frame does not release what it overwrites.
            self.packet = Packet::empty();
            match self.packet.read(&mut self.input) {
                Ok(()) => {}
                Err(ffmpeg_next::Error::Eof) if !self.network => {
                    self.draining = true;
                    let _ = self.decoder.send_eof();
                    continue;
                }
                Err(e) => return Err(FfmpegError::av("reading", e, self.network)),
            }
            if self.packet.stream() != self.stream_index {
                continue;
            }
            // Over UDP libavformat's reorder queue logs a gap and hands on what follows it
            // unmarked: the log line is how the loss is known.
            let missed = rtsp_stream_ffmpeg_log::take_missed_packets() > 0;
            if self.packet.is_corrupt() || missed {
                // The demuxer saw data missing (lost packets): what follows until the next key
                // frame would decode into a smeared picture.
                ctx.report_decode_error();
                ctx.report_frames_skipped(1);
                self.decoder.flush();
                self.waiting_for_key = true;
                self.after_damage = true;
                continue;
            }
            let (annex_b, packet) = (self.h264_annex_b, &self.packet);
            let droppable = || annex_b && h264_unit_is_droppable(packet.data().unwrap_or_default());
            if !ctx.should_decode(packet.is_key(), droppable) {
                continue;
            }
            let sent = self.decoder.send_packet(&self.packet);
            // A picture over the limit is refused whatever the decoder makes of it next.
            refused()?;
            if let Err(e) = sent {
                match e {
                    ffmpeg_next::Error::InvalidData => {
                        ctx.report_decode_error();
                        self.decoder.flush();
                        self.waiting_for_key = true;
                        self.after_damage = true;
                    }
                    ffmpeg_next::Error::Other { errno: EAGAIN } => {}
                    e => return Err(FfmpegError::av("decoding", e, self.network)),
                }
            }
        }
    }

    fn rewind(&mut self) -> bool {
        if self.input.seek(0, ..).is_err() {
            return false;
        }
        self.decoder.flush();
        self.draining = false;
        self.waiting_for_key = true;
        if let Some(p) = &mut self.pace {
            p.restart();
        }
        true
    }

    /// The camera time of a picture at `pts`: FFmpeg's RTSP demuxer sets the input's
    /// `start_time_realtime` (the camera's wall-clock time at time stamp 0) from the first
    /// sender report and never again, so the camera clock's drift and steps are not followed.
    fn camera_time(&mut self, pts: Option<Duration>, ctx: &CaptureContext) -> Option<CameraTime> {
        if !self.network {
            return None;
        }
        // SAFETY: a plain field of the open input context, written by the demuxer on this
        // thread (inside `av_read_frame`).
        let realtime = unsafe { (*self.input.as_ptr()).start_time_realtime };
        if realtime == ffi::AV_NOPTS_VALUE {
            return None;
        }
        // libavformat subtracts the NTP epoch in unsigned arithmetic: a report with a zero
        // NTP time comes out as February 2036 (2^32 s after 1900), not as an error. Read back
        // as NTP seconds, it lies next to zero (the report's offset from the stream's first
        // time stamp taken off).
        let ntp_seconds = (realtime / 1_000_000 + NTP_TO_UNIX).rem_euclid(1 << 32);
        let start = u64::try_from(realtime)
            .ok()
            .filter(|_| (86_400..(1 << 32) - 86_400).contains(&ntp_seconds))
            .map(|micros| UNIX_EPOCH + Duration::from_micros(micros))
            .filter(|t| *t >= UNIX_EPOCH + Duration::from_secs(YEAR_2000));
        let Some(start) = start else {
            // A zero or pre-2000 NTP time in the report: a camera without a clock.
            if !self.reported_unusable {
                self.reported_unusable = true;
                ctx.notify(Notice::SenderReportsIgnored);
            }
            return None;
        };
        let first = *self.first_report.get_or_insert_with(Instant::now);
        Some(CameraTime {
            at: start.checked_add(pts?)?,
            source: CameraTimeSource::FirstSenderReport,
            mapping_age: first.elapsed(),
        })
    }

    fn pts(&self) -> Option<Duration> {
        let ts = self.decoded.timestamp().or(self.decoded.pts())?;
        let base = self.time_base;
        pts_of_ticks(ts, base.numerator().into(), base.denominator().into())
    }

    /// The colour rule of every backend (the core's YUV conversion follows it too): the matrix
    /// the stream declares, else BT.709 from 720 lines up and BT.601 below; the declared range,
    /// else limited. swscale on its own would take BT.601 whatever the stream says.
    fn set_colour_rule(&self, context: &mut scaling::Context, height: u32) {
        use ffmpeg_next::util::color::{Range, Space};
        let matrix = match self.decoded.color_space() {
            Space::BT709 => ffi::SWS_CS_ITU709,
            Space::BT470BG | Space::SMPTE170M => ffi::SWS_CS_ITU601,
            Space::BT2020NCL | Space::BT2020CL => ffi::SWS_CS_BT2020,
            _ if height >= 720 => ffi::SWS_CS_ITU709,
            _ => ffi::SWS_CS_ITU601,
        };
        let full_range = self.decoded.color_range() == Range::JPEG
            || matches!(
                self.decoded.format(),
                ffmpeg_next::format::Pixel::YUVJ420P
                    | ffmpeg_next::format::Pixel::YUVJ422P
                    | ffmpeg_next::format::Pixel::YUVJ444P
            );
        // SAFETY: the context is valid and owned here; the coefficient tables are static
        // tables of swscale; brightness 0, contrast and saturation 1.0 in 16.16 fixed point
        // are the neutral values.
        unsafe {
            let table = ffi::sws_getCoefficients(matrix);
            ffi::sws_setColorspaceDetails(
                context.as_mut_ptr(),
                table,
                i32::from(full_range),
                ffi::sws_getCoefficients(ffi::SWS_CS_DEFAULT),
                1,
                0,
                1 << 16,
                1 << 16,
            );
        }
    }

    /// Converts the decoded picture into the sink, in the requested format, with one swscale
    /// pass writing straight into the lent buffer.
    fn convert(&mut self, sink: &mut FrameSink<'_>) -> Result<()> {
        let (w, h) = (self.decoded.width(), self.decoded.height());
        let from = (self.decoded.format(), w, h);
        let to = sink.pixel_format();
        if self
            .scaler
            .as_ref()
            .is_none_or(|s| s.from != from || s.to != to)
        {
            let target = match to {
                PixelFormat::Rgb8 => ffmpeg_next::format::Pixel::RGB24,
                PixelFormat::Gray8 => ffmpeg_next::format::Pixel::GRAY8,
                _ => ffmpeg_next::format::Pixel::BGR24,
            };
            let mut context =
                scaling::Context::get(from.0, w, h, target, w, h, scaling::Flags::POINT)
                    .map_err(|e| FfmpegError::av("setting up the conversion", e, self.network))?;
            self.set_colour_rule(&mut context, h);
            self.scaler = Some(Scaler { context, from, to });
        }
        let scaler = self.scaler.as_mut().expect("built above");
        let stride = w as usize * to.bytes_per_pixel();
        let out = sink.buffer(w, h)?;
        let dst = [
            out.as_mut_ptr(),
            std::ptr::null_mut(),
            std::ptr::null_mut(),
            std::ptr::null_mut(),
        ];
        let dst_stride = [stride as i32, 0, 0, 0];
        // SAFETY: the source planes and strides are the decoded frame's own; the destination is
        // one packed plane of `stride * h` bytes, which is exactly what `sink.buffer` returned,
        // and sws_scale writes `h` rows of `w` pixels in the target format into it.
        let rows = unsafe {
            let src = self.decoded.as_ptr();
            ffi::sws_scale(
                scaler.context.as_mut_ptr(),
                (*src).data.as_ptr() as *const *const u8,
                (*src).linesize.as_ptr(),
                0,
                h as i32,
                dst.as_ptr(),
                dst_stride.as_ptr(),
            )
        };
        if rows != h as i32 {
            return Err(FfmpegError::ShortConversion { rows, height: h }.into());
        }
        Ok(())
    }
}

/// The permanent error of a picture libavcodec refused to allocate for (over the stream's
/// `max_frame_pixels`), if the decoder on this thread just refused one.
fn refused() -> Result<(), FfmpegError> {
    match rtsp_stream_ffmpeg_log::take_refused_size() {
        Some((width, height)) => Err(FfmpegError::TooLarge { width, height }),
        None => Ok(()),
    }
}

impl Capture for FfmpegCapture {
    fn read(&mut self, sink: &mut FrameSink<'_>, ctx: &CaptureContext) -> Result<ReadStatus> {
        let pts = loop {
            if self.next_frame(ctx)?.is_none() {
                return Ok(ReadStatus::EndOfStream);
            }
            if self.fps.is_none() {
                // RTSP is opened without probing, so the stream has no rate until the decoder
                // has read one from the bitstream (H.264/H.265 timing info), as GStreamer's
                // parser does: the nominal rate, whichever backend reads the stream.
                self.fps = self
                    .decoder
                    .frame_rate()
                    .and_then(|r| fps_of_ratio(r.numerator().into(), r.denominator().into()));
            }
            let pts = self.pts();
            if let Some(pace) = &mut self.pace {
                pace.wait(pts, ctx)?;
            }
            // A picture over the decode mode's rate is left unconverted.
            if ctx.should_convert() {
                break pts;
            }
        };
        self.convert(sink)?;
        sink.set_pts(pts);
        sink.set_camera_time(self.camera_time(pts, ctx));
        sink.set_key_frame(self.decoded.is_key());
        Ok(ReadStatus::Frame)
    }

    fn props(&self) -> StreamProps {
        let mut props = StreamProps::new(self.decoder.width(), self.decoder.height());
        props.fps = self.fps;
        props.codec = Some(self.codec.clone());
        props.pixel_format = self.scaler.as_ref().map(|s| s.to);
        props.transport = self.transport;
        props
    }
}
