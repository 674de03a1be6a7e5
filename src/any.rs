//! Choosing a backend at run time.

use rtsp_stream_core::raw::{
    Capture, CaptureContext, Description, FrameSink, OpenRequest, ReadStatus,
};
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

/// The table of backends: one line per backend, `"feature" => Variant(crate as module:
/// Backend, Config, other re-exports…)`. The feature and the backend's name are the same word.
/// Adding a backend is its crate, one line here and its feature in Cargo.toml: what it opens,
/// where it stands in the automatic choice and what it can do are declared by the backend
/// itself ([`CaptureBackend::describe`]). `automatic` backends may be chosen by
/// [`AnyConfig::auto_for`] (in the order of their declared `auto_rank`; the table lists them
/// in that order, which a test checks); `by_name_only` ones only when named.
macro_rules! backends {
    (
        automatic { $($(#[$doc:meta])* $feature:literal => $variant:ident(
            $($krate:ident)::+ as $module:ident: $backend:ident $(, $item:ident)*),)* }
        by_name_only { $($(#[$doc2:meta])* $feature2:literal => $variant2:ident(
            $($krate2:ident)::+ as $module2:ident: $backend2:ident $(, $item2:ident)*),)* }
    ) => {
        backends!(@exports $($(#[$doc])* $feature, $($krate)::+, $module, $backend $(, $item)*;)*);
        backends!(@exports $($(#[$doc2])* $feature2, $($krate2)::+, $module2, $backend2 $(, $item2)*;)*);
        backends!(@table $($(#[$doc])* $feature => $variant($backend),)* $($(#[$doc2])* $feature2 => $variant2($backend2),)*);

        impl AnyConfig {
            /// Every backend the automatic choice may take, compiled in or not, in the order
            /// it tries them: the order of their declared
            /// [`auto_rank`](rtsp_stream_core::raw::Description::auto_rank) as measured
            /// (BENCHMARKS.md). The mock is never chosen automatically.
            pub const PRIORITY: &'static [&'static str] = &[$($feature,)*];
        }
    };
    (@exports $($(#[$doc:meta])* $feature:literal, $($krate:ident)::+, $module:ident, $backend:ident $(, $item:ident)*;)*) => {
        $(
            $(#[$doc])*
            #[cfg(feature = $feature)]
            #[cfg_attr(docsrs, doc(cfg(feature = $feature)))]
            #[doc(inline)]
            pub use $($krate)::+ as $module;
            #[cfg(feature = $feature)]
            #[cfg_attr(docsrs, doc(cfg(feature = $feature)))]
            pub use $($krate)::+::{$backend $(, $item)*};
        )*
    };
    (@table $($(#[$doc:meta])* $feature:literal => $variant:ident($backend:ident),)*) => {
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

        /// Every backend this crate knows, compiled in or not, in the table's order.
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

            /// What the chosen backend declares about itself with this configuration
            /// (`None` for [`Auto`](AnyConfig::Auto), before resolution).
            pub fn description(&self) -> Option<Description> {
                match self {
                    AnyConfig::Auto => None,
                    $(
                        #[cfg(feature = $feature)]
                        AnyConfig::$variant(config) => {
                            Some(<$backend as CaptureBackend>::describe(config))
                        }
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
    automatic {
        /// The retina backend (feature `retina`): RTSP through the retina crate, decoded by
        /// openh264 (or libavcodec with the `ffmpeg` feature too).
        "retina" => Retina(rtsp_stream_retina as retina: RetinaBackend, RetinaConfig, RetinaDecoder),
        /// The GStreamer backend (feature `gstreamer`): its settings and what they refer to.
        "gstreamer" => Gstreamer(rtsp_stream_gstreamer as gstreamer: GstreamerBackend, GstreamerConfig),
        /// The FFmpeg backend (feature `ffmpeg`): its settings and what they refer to.
        "ffmpeg" => Ffmpeg(rtsp_stream_ffmpeg as ffmpeg: FfmpegBackend, FfmpegConfig),
        /// The OpenCV backend (feature `opencv`): its settings and OpenCV's `CAP_*` API choices.
        "opencv" => Opencv(rtsp_stream_opencv as opencv: OpencvBackend, OpencvConfig),
        /// The local webcam backend (feature `webcam`): its settings, `FourCc`, the
        /// `CameraSystem` seam and `list_devices`.
        "webcam" => Webcam(rtsp_stream_webcam as webcam: WebcamBackend, WebcamConfig, list_devices),
    }
    by_name_only {
        /// The scripted mock backend and its test helpers (feature `mock`).
        "mock" => Mock(rtsp_stream_core::mock as mock: MockBackend, MockConfig, MockScript),
    }
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
    /// Whether the backend called `name` opens `source` at all, as it declares
    /// ([`Description::opens`]); false for a backend that is not compiled in.
    pub fn accepts(name: &str, source: &SourceUrl) -> bool {
        Self::by_name(name)
            .ok()
            .and_then(|config| config.description())
            .is_some_and(|description| (description.opens)(source))
    }

    /// The compiled-in backends the automatic choice may take, with the default description
    /// of each, in the order of their declared `auto_rank`.
    fn automatic() -> Vec<(&'static str, Description)> {
        let mut ranked: Vec<(u8, &'static str, Description)> = Self::available()
            .into_iter()
            .filter_map(|name| {
                let description = Self::by_name(name).ok()?.description()?;
                Some((description.auto_rank?, name, description))
            })
            .collect();
        ranked.sort_by_key(|(rank, _, _)| *rank);
        ranked.into_iter().map(|(_, n, d)| (n, d)).collect()
    }

    /// The first compiled-in backend, in the order of their declared `auto_rank`, that
    /// [`accepts`](AnyConfig::accepts) `source`: what [`AnyConfig::Auto`] resolves to when
    /// `RTSP_STREAM_BACKEND` is unset.
    pub fn auto_for(source: &SourceUrl) -> Result<AnyConfig> {
        let automatic = Self::automatic();
        match automatic.iter().find(|(_, d)| (d.opens)(source)) {
            Some((name, _)) => Self::by_name(name),
            None if automatic.is_empty() => Self::auto(),
            None => {
                let opens: Vec<String> = automatic
                    .iter()
                    .map(|(name, d)| format!("{name}: {}", d.opens_in_words))
                    .collect();
                Err(Error::new(
                    ErrorKind::BackendUnavailable,
                    "any",
                    format!(
                        "none of the compiled-in decoders opens {source} ({})",
                        opens.join("; ")
                    ),
                ))
            }
        }
    }

    /// Names of the backends compiled into this build, in the table's order (`"mock"` last).
    pub fn available() -> Vec<&'static str> {
        ALL.iter()
            .filter(|(_, compiled)| *compiled)
            .map(|(name, _)| *name)
            .collect()
    }

    /// The first compiled-in backend in the automatic order, whatever the source (the default
    /// configuration chooses per source: [`auto_for`](AnyConfig::auto_for)).
    pub fn auto() -> Result<AnyConfig> {
        match Self::automatic().first() {
            Some((name, _)) => Self::by_name(name),
            None => Err(Error::new(
                ErrorKind::BackendUnavailable,
                "any",
                format!(
                    "no decoder backend is compiled in (available: {:?}); enable one of the \
                     features {:?}",
                    Self::available(),
                    Self::PRIORITY
                ),
            )),
        }
    }

    /// The compiled-in backend that stands for OpenCV's `CAP_*` number `api` (its
    /// [`Description::opencv_apis`]), for programs written against OpenCV's
    /// `VideoCapture(source, apiPreference)`; `None` when no compiled-in backend does.
    pub fn for_opencv_api(api: i32) -> Option<AnyConfig> {
        Self::available().into_iter().find_map(|name| {
            let config = Self::by_name(name).ok()?;
            let description = config.description()?;
            description.opencv_apis.contains(&api).then_some(config)
        })
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
        match config {
            AnyConfig::Auto => AnyConfig::from_env().map_or("auto", |c| c.name()),
            // Unreachable in a build without any backend, where `Auto` is the only variant.
            #[allow(unreachable_patterns)]
            chosen => chosen.name(),
        }
    }

    fn describe(config: &AnyConfig) -> Description {
        config.description().unwrap_or(Description {
            opens_in_words: "what the chosen backend opens",
            ..Description::new()
        })
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
