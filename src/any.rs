//! Choosing a backend at run time.

use rtsp_stream_core::raw::{Capture, CaptureContext, FrameSink, OpenRequest, ReadStatus};
use rtsp_stream_core::{CaptureBackend, Error, ErrorKind, Result, SourceUrl, StreamProps};

/// The environment variable a default [`AnyConfig`] (and [`AnyConfig::from_env`]) reads a
/// backend name from: `retina`, `gstreamer`, `ffmpeg`, `opencv`, `webcam`, `mock` or `auto`.
pub const BACKEND_ENV_VAR: &str = "RTSP_STREAM_BACKEND";

/// A backend chosen at run time among the ones compiled in.
///
/// `VideoStream<AnyBackend>` is the same stream whatever decoder runs it, so an application
/// can switch decoders by configuration. The choice is the [`AnyConfig`] the stream is built
/// with: [`AnyConfig::by_name`], [`AnyConfig::auto_for`], or the default, [`AnyConfig::Auto`]:
/// the decoder [`RTSP_STREAM_BACKEND`](BACKEND_ENV_VAR) names, else the first compiled-in one
/// that opens the stream's source ([`AnyConfig::auto_for`]).
/// The choice is made when the stream is built; a name that is not compiled in, or a build
/// with no decoder at all, is an error from `start()` that lists the compiled-in decoders.
#[derive(Debug, Clone, Copy)]
pub struct AnyBackend;

/// The capture of whichever backend [`AnyBackend`] opened.
pub struct AnyCapture(Box<dyn Capture>);

impl std::fmt::Debug for AnyCapture {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("AnyCapture")
    }
}

/// The table of backends: one line per backend, `"feature" => Variant(BackendType)`, in the
/// order [`AnyConfig::auto`] tries them. The feature and the backend's name are the same word.
/// Adding a backend is one line here (plus its feature in Cargo.toml).
macro_rules! backends {
    ($($(#[$doc:meta])* $feature:literal => $variant:ident($backend:ty),)*) => {
        /// Which backend to run, with its configuration. One variant per compiled-in backend.
        #[non_exhaustive]
        #[derive(Debug, Clone, Default)]
        pub enum AnyConfig {
            /// The decoder [`RTSP_STREAM_BACKEND`](BACKEND_ENV_VAR) names, else the first
            /// compiled-in one in [`AnyConfig::PRIORITY`] that opens the stream's source
            /// ([`AnyConfig::auto_for`]); chosen when the stream is built.
            #[default]
            Auto,
            $(
                $(#[$doc])*
                #[cfg(feature = $feature)]
                #[cfg_attr(docsrs, doc(cfg(feature = $feature)))]
                $variant(<$backend as CaptureBackend>::Config),
            )*
        }

        /// Every backend this crate knows, compiled in or not, in priority order.
        const ALL: &[(&str, bool)] = &[$(($feature, cfg!(feature = $feature)),)*];

        impl AnyConfig {
            /// The backend called `name` (case-insensitive) with its default configuration.
            pub fn by_name(name: &str) -> Result<AnyConfig> {
                match name.trim().to_ascii_lowercase().as_str() {
                    "auto" | "" => Self::auto(),
                    $(
                        #[cfg(feature = $feature)]
                        $feature => Ok(AnyConfig::$variant(Default::default())),
                    )*
                    other => Err(unavailable(other)),
                }
            }

            /// The name of the chosen backend (`"auto"` before resolution).
            pub fn name(&self) -> &'static str {
                match self {
                    AnyConfig::Auto => "auto",
                    $(
                        #[cfg(feature = $feature)]
                        AnyConfig::$variant(_) => <$backend as CaptureBackend>::NAME,
                    )*
                }
            }

            /// The name of the backend this configuration runs (`Auto` resolved).
            fn resolved_name(&self) -> &'static str {
                match self {
                    AnyConfig::Auto => Self::from_env().map_or("auto", |c| c.name()),
                    $(
                        #[cfg(feature = $feature)]
                        AnyConfig::$variant(_) => <$backend as CaptureBackend>::NAME,
                    )*
                }
            }

            fn open_capture(&self, request: &OpenRequest, ctx: &CaptureContext) -> Result<AnyCapture> {
                match self {
                    AnyConfig::Auto => Self::from_env()?.open_capture(request, ctx),
                    $(
                        #[cfg(feature = $feature)]
                        AnyConfig::$variant(config) => {
                            let capture = <$backend as CaptureBackend>::open(config, request, ctx)?;
                            Ok(AnyCapture(Box::new(capture)))
                        }
                    )*
                }
            }
        }
    };
}

backends! {
    /// RTSP through retina, decoded by openh264 or libavcodec.
    "retina" => Retina(rtsp_stream_retina::RetinaBackend),
    /// GStreamer.
    "gstreamer" => Gstreamer(rtsp_stream_gstreamer::GstreamerBackend),
    /// FFmpeg.
    "ffmpeg" => Ffmpeg(rtsp_stream_ffmpeg::FfmpegBackend),
    /// OpenCV.
    "opencv" => Opencv(rtsp_stream_opencv::OpencvBackend),
    /// A local camera through nokhwa.
    "webcam" => Webcam(rtsp_stream_webcam::WebcamBackend),
    /// The scripted mock backend (never chosen automatically).
    "mock" => Mock(rtsp_stream_core::mock::MockBackend),
}

fn unavailable(name: &str) -> Error {
    let known = ALL.iter().any(|(n, _)| *n == name);
    let message = if known {
        format!(
            "backend {name:?} is not compiled in (enable the cargo feature {name:?}); \
             available: {:?}",
            AnyConfig::available()
        )
    } else {
        format!(
            "unknown backend {name:?}; available: {:?}",
            AnyConfig::available()
        )
    };
    Error::new(ErrorKind::BackendUnavailable, "any", message)
}

impl AnyConfig {
    /// The order [`auto`](AnyConfig::auto) and [`auto_for`](AnyConfig::auto_for) try backends
    /// in, as measured (BENCHMARKS.md): retina first (lowest latency with the lowest CPU, but
    /// RTSP only), GStreamer (lowest latency for everything else), FFmpeg, OpenCV (slowest to
    /// the first frame), the webcam last (local cameras only). The mock is never chosen
    /// automatically.
    pub const PRIORITY: &'static [&'static str] =
        &["retina", "gstreamer", "ffmpeg", "opencv", "webcam"];

    /// Whether the backend called `name` opens `source` at all: retina `rtsp://` only, the
    /// webcam device indices and `/dev/video*` or `/dev/v4l/…` paths only, GStreamer and
    /// FFmpeg everything but those devices, OpenCV everything.
    pub fn accepts(name: &str, source: &SourceUrl) -> bool {
        let device = is_device(source);
        match name {
            "retina" => source.scheme().as_deref() == Some("rtsp"),
            "webcam" => device,
            "gstreamer" | "ffmpeg" => !device,
            "opencv" => true,
            _ => false,
        }
    }

    /// The first compiled-in backend in [`PRIORITY`](AnyConfig::PRIORITY) order that
    /// [`accepts`](AnyConfig::accepts) `source`: what [`AnyConfig::Auto`] resolves to when
    /// `RTSP_STREAM_BACKEND` is unset.
    pub fn auto_for(source: &SourceUrl) -> Result<AnyConfig> {
        let available = Self::available();
        let chosen = Self::PRIORITY
            .iter()
            .filter(|name| available.contains(name))
            .find(|name| Self::accepts(name, source));
        match chosen {
            Some(name) => Self::by_name(name),
            None if available.iter().all(|n| *n == "mock") => Self::auto(),
            None => Err(Error::new(
                ErrorKind::BackendUnavailable,
                "any",
                format!(
                    "none of the compiled-in decoders ({available:?}) opens {source}; retina \
                     reads rtsp:// only and the webcam local cameras only"
                ),
            )),
        }
    }

    /// Names of the backends compiled into this build, in priority order (`"mock"` last).
    pub fn available() -> Vec<&'static str> {
        ALL.iter()
            .filter(|(_, compiled)| *compiled)
            .map(|(name, _)| *name)
            .collect()
    }

    /// The first compiled-in backend in [`PRIORITY`](AnyConfig::PRIORITY) order, whatever the
    /// source (the default configuration chooses per source: [`auto_for`](AnyConfig::auto_for)).
    pub fn auto() -> Result<AnyConfig> {
        match Self::PRIORITY
            .iter()
            .find(|name| Self::available().contains(name))
        {
            Some(name) => Self::by_name(name),
            None => Err(Error::new(
                ErrorKind::BackendUnavailable,
                "any",
                format!(
                    "no decoder backend is compiled in (available: {:?}); enable one of the \
                     features \"retina\", \"gstreamer\", \"ffmpeg\", \"opencv\", \"webcam\"",
                    Self::available()
                ),
            )),
        }
    }

    /// The backend named by `RTSP_STREAM_BACKEND`, or [`auto`](AnyConfig::auto) when unset.
    pub fn from_env() -> Result<AnyConfig> {
        Self::from_lookup(|key| std::env::var(key).ok())
    }

    /// Like [`from_env`](AnyConfig::from_env) with an injected lookup (for tests and for
    /// applications with their own configuration source).
    pub fn from_lookup(lookup: impl Fn(&str) -> Option<String>) -> Result<AnyConfig> {
        match lookup(BACKEND_ENV_VAR) {
            Some(name) if !name.trim().is_empty() => Self::by_name(&name),
            _ => Self::auto(),
        }
    }
}

impl CaptureBackend for AnyBackend {
    type Config = AnyConfig;
    type Capture = AnyCapture;
    const NAME: &'static str = "any";

    fn name(config: &AnyConfig) -> &'static str {
        config.resolved_name()
    }

    fn resolve(config: &AnyConfig, source: &SourceUrl) -> Result<AnyConfig> {
        match config {
            AnyConfig::Auto => match std::env::var(BACKEND_ENV_VAR) {
                Ok(name) if !matches!(name.trim().to_ascii_lowercase().as_str(), "" | "auto") => {
                    AnyConfig::by_name(&name)
                }
                _ => AnyConfig::auto_for(source),
            },
            // Unreachable in a build without any backend, where `Auto` is the only variant.
            #[allow(unreachable_patterns)]
            chosen => Ok(chosen.clone()),
        }
    }

    fn open(cfg: &AnyConfig, req: &OpenRequest, ctx: &CaptureContext) -> Result<AnyCapture> {
        cfg.open_capture(req, ctx)
    }
}

impl Capture for AnyCapture {
    fn read(&mut self, sink: &mut FrameSink<'_>, ctx: &CaptureContext) -> Result<ReadStatus> {
        self.0.read(sink, ctx)
    }

    fn props(&self) -> StreamProps {
        self.0.props()
    }

    fn close(&mut self, ctx: &CaptureContext) {
        self.0.close(ctx)
    }
}

/// A local camera: a device index, `/dev/video*` or a `/dev/v4l/…` path.
fn is_device(source: &SourceUrl) -> bool {
    let text = source.expose().trim();
    text.parse::<u32>().is_ok() || text.starts_with("/dev/video") || text.starts_with("/dev/v4l/")
}
