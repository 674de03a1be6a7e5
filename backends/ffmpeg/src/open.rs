//! Opening an input: options, the transport rule, interruptible `avformat_open_input`.

use crate::capture::FfmpegCapture;
use crate::error::FfmpegError;
use crate::{FfmpegBackend, FfmpegConfig, ffmpeg_log};
use ffmpeg_next::util::error::ENOMEM;
use ffmpeg_next::{Dictionary, ffi, format};
use rtsp_stream_core::raw::{CaptureContext, OpenRequest, open_with_transport};
use rtsp_stream_core::{CaptureBackend, Result, Transport};
use std::ffi::CString;
use std::sync::Once;

impl CaptureBackend for FfmpegBackend {
    type Config = FfmpegConfig;
    type Capture = FfmpegCapture;
    const NAME: &'static str = crate::NAME;

    fn open(cfg: &FfmpegConfig, req: &OpenRequest, ctx: &CaptureContext) -> Result<FfmpegCapture> {
        static INIT: Once = Once::new();
        INIT.call_once(|| {
            let _ = ffmpeg_next::init();
        });
        ffmpeg_log::install();
        let network = req.source().is_network();
        let secret = req
            .credentials()
            .map(|c| c.password.expose().to_owned())
            .filter(|p| !p.is_empty());
        let guard = ffmpeg_log::register_secret(secret);
        let url = req.url_with_credentials();
        let (input, transport) = open_with_transport(req, ctx, |transport| {
            let input = open_input(cfg, req, ctx, &url, transport)?;
            Ok((input, transport))
        })?;
        let capture = FfmpegCapture::new(cfg, input, transport, network, guard)?;
        Ok(capture)
    }
}

fn options(
    config: &FfmpegConfig,
    request: &OpenRequest,
    transport: Option<Transport>,
) -> Dictionary<'static> {
    let opts = request.options();
    let mut dict = Dictionary::new();
    if let Some(t) = transport {
        dict.set("rtsp_transport", t.name());
    }
    // Socket I/O timeout in µs (FFmpeg 5.1 honours `timeout` for RTSP and HTTP; `stimeout` is
    // gone and silently ignored). The interrupt callback is the first line; this bounds a
    // single blocked socket call even if the callback were not consulted.
    dict.set(
        "timeout",
        &opts
            .open_timeout
            .max(opts.stall_timeout)
            .as_micros()
            .to_string(),
    );
    // nobuffer: no demuxer buffering. The H.264/H.265 parser stays on: FFmpeg's RTP
    // depacketizer emits each FU-A fragment as a packet of its own and drops the fragment's
    // end bit and the RTP marker bit, so only the parser can put whole access units
    // together — which it does when the next one begins (one frame interval of latency; see
    // BENCHMARKS.md).
    // Files keep FFmpeg's defaults: `nobuffer` would also drop the packets read while probing,
    // which for a file are its first frames.
    if request.source().is_network() {
        dict.set("fflags", "nobuffer");
    }
    dict.set(
        "analyzeduration",
        &config.analyze_duration.as_micros().to_string(),
    );
    dict.set("probesize", "500000");
    // The stream's buffer-size hint (frames) has no FFmpeg equivalent: this backend keeps no
    // frame queue at all, which is what the hint asks for.
    for (k, v) in &config.options {
        dict.set(k, v);
    }
    dict
}

fn open_input(
    config: &FfmpegConfig,
    request: &OpenRequest,
    ctx: &CaptureContext,
    url: &str,
    transport: Option<Transport>,
) -> Result<format::context::Input, FfmpegError> {
    let network = request.source().is_network();
    ffmpeg_log::clear_rtsp_status();
    let path = CString::new(url).map_err(|_| FfmpegError::NulInSource)?;
    let input_format = match &config.input_format {
        Some(name) => {
            let unknown = || FfmpegError::UnknownInputFormat(name.clone());
            let c_name = CString::new(name.as_str()).map_err(|_| unknown())?;
            // SAFETY: looks up a static table by a NUL-terminated name.
            let f = unsafe { ffi::av_find_input_format(c_name.as_ptr()) };
            if f.is_null() {
                return Err(unknown());
            }
            f
        }
        None => std::ptr::null(),
    };
    let watch = ctx.clone();
    let interrupt = ffmpeg_next::util::interrupt::new(Box::new(move || watch.should_stop()));
    // SAFETY: the same sequence as ffmpeg-next's `input_with_interrupt_and_dictionary`, plus
    // an input format: the context is allocated, given the interrupt callback (whose closure
    // the guard keeps alive as long as the Input), opened; on failure FFmpeg frees it, on
    // success the Input owns it.
    unsafe {
        let mut ps = ffi::avformat_alloc_context();
        if ps.is_null() {
            return Err(FfmpegError::av(
                "allocating",
                ffmpeg_next::Error::Other { errno: ENOMEM },
                network,
            ));
        }
        (*ps).interrupt_callback = interrupt.interrupt;
        let mut opts = options(config, request, transport).disown();
        let res = ffi::avformat_open_input(&mut ps, path.as_ptr(), input_format, &mut opts);
        Dictionary::own(opts);
        if res < 0 {
            return Err(FfmpegError::av(
                "opening",
                ffmpeg_next::Error::from(res),
                network,
            ));
        }
        // RTSP announces its codecs and their parameter sets in the SDP, which the decoder
        // needs; probing would wait for a decodable picture, i.e. for the next key frame
        // (up to a whole key-frame interval), and then throw it away with `nobuffer`.
        let res = if request.source().is_rtsp() {
            0
        } else {
            ffi::avformat_find_stream_info(ps, std::ptr::null_mut())
        };
        if res < 0 {
            ffi::avformat_close_input(&mut ps);
            return Err(FfmpegError::av(
                "reading stream parameters",
                ffmpeg_next::Error::from(res),
                network,
            ));
        }
        Ok(format::context::Input::wrap_with_interrupt(
            ps,
            interrupt.guard,
        ))
    }
}
