//! Opening an input: options, the transport rule, interruptible `avformat_open_input`.

use crate::capture::FfmpegCapture;
use crate::error::FfmpegError;
use crate::{FfmpegBackend, FfmpegConfig};
use ffmpeg_next::util::error::ENOMEM;
use ffmpeg_next::{Dictionary, ffi, format};
use rtsp_stream_core::raw::{
    Abilities, CaptureContext, Description, OpenRequest, TlsRule, open_with_transport,
    refuse_unverifiable_tls,
};
use rtsp_stream_core::{CameraTimeSource, CaptureBackend, Result, Transport};
use std::ffi::CString;
use std::panic::{AssertUnwindSafe, catch_unwind};
use std::sync::Once;

impl CaptureBackend for FfmpegBackend {
    type Config = FfmpegConfig;
    type Capture = FfmpegCapture;
    const NAME: &'static str = crate::NAME;

    fn describe(_: &FfmpegConfig) -> Description {
        Description {
            opens: |source| !source.is_local_device(),
            opens_in_words: "every URL and file libavformat reads, no local camera by index",
            auto_rank: Some(30),
            opencv_apis: &[1900], // cv2.CAP_FFMPEG
            abilities: Abilities {
                // FFmpeg 5.1's RTSP client opens TLS without a way to check the certificate.
                tls: TlsRule::CannotVerify { https: false },
                // Only the first sender report: libavformat's `start_time_realtime`.
                camera_time: Some(CameraTimeSource::FirstSenderReport),
                ..Abilities::ALL
            },
            limits: &[],
            variant: "",
        }
    }

    fn open(cfg: &FfmpegConfig, req: &OpenRequest, ctx: &CaptureContext) -> Result<FfmpegCapture> {
        static INIT: Once = Once::new();
        INIT.call_once(|| {
            let _ = ffmpeg_next::init();
        });
        route_logs();
        // FFmpeg 5.1's RTSP client opens its TLS layer without options: it cannot check a
        // certificate.
        refuse_unverifiable_tls(req, crate::NAME, &["rtsps"])?;
        let protocols = protocols_for(req, cfg)?;
        let network = req.source().is_network();
        let url = req.url_with_credentials();
        let (input, transport) = open_with_transport(req, ctx, |transport| {
            let input = open_input(cfg, req, ctx, &url, transport, protocols)?;
            Ok((input, transport))
        })?;
        let max_pixels = req.options().max_frame_pixels;
        let capture = FfmpegCapture::new(cfg, input, transport, network, max_pixels)?;
        Ok(capture)
    }
}

/// FFmpeg's log to the `log` crate, scrubbed, through the process's one owner of it; this
/// crate's libavutil is handed over, found even where the process's global symbol lookup
/// cannot see it.
fn route_logs() {
    // SAFETY: the four functions are this crate's libavutil's own.
    unsafe {
        rtsp_stream_ffmpeg_log::route_linked(
            ffi::av_log_set_callback as *const _,
            ffi::av_log_set_level as *const _,
            ffi::av_log_get_level as *const _,
            ffi::av_log_format_line2 as *const _,
        );
    }
}

/// The protocols FFmpeg may open for `request`'s source: only what its kind needs, so that
/// an `rtsp://` source (or a description or playlist it fetches) cannot make FFmpeg open
/// `file:`, `concat:` or anything else. A source that would need another protocol is an
/// `InvalidSource` error naming it.
fn protocols_for(
    request: &OpenRequest,
    config: &FfmpegConfig,
) -> Result<&'static str, FfmpegError> {
    let source = request.source();
    let Some(scheme) = source.scheme() else {
        // A path or a device: unless it names a protocol itself (`concat:…`, `subfile:…`),
        // which only a file would not.
        let raw = source.expose();
        // FFmpeg reads a protocol name off the front, up to ':' or ',' (one letter is a
        // Windows drive).
        let end = raw
            .find(|c: char| !(c.is_ascii_alphanumeric() || c == '_' || c == '-'))
            .unwrap_or(0);
        let named = (end > 1 && raw[end..].starts_with([':', ',']))
            .then(|| &raw[..end])
            .filter(|_| config.input_format.is_none() && !std::path::Path::new(raw).exists());
        return match named {
            Some(protocol) => Err(FfmpegError::Protocol(protocol.to_owned())),
            None => Ok("file"),
        };
    };
    Ok(match scheme.as_str() {
        "file" => "file",
        // The RTSP demuxer opens its own connections: TCP, UDP and RTP, TLS for rtsps.
        "rtsp" | "rtsps" => "tcp,udp,rtp,tls",
        "http" | "https" => "http,https,tcp,tls,crypto",
        "rtmp" | "rtmps" => "rtmp,rtmps,tcp,tls",
        "udp" => "udp",
        "rtp" => "rtp,udp",
        "srt" => "srt,udp",
        "tcp" => "tcp",
        other => return Err(FfmpegError::Protocol(other.to_owned())),
    })
}

fn options(
    config: &FfmpegConfig,
    request: &OpenRequest,
    transport: Option<Transport>,
    protocols: &str,
) -> Dictionary<'static> {
    let opts = request.options();
    let mut dict = Dictionary::new();
    dict.set("protocol_whitelist", protocols);
    if request.source().scheme().as_deref() == Some("https") {
        // Certificates are checked (against the system's store, or the configured file).
        dict.set("tls_verify", "1");
        if let Some(ca) = &config.ca_file {
            dict.set("ca_file", &ca.display().to_string());
        }
    }
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
    protocols: &str,
) -> Result<format::context::Input, FfmpegError> {
    let network = request.source().is_network();
    rtsp_stream_ffmpeg_log::clear_rtsp_status();
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
    // Called from C: a panic (of the application's clock, say) must not unwind into it; it
    // interrupts the call instead.
    let interrupt = ffmpeg_next::util::interrupt::new(Box::new(move || {
        catch_unwind(AssertUnwindSafe(|| watch.should_stop())).unwrap_or(true)
    }));
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
        let mut opts = options(config, request, transport, protocols).disown();
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
