//! Opening a `VideoCapture`: API choice, timeouts as open parameters, transport check, and a
//! diagnosis of failures OpenCV does not explain.

use crate::capture::OpencvCapture;
use crate::error::OcvError;
use crate::{LOG_TARGET, OpencvBackend, OpencvConfig};
use opencv::core::Vector;
use opencv::prelude::*;
use opencv::videoio::{self, VideoCapture};
use rtsp_stream_core::raw::{
    Abilities, CaptureContext, Description, Limit, LimitKind, OpenRequest, TlsRule,
    refuse_unverifiable_tls,
};
use rtsp_stream_core::{CaptureBackend, DecodeModes, Result, Transport};
use std::net::{TcpStream, ToSocketAddrs};
use std::time::Duration;

/// The process-wide FFmpeg options OpenCV reads (`key;value|key;value`).
const OPTIONS_ENV: &str = "OPENCV_FFMPEG_CAPTURE_OPTIONS";

/// What the source string names.
#[derive(Debug)]
pub(crate) enum Source {
    /// A camera index (`"0"`).
    Index(i32),
    /// A device path (`/dev/video0`).
    Device(String),
    /// A URL with a scheme.
    Url { network: bool },
    /// A file path.
    File(String),
}

impl Source {
    fn of(request: &OpenRequest) -> Source {
        let raw = request.source().expose().trim();
        if let Ok(index) = raw.parse::<i32>() {
            return Source::Index(index);
        }
        if raw.starts_with("/dev/video") {
            return Source::Device(raw.to_owned());
        }
        match request.source().scheme() {
            Some(scheme) if scheme != "file" => Source::Url {
                network: request.source().is_network(),
            },
            _ => Source::File(raw.trim_start_matches("file://").to_owned()),
        }
    }
}

/// Why OpenCV cannot be asked for UDP on one stream.
const UDP_PER_STREAM: &str = "VideoCapture has no per-stream transport (only the \
    process-wide OPENCV_FFMPEG_CAPTURE_OPTIONS): an explicit UDP transport is an Unsupported \
    error";

impl CaptureBackend for OpencvBackend {
    type Config = OpencvConfig;
    type Capture = OpencvCapture;
    const NAME: &'static str = crate::NAME;

    fn describe(_: &OpencvConfig) -> Description {
        Description {
            opens: |_| true,
            opens_in_words: "URLs, files and device indices",
            // The slowest to a first frame (BENCHMARKS.md).
            auto_rank: Some(40),
            opencv_apis: &[],
            abilities: Abilities {
                // `VideoCapture::open` returns false without a reason.
                reports_authentication: false,
                reports_rtsp_status: false,
                // Its FFmpeg falls back from TCP to UDP by itself, without telling, and its
                // transport is a process-wide setting.
                reports_transport_fallback: false,
                // A global lock around `avformat_open_input`.
                opens_concurrently: false,
                // `CAP_PROP_POS_MSEC` stays 0 for RTSP.
                time_stamps: false,
                // It converts with BT.601 whatever the stream declares.
                follows_colour_matrix: false,
                // Its FFmpeg cannot be told to check a certificate.
                tls: TlsRule::CannotVerify { https: true },
                // It tells a picture's size once it has decoded one.
                refuses_size_before_decoding: false,
                // VideoCapture offers no sender report and no FFmpeg `start_time_realtime` (no
                // property reads it): frames carry no camera time.
                camera_time: None,
                // VideoCapture decodes every packet it reads (no way to hand it only key
                // frames); `grab` without `retrieve` leaves a picture unconverted.
                decode_modes: DecodeModes {
                    key_frames: false,
                    max_rate: true,
                },
                ..Abilities::ALL
            },
            limits: &[
                Limit {
                    condition: "1 % UDP packet loss",
                    kind: LimitKind::Cannot,
                    why: UDP_PER_STREAM,
                },
                Limit {
                    condition: "5 % UDP packet loss",
                    kind: LimitKind::Cannot,
                    why: UDP_PER_STREAM,
                },
                Limit {
                    condition: "UDP packets reordered within 50 ms",
                    kind: LimitKind::Cannot,
                    why: UDP_PER_STREAM,
                },
                Limit {
                    condition: "new parameter sets and picture size mid-stream",
                    kind: LimitKind::Limited,
                    why: "OpenCV keeps the first picture size for the whole session: the \
                        capture notices the change in FFmpeg's log and reconnects (a \
                        PictureSizeChanged error, then frames of the new size)",
                },
                Limit {
                    condition: "audio and metadata tracks before the video",
                    kind: LimitKind::Limited,
                    why: "OpenCV's FFmpeg sets up every track and waits its analysis time \
                        (5 s) for tracks that send nothing: the first frame comes that late, \
                        so open_timeout must exceed it; only OPENCV_FFMPEG_CAPTURE_OPTIONS, \
                        process-wide, could restrict it to the video",
                },
            ],
            variant: "",
        }
    }

    fn open(cfg: &OpencvConfig, req: &OpenRequest, _ctx: &CaptureContext) -> Result<OpencvCapture> {
        // OpenCV's FFmpeg opens TLS with no way to ask it to check the certificate.
        refuse_unverifiable_tls(req, crate::NAME, &["rtsps", "https"])?;
        Ok(open(cfg, req)?)
    }
}

fn open(config: &OpencvConfig, request: &OpenRequest) -> Result<OpencvCapture, OcvError> {
    quiet_opencv_logging();
    let source = Source::of(request);
    let api = config.api_preference.unwrap_or(match source {
        Source::Index(_) | Source::Device(_) => videoio::CAP_ANY,
        _ => videoio::CAP_FFMPEG,
    });
    let transport = if request.source().is_rtsp() && api == videoio::CAP_FFMPEG {
        Some(check_transport(request.transport())?)
    } else {
        None
    };
    let opts = request.options();
    let mut params = Vector::<i32>::new();
    if api == videoio::CAP_FFMPEG {
        for (key, value) in [
            (videoio::CAP_PROP_OPEN_TIMEOUT_MSEC, opts.open_timeout),
            (videoio::CAP_PROP_READ_TIMEOUT_MSEC, opts.stall_timeout),
        ] {
            params.push(key);
            params.push(value.as_millis().clamp(1, i32::MAX as u128) as i32);
        }
    }
    crate::ffmpeg_logs::own_ffmpeg_logs();
    crate::ffmpeg_logs::note_opener();
    // The decoder's threads start while OpenCV opens (it opens one source at a time).
    let threads_before = crate::ffmpeg_logs::thread_ids();
    let opened = match &source {
        Source::Index(index) => VideoCapture::new_with_params(*index, api, &params),
        _ => VideoCapture::from_file_with_params(request.url_with_credentials(), api, &params),
    };
    let decoder_threads: Vec<i64> = crate::ffmpeg_logs::thread_ids()
        .into_iter()
        .filter(|t| !threads_before.contains(t))
        .collect();
    let mut cap = opened?;
    if !cap.is_opened().unwrap_or(false) {
        return Err(diagnose(request, &source));
    }
    if let Some(frames) = opts.buffer_size {
        // Honoured by V4L2 devices; OpenCV's FFmpeg reader keeps no frame queue and says so.
        let honoured = cap
            .set(videoio::CAP_PROP_BUFFERSIZE, f64::from(frames))
            .unwrap_or(false);
        log::debug!(target: LOG_TARGET, "buffer size {frames}: honoured {honoured}");
    }
    let live = matches!(
        source,
        Source::Url { network: true } | Source::Index(_) | Source::Device(_)
    );
    let pace = !live && config.pace_files;
    Ok(OpencvCapture::new(
        cap,
        live,
        pace,
        transport.flatten(),
        decoder_threads,
    ))
}

/// The RTSP transport OpenCV's FFmpeg reader uses in this process, if the requested one is
/// possible. Without `OPENCV_FFMPEG_CAPTURE_OPTIONS`, OpenCV asks FFmpeg for
/// `rtsp_flags=prefer_tcp`: TCP, falling back to UDP by itself (our `Auto`, minus the event).
/// `Ok(Some(t))` when the transport is pinned to `t`, `Ok(None)` when it is chosen by FFmpeg.
fn check_transport(wanted: Transport) -> Result<Option<Transport>, OcvError> {
    let pinned = std::env::var(OPTIONS_ENV).ok().and_then(|options| {
        options.split('|').find_map(|pair| {
            let (key, value) = pair.split_once(';')?;
            (key.trim() == "rtsp_transport").then(|| value.trim().parse::<Transport>().ok())?
        })
    });
    match (wanted, pinned) {
        (Transport::Auto, pinned) => Ok(pinned),
        (wanted, Some(pinned)) if wanted == pinned => Ok(Some(pinned)),
        (wanted, pinned) => Err(OcvError::TransportFixed { wanted, pinned }),
    }
}

/// OpenCV says only that an open failed: find out what can be found out without it.
fn diagnose(request: &OpenRequest, source: &Source) -> OcvError {
    match source {
        Source::Index(index) => OcvError::DeviceNotOpened(format!("camera {index}")),
        Source::Device(path) => OcvError::DeviceNotOpened(path.clone()),
        Source::File(path) if !std::path::Path::new(path).exists() => {
            OcvError::FileMissing(path.clone())
        }
        Source::File(_) => OcvError::NotOpened,
        Source::Url { .. } => match probe(request) {
            Some(Err(e)) => OcvError::Unreachable(e),
            _ => OcvError::NotOpened,
        },
    }
}

/// Tries a TCP connection to the URL's host and port: `Some(Err)` when nothing listens.
fn probe(request: &OpenRequest) -> Option<Result<(), std::io::Error>> {
    let url = request.source().without_credentials();
    let scheme = request.source().scheme()?;
    let rest = url.split_once("://")?.1;
    let authority = rest.split(['/', '?', '#']).next()?;
    let default_port = match scheme.as_str() {
        "rtsp" => 554,
        "rtsps" => 322,
        "http" => 80,
        "https" => 443,
        "rtmp" => 1935,
        _ => return None,
    };
    let with_port = if authority
        .rsplit_once(':')
        .is_some_and(|(_, p)| p.parse::<u16>().is_ok())
    {
        authority.to_owned()
    } else {
        format!("{authority}:{default_port}")
    };
    let addr = with_port.to_socket_addrs().ok()?.next()?;
    Some(TcpStream::connect_timeout(&addr, Duration::from_secs(1)).map(drop))
}

/// OpenCV's own warnings go to stderr and may quote the source URL, password included: keep
/// OpenCV to errors it cannot avoid. Process-wide, set once.
fn quiet_opencv_logging() {
    static ONCE: std::sync::Once = std::sync::Once::new();
    ONCE.call_once(|| {
        let _ = opencv::core::set_log_level(opencv::core::LogLevel::LOG_LEVEL_SILENT);
    });
}
