//! Choosing a backend at run time.

use rtsp_stream_core::{
    Capture, CaptureBackend, CaptureContext, Error, ErrorKind, FrameSink, OpenRequest, ReadStatus,
    StreamProps,
};

/// The environment variable [`AnyConfig::from_env`] reads a backend name from.
pub const BACKEND_ENV_VAR: &str = "RTSP_STREAM_BACKEND";

/// A backend chosen at run time among the ones compiled in.
///
/// `VideoStream<AnyBackend>` is the same stream whatever decoder runs it, so an application
/// can switch decoders by configuration. The choice is the [`AnyConfig`] the stream is built
/// with: [`AnyConfig::by_name`], [`AnyConfig::from_env`] or [`AnyConfig::auto`] (the default).
#[derive(Debug, Clone, Copy)]
pub struct AnyBackend;

/// Which backend to run, with its configuration. One variant per compiled-in backend.
#[non_exhaustive]
#[derive(Debug, Clone, Default)]
pub enum AnyConfig {
    /// Resolve at open time: the first compiled-in backend in [`AnyConfig::PRIORITY`].
    #[default]
    Auto,
    /// The scripted mock backend (never chosen automatically).
    #[cfg(feature = "mock")]
    #[cfg_attr(docsrs, doc(cfg(feature = "mock")))]
    Mock(rtsp_stream_core::MockConfig),
    /// FFmpeg.
    #[cfg(feature = "ffmpeg")]
    #[cfg_attr(docsrs, doc(cfg(feature = "ffmpeg")))]
    Ffmpeg(rtsp_stream_ffmpeg::FfmpegConfig),
    /// GStreamer.
    #[cfg(feature = "gstreamer")]
    #[cfg_attr(docsrs, doc(cfg(feature = "gstreamer")))]
    Gstreamer(rtsp_stream_gstreamer::GstreamerConfig),
    /// OpenCV.
    #[cfg(feature = "opencv")]
    #[cfg_attr(docsrs, doc(cfg(feature = "opencv")))]
    Opencv(rtsp_stream_opencv::OpencvConfig),
    /// A local camera through nokhwa.
    #[cfg(feature = "webcam")]
    #[cfg_attr(docsrs, doc(cfg(feature = "webcam")))]
    Webcam(rtsp_stream_webcam::WebcamConfig),
}

impl AnyConfig {
    /// The order [`auto`](AnyConfig::auto) tries backends in: lowest latency first. The mock
    /// is never chosen automatically.
    pub const PRIORITY: &'static [&'static str] = &["gstreamer", "ffmpeg", "opencv", "webcam"];

    /// Names of the backends compiled into this build, in priority order (`"mock"` last).
    pub fn available() -> Vec<&'static str> {
        let mut names: Vec<&'static str> = Self::PRIORITY
            .iter()
            .copied()
            .filter(|name| Self::compiled(name))
            .collect();
        if cfg!(feature = "mock") {
            names.push("mock");
        }
        names
    }

    fn compiled(name: &str) -> bool {
        const COMPILED: [(&str, bool); 5] = [
            ("mock", cfg!(feature = "mock")),
            ("ffmpeg", cfg!(feature = "ffmpeg")),
            ("gstreamer", cfg!(feature = "gstreamer")),
            ("opencv", cfg!(feature = "opencv")),
            ("webcam", cfg!(feature = "webcam")),
        ];
        COMPILED.iter().any(|&(n, on)| on && n == name)
    }

    /// The backend called `name` (case-insensitive) with its default configuration.
    pub fn by_name(name: &str) -> Result<AnyConfig, Error> {
        let lower = name.trim().to_ascii_lowercase();
        match lower.as_str() {
            "auto" | "" => Self::auto(),
            #[cfg(feature = "mock")]
            "mock" => Ok(AnyConfig::Mock(rtsp_stream_core::MockConfig::default())),
            #[cfg(feature = "ffmpeg")]
            "ffmpeg" => Ok(AnyConfig::Ffmpeg(
                rtsp_stream_ffmpeg::FfmpegConfig::default(),
            )),
            #[cfg(feature = "gstreamer")]
            "gstreamer" => Ok(AnyConfig::Gstreamer(
                rtsp_stream_gstreamer::GstreamerConfig::default(),
            )),
            #[cfg(feature = "opencv")]
            "opencv" => Ok(AnyConfig::Opencv(
                rtsp_stream_opencv::OpencvConfig::default(),
            )),
            #[cfg(feature = "webcam")]
            "webcam" => Ok(AnyConfig::Webcam(
                rtsp_stream_webcam::WebcamConfig::default(),
            )),
            other => {
                let known = Self::PRIORITY.contains(&other) || other == "mock";
                Err(Error::new(
                    ErrorKind::BackendUnavailable,
                    "any",
                    if known {
                        format!(
                            "backend {other:?} is not compiled in (enable the cargo feature \
                             {other:?}); available: {:?}",
                            Self::available()
                        )
                    } else {
                        format!(
                            "unknown backend {other:?}; available: {:?}",
                            Self::available()
                        )
                    },
                ))
            }
        }
    }

    /// The first compiled-in backend in [`PRIORITY`](AnyConfig::PRIORITY) order.
    pub fn auto() -> Result<AnyConfig, Error> {
        match Self::PRIORITY.iter().find(|name| Self::compiled(name)) {
            Some(name) => Self::by_name(name),
            None => Err(Error::new(
                ErrorKind::BackendUnavailable,
                "any",
                "no decoder backend is compiled in; enable one of the features \
                 \"gstreamer\", \"ffmpeg\", \"opencv\", \"webcam\"",
            )),
        }
    }

    /// The backend named by `RTSP_STREAM_BACKEND`, or [`auto`](AnyConfig::auto) when unset.
    pub fn from_env() -> Result<AnyConfig, Error> {
        Self::from_lookup(|key| std::env::var(key).ok())
    }

    /// Like [`from_env`](AnyConfig::from_env) with an injected lookup (for tests and for
    /// applications with their own configuration source).
    pub fn from_lookup(lookup: impl Fn(&str) -> Option<String>) -> Result<AnyConfig, Error> {
        match lookup(BACKEND_ENV_VAR) {
            Some(name) if !name.trim().is_empty() => Self::by_name(&name),
            _ => Self::auto(),
        }
    }

    /// The name of the chosen backend (`"auto"` before resolution).
    pub fn name(&self) -> &'static str {
        match self {
            AnyConfig::Auto => "auto",
            #[cfg(feature = "mock")]
            AnyConfig::Mock(_) => "mock",
            #[cfg(feature = "ffmpeg")]
            AnyConfig::Ffmpeg(_) => "ffmpeg",
            #[cfg(feature = "gstreamer")]
            AnyConfig::Gstreamer(_) => "gstreamer",
            #[cfg(feature = "opencv")]
            AnyConfig::Opencv(_) => "opencv",
            #[cfg(feature = "webcam")]
            AnyConfig::Webcam(_) => "webcam",
        }
    }
}

/// The capture of whichever backend [`AnyBackend`] opened.
#[non_exhaustive]
pub enum AnyCapture {
    /// A mock capture.
    #[cfg(feature = "mock")]
    #[cfg_attr(docsrs, doc(cfg(feature = "mock")))]
    Mock(<rtsp_stream_core::MockBackend as CaptureBackend>::Capture),
    /// An FFmpeg capture.
    #[cfg(feature = "ffmpeg")]
    #[cfg_attr(docsrs, doc(cfg(feature = "ffmpeg")))]
    Ffmpeg(Box<rtsp_stream_ffmpeg::FfmpegCapture>),
    /// A GStreamer capture.
    #[cfg(feature = "gstreamer")]
    #[cfg_attr(docsrs, doc(cfg(feature = "gstreamer")))]
    Gstreamer(rtsp_stream_gstreamer::GstreamerCapture),
    /// An OpenCV capture.
    #[cfg(feature = "opencv")]
    #[cfg_attr(docsrs, doc(cfg(feature = "opencv")))]
    Opencv(rtsp_stream_opencv::OpencvCapture),
    /// A webcam capture.
    #[cfg(feature = "webcam")]
    #[cfg_attr(docsrs, doc(cfg(feature = "webcam")))]
    Webcam(rtsp_stream_webcam::WebcamCapture),
}

impl std::fmt::Debug for AnyCapture {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("AnyCapture")
    }
}

impl CaptureBackend for AnyBackend {
    type Config = AnyConfig;
    type Capture = AnyCapture;

    fn name(config: &AnyConfig) -> &'static str {
        match config {
            AnyConfig::Auto => AnyConfig::auto().map_or("auto", |c| c.name()),
            #[allow(unreachable_patterns)]
            other => other.name(),
        }
    }

    // Without any backend feature, `Auto` is the only variant and the arguments only recurse.
    #[allow(clippy::only_used_in_recursion)]
    fn open(
        config: &AnyConfig,
        request: &OpenRequest,
        ctx: &CaptureContext,
    ) -> Result<AnyCapture, Error> {
        match config {
            AnyConfig::Auto => Self::open(&AnyConfig::auto()?, request, ctx),
            #[cfg(feature = "mock")]
            AnyConfig::Mock(c) => {
                rtsp_stream_core::MockBackend::open(c, request, ctx).map(AnyCapture::Mock)
            }
            #[cfg(feature = "ffmpeg")]
            AnyConfig::Ffmpeg(c) => rtsp_stream_ffmpeg::FfmpegBackend::open(c, request, ctx)
                .map(|capture| AnyCapture::Ffmpeg(Box::new(capture))),
            #[cfg(feature = "gstreamer")]
            AnyConfig::Gstreamer(c) => {
                rtsp_stream_gstreamer::GstreamerBackend::open(c, request, ctx)
                    .map(AnyCapture::Gstreamer)
            }
            #[cfg(feature = "opencv")]
            AnyConfig::Opencv(c) => {
                rtsp_stream_opencv::OpencvBackend::open(c, request, ctx).map(AnyCapture::Opencv)
            }
            #[cfg(feature = "webcam")]
            AnyConfig::Webcam(c) => {
                rtsp_stream_webcam::WebcamBackend::open(c, request, ctx).map(AnyCapture::Webcam)
            }
        }
    }
}

impl Capture for AnyCapture {
    fn read(
        &mut self,
        sink: &mut FrameSink<'_>,
        ctx: &CaptureContext,
    ) -> Result<ReadStatus, Error> {
        match self {
            #[cfg(feature = "mock")]
            AnyCapture::Mock(c) => c.read(sink, ctx),
            #[cfg(feature = "ffmpeg")]
            AnyCapture::Ffmpeg(c) => c.read(sink, ctx),
            #[cfg(feature = "gstreamer")]
            AnyCapture::Gstreamer(c) => c.read(sink, ctx),
            #[cfg(feature = "opencv")]
            AnyCapture::Opencv(c) => c.read(sink, ctx),
            #[cfg(feature = "webcam")]
            AnyCapture::Webcam(c) => c.read(sink, ctx),
            #[allow(unreachable_patterns)]
            _ => {
                let _ = (sink, ctx);
                unreachable!("no backend compiled in")
            }
        }
    }

    fn props(&self) -> StreamProps {
        match self {
            #[cfg(feature = "mock")]
            AnyCapture::Mock(c) => c.props(),
            #[cfg(feature = "ffmpeg")]
            AnyCapture::Ffmpeg(c) => c.props(),
            #[cfg(feature = "gstreamer")]
            AnyCapture::Gstreamer(c) => c.props(),
            #[cfg(feature = "opencv")]
            AnyCapture::Opencv(c) => c.props(),
            #[cfg(feature = "webcam")]
            AnyCapture::Webcam(c) => c.props(),
            #[allow(unreachable_patterns)]
            _ => unreachable!("no backend compiled in"),
        }
    }

    fn close(&mut self, ctx: &CaptureContext) {
        match self {
            #[cfg(feature = "mock")]
            AnyCapture::Mock(c) => c.close(ctx),
            #[cfg(feature = "ffmpeg")]
            AnyCapture::Ffmpeg(c) => c.close(ctx),
            #[cfg(feature = "gstreamer")]
            AnyCapture::Gstreamer(c) => c.close(ctx),
            #[cfg(feature = "opencv")]
            AnyCapture::Opencv(c) => c.close(ctx),
            #[cfg(feature = "webcam")]
            AnyCapture::Webcam(c) => c.close(ctx),
            #[allow(unreachable_patterns)]
            _ => {
                let _ = ctx;
            }
        }
    }
}
