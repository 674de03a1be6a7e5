//! Opening a source: GStreamer's initialisation, the transport rule, the pipeline played until
//! the source is connected.

use crate::capture::GstreamerCapture;
use crate::error::GstError;
use crate::pipeline;
use crate::sockets::OpenWatch;
use crate::{GstreamerBackend, GstreamerConfig};
use gstreamer as gst;
use rtsp_stream_core::raw::{
    Abilities, CaptureContext, Description, Limit, LimitKind, OpenRequest, open_with_transport,
};
use rtsp_stream_core::{CameraTimeSource, CaptureBackend, DecodeModes, Result};

/// The reordering the conformance suite's camera applies: a jitter buffer shorter than this
/// drops what arrives late.
const REORDER_WINDOW: std::time::Duration = std::time::Duration::from_millis(50);

const LIMITS_AT_LOW_LATENCY: [Limit; 1] = [Limit {
    condition: "UDP packets reordered within 50 ms",
    kind: LimitKind::Limited,
    why: "with the default jitter-buffer latency of 0, a packet that arrives after its \
        successor is dropped and its picture with it; GstreamerConfig::latency of 100 ms \
        reorders them, at that much delay",
}];

impl CaptureBackend for GstreamerBackend {
    type Config = GstreamerConfig;
    type Capture = GstreamerCapture;
    const NAME: &'static str = crate::NAME;

    fn describe(cfg: &GstreamerConfig) -> Description {
        Description {
            opens: |source| !source.is_local_device(),
            opens_in_words: "every URI and file, no local camera",
            // The lowest latency for everything but RTSP through retina (BENCHMARKS.md).
            auto_rank: Some(20),
            opencv_apis: &[1800], // cv2.CAP_GSTREAMER
            abilities: Abilities {
                // videoconvert rounds its own way: 4 levels off one bar, measured.
                colour_tolerance: if cfg.core_conversion { 3 } else { 5 },
                camera_time: Some(CameraTimeSource::SenderReports),
                // A pipeline of the application's own has its decoder in place before the
                // capture can gate its input: only its pictures' conversion is skipped.
                decode_modes: DecodeModes {
                    key_frames: cfg.pipeline.is_none(),
                    max_rate: true,
                },
                ..Abilities::ALL
            },
            limits: if cfg.latency < REORDER_WINDOW {
                &LIMITS_AT_LOW_LATENCY
            } else {
                &[]
            },
            variant: "",
        }
    }

    fn open(
        cfg: &GstreamerConfig,
        req: &OpenRequest,
        ctx: &CaptureContext,
    ) -> Result<GstreamerCapture> {
        init()?;
        if req.credentials().is_some() || req.redact(req.source().expose()) != req.source().expose()
        {
            crate::debug_log::scrub_debug_output();
        }
        let network = req.source().is_network();
        open_with_transport(req, ctx, |transport| {
            let built = match (&cfg.pipeline, transport) {
                (Some(description), _) => pipeline::custom(cfg, req, description, ctx)?,
                (None, Some(transport)) => pipeline::rtsp(cfg, req, transport, ctx)?,
                (None, None) => pipeline::uri(cfg, req, network, ctx)?,
            };
            // Only rtspsrc's own open needs ending from outside (see `sockets`).
            let watch = (cfg.pipeline.is_none() && transport.is_some())
                .then(|| OpenWatch::start(&req.source().host()?, req.source().port()?))
                .flatten();
            let step = req.options().clock_step_threshold;
            GstreamerCapture::start(built, cfg, ctx, network, watch, transport, step)
        })
    }
}

fn init() -> Result<(), GstError> {
    static INIT: std::sync::OnceLock<Result<(), String>> = std::sync::OnceLock::new();
    INIT.get_or_init(|| gst::init().map_err(|e| e.to_string()))
        .clone()
        .map_err(GstError::Init)
}
