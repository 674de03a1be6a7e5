//! Opening the camera a source names, or the one it named before.

use crate::capture::WebcamCapture;
use crate::device::DeviceError;
use crate::select::{Identity, Selector, choose_mode};
use crate::{WebcamBackend, WebcamConfig};
use rtsp_stream_core::raw::{
    Abilities, CaptureContext, Description, OpenRequest, TlsRule, plausible_fps,
};
use rtsp_stream_core::{CaptureBackend, Result, StreamProps};

impl CaptureBackend for WebcamBackend {
    type Config = WebcamConfig;
    type Capture = WebcamCapture;
    const NAME: &'static str = crate::NAME;

    fn describe(_: &WebcamConfig) -> Description {
        Description {
            opens: |source| source.is_local_device(),
            opens_in_words: "local cameras only (an index, /dev/video*, /dev/v4l/…)",
            auto_rank: Some(50),
            opencv_apis: &[200], // cv2.CAP_V4L2
            abilities: Abilities {
                // Not a network source: nothing to authenticate, no RTSP, no transport.
                reports_authentication: false,
                reports_rtsp_status: false,
                reports_transport_fallback: false,
                time_stamps: false,
                reads_files: false,
                // Cameras hand out MJPEG, YUYV or NV12, not streams of a codec.
                other_codecs: false,
                // The colour rule by height: cameras declare no matrix.
                follows_colour_matrix: false,
                tls: TlsRule::None,
                // A local camera sends no sender reports, and nokhwa hands out no driver time
                // stamp of the capture: frames carry no camera time.
                camera_time: None,
                // Decode modes: every picture stands alone, so `KeyFrames` decodes them all
                // and `MaxRate` leaves those over the rate undecoded.
                ..Abilities::ALL
            },
            limits: &[],
            variant: "",
        }
    }

    fn open(cfg: &WebcamConfig, req: &OpenRequest, ctx: &CaptureContext) -> Result<WebcamCapture> {
        let (config, request) = (cfg, req);
        let devices = config.system.devices()?;
        let remembered = request.memory().get::<Identity>();
        let device = match &remembered {
            // Re-open the camera opened before, wherever it is listed now: its old index may
            // belong to another camera after an unplug.
            Some(identity) => identity.find(&devices).ok_or_else(|| {
                DeviceError::Missing(format!(
                    "{} ({}) is not connected",
                    identity.name, identity.stable_id
                ))
            })?,
            None => Selector::parse(request.source().expose())
                .find(&devices)
                .ok_or_else(|| {
                    DeviceError::Missing(format!(
                        "no camera matches {:?} ({} connected)",
                        request.source().redacted(),
                        devices.len()
                    ))
                })?,
        };
        ctx.checkpoint("opening the camera")?;
        let stream = config
            .system
            .open(device, &|modes| choose_mode(config, modes))?;
        if remembered.is_none()
            && let Some(identity) = Identity::of(device)
        {
            request.memory().set(identity);
        }
        let mode = stream.mode();
        log::info!(
            target: crate::LOG_TARGET,
            "{} opened: {}x{} {} at {} fps",
            device.name,
            mode.width,
            mode.height,
            mode.fourcc.name(),
            mode.fps
        );
        Ok(WebcamCapture {
            stream,
            name: device.name.clone(),
            scratch: Vec::new(),
            props: {
                let mut props = StreamProps::new(mode.width, mode.height);
                props.fps = plausible_fps(f64::from(mode.fps));
                props.codec = Some(mode.fourcc.name().to_owned());
                props.pixel_format = Some(request.options().pixel_format);
                props
            },
        })
    }
}
