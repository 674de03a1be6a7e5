//! Opening a source: GStreamer's initialisation, the transport rule, the pipeline played until
//! the source is connected.

use crate::capture::GstreamerCapture;
use crate::error::GstError;
use crate::pipeline;
use crate::sockets::OpenWatch;
use crate::{GstreamerBackend, GstreamerConfig};
use gstreamer as gst;
use rtsp_stream_core::raw::{
    Abilities, CaptureContext, Description, OpenRequest, open_with_transport,
};
use rtsp_stream_core::{CaptureBackend, Result};

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
                ..Abilities::ALL
            },
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
                (Some(description), _) => pipeline::custom(cfg, req, description)?,
                (None, Some(transport)) => pipeline::rtsp(cfg, req, transport)?,
                (None, None) => pipeline::uri(cfg, req, network)?,
            };
            // Only rtspsrc's own open needs ending from outside (see `sockets`).
            let watch = (cfg.pipeline.is_none() && transport.is_some())
                .then(|| OpenWatch::start(&req.source().host()?, req.source().port()?))
                .flatten();
            GstreamerCapture::start(built, cfg, ctx, network, watch, transport)
        })
    }
}

fn init() -> Result<(), GstError> {
    static INIT: std::sync::OnceLock<Result<(), String>> = std::sync::OnceLock::new();
    INIT.get_or_init(|| gst::init().map_err(|e| e.to_string()))
        .clone()
        .map_err(GstError::Init)
}
