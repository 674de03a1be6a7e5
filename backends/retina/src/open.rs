//! Opening a session: the current-thread runtime on the capture thread, the transport rule.

use crate::capture::RetinaCapture;
use crate::decode::Decoder;
use crate::{RetinaBackend, RetinaConfig, session};
use rtsp_stream_core::raw::{CaptureContext, OpenRequest, open_with_transport};
use rtsp_stream_core::{CaptureBackend, Error, ErrorKind, Result, Transport};

impl CaptureBackend for RetinaBackend {
    type Config = RetinaConfig;
    type Capture = RetinaCapture;
    const NAME: &'static str = crate::NAME;

    fn open(cfg: &RetinaConfig, req: &OpenRequest, ctx: &CaptureContext) -> Result<RetinaCapture> {
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
        let decoder = Decoder::new(cfg.decoder, opened.codec)?;
        let teardown_budget = req.options().stop_timeout / 4;
        Ok(RetinaCapture::new(
            runtime,
            opened,
            decoder,
            teardown_budget,
        ))
    }
}
