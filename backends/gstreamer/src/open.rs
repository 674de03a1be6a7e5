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
use rtsp_stream_core::{CaptureBackend, Result};

/// The reordering the conformance suite's camera applies: a jitter buffer shorter than this
/// drops what arrives late.
const REORDER_WINDOW: std::time::Duration = std::time::Duration::from_millis(50);

/// Over TCP, `rtspsrc` (1.22) sends no RTSP keep-alive while media flows (its debug log shows
/// no GET_PARAMETER or OPTIONS after PLAY through several session timeouts). Cameras that
/// count RTCP receiver reports as liveness keep the session; one that counts only RTSP
/// requests expires it each timeout.
const NO_KEEP_ALIVE_OVER_TCP: &str = "rtspsrc sends no RTSP keep-alive over TCP while media \
    flows; a camera that counts only RTSP requests as liveness expires the session and the \
    stream reconnects (a Disconnected event, about one back-off of frames lost)";

const LIMITS: [Limit; 4] = [
    Limit {
        condition: "session expires without keep-alives",
        kind: LimitKind::Limited,
        why: NO_KEEP_ALIVE_OVER_TCP,
    },
    Limit {
        condition: "credentials asked again on a later request",
        kind: LimitKind::Limited,
        why: NO_KEEP_ALIVE_OVER_TCP,
    },
    Limit {
        condition: "Digest nonce goes stale",
        kind: LimitKind::Limited,
        why: NO_KEEP_ALIVE_OVER_TCP,
    },
    Limit {
        condition: "SSRC change mid-stream",
        kind: LimitKind::Limited,
        why: "a new SSRC is a new rtspsrc pad, and the decoder stays linked to the first: \
            frames stop until the stall deadline reconnects",
    },
];

const LIMITS_AT_LOW_LATENCY: [Limit; 5] = [
    LIMITS[0],
    LIMITS[1],
    LIMITS[2],
    LIMITS[3],
    Limit {
        condition: "UDP packets reordered within 50 ms",
        kind: LimitKind::Limited,
        why: "with the default jitter-buffer latency of 0, a packet that arrives after its \
            successor is dropped and its picture with it; GstreamerConfig::latency of 100 ms \
            reorders them, at that much delay",
    },
];

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
            limits: if cfg.latency < REORDER_WINDOW {
                &LIMITS_AT_LOW_LATENCY
            } else {
                &LIMITS
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
