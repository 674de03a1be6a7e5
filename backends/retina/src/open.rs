//! Opening a session: the current-thread runtime on the capture thread, the transport rule.

use crate::capture::RetinaCapture;
use crate::decode::Decoder;
use crate::{RetinaBackend, RetinaConfig, session};
use rtsp_stream_core::raw::{
    Abilities, CaptureContext, Description, Limit, LimitKind, OpenRequest, TlsRule,
    open_with_transport,
};
use rtsp_stream_core::{CaptureBackend, Error, ErrorKind, Result, Transport};

/// openh264 decodes H.264 and nothing else.
const OPENH264_LIMITS: &[Limit] = &[
    Limit {
        condition: "H.265",
        kind: LimitKind::Cannot,
        why: OTHER_CODEC,
    },
    Limit {
        condition: "MJPEG (RTP/JPEG)",
        kind: LimitKind::Cannot,
        why: OTHER_CODEC,
    },
];

const OTHER_CODEC: &str = "openh264 decodes H.264 only: an Unsupported error naming the \
    libavcodec decoder (RetinaDecoder::Libavcodec, feature ffmpeg)";

impl CaptureBackend for RetinaBackend {
    type Config = RetinaConfig;
    type Capture = RetinaCapture;
    const NAME: &'static str = crate::NAME;

    fn describe(cfg: &RetinaConfig) -> Description {
        Description {
            opens: |source| source.scheme().as_deref() == Some("rtsp"),
            opens_in_words: "rtsp:// only",
            // The lowest latency for the lowest CPU (BENCHMARKS.md), but RTSP only.
            auto_rank: Some(10),
            opencv_apis: &[],
            abilities: Abilities {
                reads_files: false,
                // openh264 decodes H.264 only; libavcodec decodes the others too.
                other_codecs: cfg.decoder != crate::RetinaDecoder::OpenH264,
                // retina 0.4 has no TLS.
                tls: TlsRule::None,
                ..Abilities::ALL
            },
            limits: match cfg.decoder {
                crate::RetinaDecoder::OpenH264 => OPENH264_LIMITS,
                #[cfg(feature = "ffmpeg")]
                crate::RetinaDecoder::Libavcodec => &[],
            },
            variant: match cfg.decoder {
                crate::RetinaDecoder::OpenH264 => "",
                #[cfg(feature = "ffmpeg")]
                crate::RetinaDecoder::Libavcodec => "libavcodec",
            },
        }
    }

    fn open(cfg: &RetinaConfig, req: &OpenRequest, ctx: &CaptureContext) -> Result<RetinaCapture> {
        // retina's own log lines quote URLs (secret parameters included) and camera text.
        retina::set_log_scrubber(rtsp_stream_core::raw::redact_everywhere);
        // A runtime of the capture thread's own: no threads, and nothing shared with the
        // application's runtime, whichever it runs.
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_io()
            .enable_time()
            .build()
            .map_err(|e| {
                Error::new(
                    ErrorKind::Other,
                    crate::NAME,
                    format!("starting the runtime: {e}"),
                )
            })?;
        let opened = open_with_transport(req, ctx, |transport| {
            let transport = transport.unwrap_or(Transport::Tcp);
            runtime
                .block_on(session::open(req, ctx, transport, cfg.decoder))
                .map_err(Error::from)
        })?;
        let decoder = Decoder::new(cfg.decoder, opened.codec, req.options().max_frame_pixels)?;
        let teardown_budget = req.options().stop_timeout / 4;
        let step = req.options().clock_step_threshold;
        Ok(RetinaCapture::new(
            runtime,
            opened,
            decoder,
            teardown_budget,
            step,
        ))
    }
}
