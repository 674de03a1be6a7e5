//! Opening a source: GStreamer's initialisation, the transport rule, the pipeline played until
//! the source is connected.

use crate::capture::GstreamerCapture;
use crate::error::GstError;
use crate::pipeline;
use crate::{GstreamerBackend, GstreamerConfig};
use gstreamer as gst;
use rtsp_stream_core::raw::{CaptureContext, OpenRequest, open_with_transport};
use rtsp_stream_core::{CaptureBackend, Result};

impl CaptureBackend for GstreamerBackend {
    type Config = GstreamerConfig;
    type Capture = GstreamerCapture;
    const NAME: &'static str = crate::NAME;

    fn open(
        cfg: &GstreamerConfig,
        req: &OpenRequest,
        ctx: &CaptureContext,
    ) -> Result<GstreamerCapture> {
        init()?;
        let network = req.source().is_network();
        // The port of a network source: where an abandoned open's connection is found.
        let port = network.then(|| req.source().port().unwrap_or(0));
        open_with_transport(req, ctx, |transport| {
            let built = match (&cfg.pipeline, transport) {
                (Some(description), _) => pipeline::custom(cfg, req, description)?,
                (None, Some(transport)) => pipeline::rtsp(cfg, req, transport)?,
                (None, None) => pipeline::uri(cfg, req, network)?,
            };
            GstreamerCapture::start(built, cfg, ctx, port, transport)
        })
    }
}

fn init() -> Result<(), GstError> {
    static INIT: std::sync::OnceLock<Result<(), String>> = std::sync::OnceLock::new();
    INIT.get_or_init(|| gst::init().map_err(|e| e.to_string()))
        .clone()
        .map_err(GstError::Init)
}
