//! Building the pipeline for a source: rtspsrc, uridecodebin or the application's own, always
//! ending in videoconvert and an appsink that keeps one buffer.

use crate::GstreamerConfig;
use crate::camera_clock::{Report, RtpStamps};
use crate::capture::Built;
use crate::error::GstError;
use gstreamer as gst;
use gstreamer::prelude::*;
use gstreamer_app as gst_app;
use rtsp_stream_core::raw::{
    CaptureContext, OpenRequest, codec_name, h264_unit_is_droppable, h264_units_are_droppable,
    length_prefixed_units,
};
use rtsp_stream_core::{PixelFormat, Transport};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex, PoisonError};
use std::time::Instant;

fn mark_opened(opened: &Mutex<Option<Option<String>>>, codec: Option<String>) {
    let mut o = opened.lock().unwrap_or_else(PoisonError::into_inner);
    if o.is_none() {
        *o = Some(codec);
    }
}

/// Runs a signal handler's body: GStreamer calls it from C, where a panic must not unwind
/// (that aborts the process). A panic makes the handler do nothing (`fallback`).
fn guarded<T>(fallback: T, body: impl FnOnce() -> T) -> T {
    std::panic::catch_unwind(std::panic::AssertUnwindSafe(body)).unwrap_or(fallback)
}

fn make(factory: &'static str) -> Result<gst::Element, GstError> {
    gst::ElementFactory::make(factory)
        .build()
        .map_err(|_| GstError::MissingElement(factory))
}

/// The decoder's layouts the core converts from, in order of preference.
const CORE_FORMATS: [&str; 5] = ["I420", "NV12", "Y42B", "Y444", "GRAY8"];

/// The caps the appsink accepts: raw video in the requested format, and with the core's
/// conversion also the decoder's own YUV (listed first: `videoconvert` then passes the
/// decoder's picture through untouched).
fn sink_caps(format: PixelFormat, core_conversion: bool) -> gst::Caps {
    let name = match format {
        PixelFormat::Rgb8 => "RGB",
        PixelFormat::Gray8 => "GRAY8",
        _ => "BGR",
    };
    let formats: Vec<&str> = match core_conversion {
        true => CORE_FORMATS.into_iter().chain([name]).collect(),
        false => vec![name],
    };
    gst::Caps::builder("video/x-raw")
        .field("format", gst::List::new(formats))
        .build()
}

fn configure_appsink(
    appsink: &gst_app::AppSink,
    request: &OpenRequest,
    config: &GstreamerConfig,
    sync: bool,
) {
    let caps = sink_caps(request.options().pixel_format, config.core_conversion);
    appsink.set_caps(Some(&caps));
    appsink.set_max_buffers(1);
    appsink.set_drop(true);
    appsink.set_sync(sync);
    appsink.set_property("emit-signals", false);
    // Without this the appsink would wait for a preroll buffer before PLAYING; live sources
    // never preroll.
    appsink.set_property("async", false);
}

/// One decoding thread and no concealed frames for libav decoders, wherever decodebin puts
/// them; and every decoder's input caps checked against the stream's picture size limit
/// before the decoder sees them (and allocates for them).
fn tune_decoders(bin: &gst::Bin, threads: u32, guard: &SizeGuard, ctx: &CaptureContext) {
    let guard = guard.clone();
    let ctx = ctx.clone();
    bin.connect_deep_element_added(move |_, _, element| {
        guarded((), || {
            let Some(factory) = element.factory() else {
                return;
            };
            if factory.name().starts_with("avdec_") {
                if element.has_property("max-threads") {
                    element.set_property("max-threads", threads.max(1) as i32);
                }
                if element.has_property("output-corrupt") {
                    element.set_property("output-corrupt", false);
                }
            }
            let klass = factory.metadata(gst::ELEMENT_METADATA_KLASS);
            if klass.is_some_and(|k| k.contains("Depayloader")) {
                // After a loss, nothing until the next key frame: a picture decoded from
                // incomplete data is never delivered.
                if element.has_property("wait-for-keyframe") {
                    element.set_property("wait-for-keyframe", true);
                }
                if let Some(sink) = element.static_pad("sink") {
                    guard.count_losses(&sink);
                }
            }
            let decoder = klass.is_some_and(|k| k.contains("Decoder"));
            if decoder && let Some(sink) = element.static_pad("sink") {
                guard.watch(&sink);
                gate_decoder_input(&sink, ctx.clone());
            }
        })
    });
}

/// The stream's decode mode at a decoder's input: the units it leaves out never reach the
/// decoder (the parser in front marks delta units; non-reference H.264 pictures are read
/// from the units themselves).
fn gate_decoder_input(sink: &gst::Pad, ctx: CaptureContext) {
    sink.add_probe(gst::PadProbeType::BUFFER, move |pad, info| {
        let decode = guarded(true, || {
            let Some(gst::PadProbeData::Buffer(buffer)) = &info.data else {
                return true;
            };
            let key = !buffer.flags().contains(gst::BufferFlags::DELTA_UNIT);
            let droppable = || {
                buffer.flags().contains(gst::BufferFlags::DROPPABLE) || h264_droppable(pad, buffer)
            };
            ctx.should_decode(key, droppable)
        });
        if decode {
            gst::PadProbeReturn::Ok
        } else {
            gst::PadProbeReturn::Drop
        }
    });
}

/// Whether `buffer`, an H.264 access unit as the pad's caps frame it, holds a non-reference
/// picture only.
fn h264_droppable(pad: &gst::Pad, buffer: &gst::BufferRef) -> bool {
    let Some(caps) = pad.current_caps() else {
        return false;
    };
    let Some(s) = caps.structure(0).filter(|s| s.name() == "video/x-h264") else {
        return false;
    };
    let Ok(map) = buffer.map_readable() else {
        return false;
    };
    match s.get::<&str>("stream-format") {
        // h264parse writes 4-byte lengths.
        Ok("avc" | "avc3") => h264_units_are_droppable(length_prefixed_units(&map, 4)),
        _ => h264_unit_is_droppable(&map),
    }
}

/// The stream's picture size limit at the decoders' inputs: caps that declare a larger picture
/// never reach the decoder, nothing after them does, and the capture reads the size refused.
#[derive(Clone)]
pub(crate) struct SizeGuard {
    max_pixels: u64,
    pub(crate) refused: Arc<Mutex<Option<(u32, u32)>>>,
    /// Packets the jitter buffer reported lost to a depayloader (its `GstRTPPacketLost`
    /// events): the capture skips what follows until the next key frame and counts it.
    pub(crate) lost_packets: Arc<AtomicU64>,
}

impl SizeGuard {
    pub(crate) fn new(max_pixels: u64) -> Self {
        SizeGuard {
            max_pixels,
            refused: Arc::default(),
            lost_packets: Arc::default(),
        }
    }

    fn watch(&self, pad: &gst::Pad) {
        let guard = self.clone();
        pad.add_probe(
            gst::PadProbeType::EVENT_DOWNSTREAM | gst::PadProbeType::BUFFER,
            move |_, info| guarded(gst::PadProbeReturn::Drop, || guard.check(info)),
        );
    }

    fn count_losses(&self, pad: &gst::Pad) {
        let lost = Arc::clone(&self.lost_packets);
        pad.add_probe(gst::PadProbeType::EVENT_DOWNSTREAM, move |_, info| {
            guarded(gst::PadProbeReturn::Ok, || {
                if let Some(gst::PadProbeData::Event(event)) = &info.data
                    && event
                        .structure()
                        .is_some_and(|s| s.name() == "GstRTPPacketLost")
                {
                    lost.fetch_add(1, Ordering::Relaxed);
                }
                gst::PadProbeReturn::Ok
            })
        });
    }

    fn check(&self, info: &gst::PadProbeInfo<'_>) -> gst::PadProbeReturn {
        let mut refused = self.refused.lock().unwrap_or_else(PoisonError::into_inner);
        if refused.is_some() {
            return gst::PadProbeReturn::Drop;
        }
        let Some(gst::PadProbeData::Event(event)) = &info.data else {
            return gst::PadProbeReturn::Ok;
        };
        let gst::EventView::Caps(caps) = event.view() else {
            return gst::PadProbeReturn::Ok;
        };
        let size = caps
            .caps()
            .structure(0)
            .and_then(|s| Some((s.get::<i32>("width").ok()?, s.get::<i32>("height").ok()?)));
        match size {
            Some((w, h))
                if w > 0
                    && h > 0
                    && u64::from(w.unsigned_abs()) * u64::from(h.unsigned_abs())
                        > self.max_pixels =>
            {
                *refused = Some((w.unsigned_abs(), h.unsigned_abs()));
                gst::PadProbeReturn::Drop
            }
            _ => gst::PadProbeReturn::Ok,
        }
    }
}

/// The decode chain every built-in pipeline ends in: videoconvert ! appsink.
fn tail(
    pipeline: &gst::Pipeline,
    request: &OpenRequest,
    config: &GstreamerConfig,
    sync: bool,
) -> Result<(gst::Element, gst_app::AppSink), GstError> {
    let convert = make("videoconvert")?;
    let appsink = gst_app::AppSink::builder().build();
    configure_appsink(&appsink, request, config, sync);
    pipeline
        .add_many([&convert, appsink.upcast_ref()])
        .map_err(|e| GstError::Pipeline(e.to_string()))?;
    convert
        .link(&appsink)
        .map_err(|e| GstError::Pipeline(e.to_string()))?;
    Ok((convert, appsink))
}

pub(crate) fn rtsp(
    config: &GstreamerConfig,
    request: &OpenRequest,
    transport: Transport,
    ctx: &CaptureContext,
) -> Result<Built, GstError> {
    let pipeline = gst::Pipeline::new();
    let src = make("rtspsrc")?;
    src.set_property("location", request.source().without_credentials());
    if let Some(c) = request.credentials() {
        set_credentials(&src, &c);
    }
    src.set_property(
        "latency",
        config.latency.as_millis().min(u32::MAX as u128) as u32,
    );
    src.set_property_from_str("protocols", transport.name());
    let opts = request.options();
    // Bounds each request/response of the RTSP handshake (µs); the stream's own deadline and
    // cancellation bound the whole open anyway.
    src.set_property("tcp-timeout", opts.open_timeout.as_micros() as u64);
    // PAUSED→READY waits this long for a TEARDOWN reply (ns): keep close short.
    src.set_property("teardown-timeout", 50_000_000u64);
    // No automatic retry over TCP after a UDP timeout: the transport is ours to choose.
    src.set_property("timeout", 0u64);
    // The jitter buffer tells the depayloader what it lost (GstRTPPacketLost), which is how
    // the capture counts what a loss cost; rtpbin leaves that off unless asked.
    let last_report: Arc<Mutex<Option<Report>>> = Arc::default();
    let reported = Arc::clone(&last_report);
    src.connect("new-manager", false, move |values| {
        guarded((), || {
            if let Some(manager) = values.get(1).and_then(|v| v.get::<gst::Element>().ok()) {
                // rtpbin says a source is active on each RTCP packet it sends: when the
                // camera's newest sender report came (the age of the camera-time mapping),
                // and which source, for the capture to read the report's time.
                let reported = Arc::clone(&reported);
                let rtpbin = manager.downgrade();
                manager.connect("on-ssrc-active", false, move |values| {
                    guarded((), || {
                        let session = values.get(1).and_then(|v| v.get::<u32>().ok());
                        let ssrc = values.get(2).and_then(|v| v.get::<u32>().ok());
                        *reported.lock().unwrap_or_else(PoisonError::into_inner) = Some(Report {
                            at: Instant::now(),
                            rtpbin: rtpbin.clone(),
                            session: session.unwrap_or(0),
                            ssrc: ssrc.unwrap_or(0),
                        });
                    });
                    None
                });
                if manager.has_property("do-lost") {
                    manager.set_property("do-lost", true);
                }
            }
        });
        None
    });
    // Only the video stream is set up: no bandwidth or pads for audio nobody decodes.
    let video_offered = Arc::new(AtomicBool::new(false));
    let offered = Arc::clone(&video_offered);
    src.connect("select-stream", false, move |values| {
        let video = guarded(false, || {
            let caps = values.get(2).and_then(|v| v.get::<gst::Caps>().ok());
            let video = caps
                .as_ref()
                .and_then(|c| c.structure(0))
                .and_then(|s| s.get::<&str>("media").ok())
                .is_none_or(|m| m == "video");
            if video {
                offered.store(true, Ordering::SeqCst);
            }
            video
        });
        Some(video.to_value())
    });
    let decode = make("decodebin")?;
    let size_guard = SizeGuard::new(request.options().max_frame_pixels);
    tune_decoders(
        decode
            .downcast_ref::<gst::Bin>()
            .expect("decodebin is a bin"),
        config.decoder_threads,
        &size_guard,
        ctx,
    );
    // A camera that changes its SSRC mid-stream gets a second pad from rtspsrc (rtpbin
    // demultiplexes by SSRC); the funnel takes every pad of the video stream, so the pictures
    // of the new SSRC reach the decoder without a reconnection.
    let funnel = make("funnel")?;
    pipeline
        .add_many([&src, &funnel, &decode])
        .map_err(|e| GstError::Pipeline(e.to_string()))?;
    funnel
        .link(&decode)
        .map_err(|e| GstError::Pipeline(e.to_string()))?;
    let rtp_stamps = Arc::new(RtpStamps::default());
    if let Some(pad) = funnel.static_pad("src") {
        rtp_stamps.watch(&pad);
    }
    let (convert, appsink) = tail(&pipeline, request, config, false)?;
    let opened = Arc::new(Mutex::new(None));
    let funnel_weak = funnel.downgrade();
    let seen = Arc::clone(&opened);
    let video_stream = Mutex::new(None::<String>);
    src.connect_pad_added(move |_, pad| {
        guarded((), || {
            let caps = pad.current_caps().or_else(|| Some(pad.query_caps(None)));
            let codec = caps
                .as_ref()
                .and_then(|c| c.structure(0))
                .and_then(|s| s.get::<&str>("encoding-name").ok())
                .map(codec_name);
            // "recv_rtp_src_<stream>_<ssrc>_<payload type>": one stream, any SSRC.
            let name = pad.name();
            let stream = name.split('_').nth(3).unwrap_or_default().to_owned();
            let mut first = video_stream.lock().unwrap_or_else(PoisonError::into_inner);
            if first.as_ref().is_some_and(|s| *s != stream) {
                return;
            }
            let Some(funnel) = funnel_weak.upgrade() else {
                return;
            };
            if let Some(sink) = funnel.request_pad_simple("sink_%u")
                && pad.link(&sink).is_ok()
            {
                first.get_or_insert(stream);
                mark_opened(&seen, codec);
            }
        })
    });
    link_video_pads(&decode, &convert, None);
    Ok(Built {
        pipeline,
        appsink,
        opened,
        video_offered,
        refused_size: size_guard.refused,
        lost_packets: size_guard.lost_packets,
        last_report,
        rtp_stamps,
    })
}

/// Links the first raw video pad `element` exposes to `convert`; sets `opened` when it does.
fn link_video_pads(
    element: &gst::Element,
    convert: &gst::Element,
    opened: Option<Arc<Mutex<Option<Option<String>>>>>,
) {
    let convert = convert.downgrade();
    element.connect_pad_added(move |_, pad| {
        guarded((), || {
            let caps = pad.current_caps().unwrap_or_else(|| pad.query_caps(None));
            let is_video = caps
                .structure(0)
                .is_some_and(|s| s.name().starts_with("video/"));
            let Some(convert) = convert.upgrade() else {
                return;
            };
            let Some(sink) = convert.static_pad("sink") else {
                return;
            };
            if is_video
                && !sink.is_linked()
                && pad.link(&sink).is_ok()
                && let Some(opened) = &opened
            {
                mark_opened(opened, None);
            }
        })
    });
}

pub(crate) fn uri(
    config: &GstreamerConfig,
    request: &OpenRequest,
    network: bool,
    ctx: &CaptureContext,
) -> Result<Built, GstError> {
    // Credentials never go inside the URI (GStreamer's own log lines print it): the source
    // element gets them as `user-id`/`user-pw` when uridecodebin makes it.
    let source = request.source().without_credentials();
    let uri = if request.source().scheme().is_some() {
        source
    } else {
        let path =
            std::path::absolute(&source).map_err(|e| GstError::InvalidSource(e.to_string()))?;
        gst::glib::filename_to_uri(&path, None)
            .map_err(|e| GstError::InvalidSource(e.to_string()))?
            .to_string()
    };
    let pipeline = gst::Pipeline::new();
    let decode = make("uridecodebin")?;
    decode.set_property("uri", &uri);
    let size_guard = SizeGuard::new(request.options().max_frame_pixels);
    tune_decoders(
        decode
            .downcast_ref::<gst::Bin>()
            .expect("uridecodebin is a bin"),
        config.decoder_threads,
        &size_guard,
        ctx,
    );
    if let Some(credentials) = request.credentials() {
        decode.connect("source-setup", false, move |values| {
            guarded((), || {
                if let Some(source) = values.get(1).and_then(|v| v.get::<gst::Element>().ok()) {
                    set_credentials(&source, &credentials);
                }
            });
            None
        });
    }
    pipeline
        .add(&decode)
        .map_err(|e| GstError::Pipeline(e.to_string()))?;
    let (convert, appsink) = tail(&pipeline, request, config, !network && config.pace_files)?;
    let opened = Arc::new(Mutex::new(None));
    link_video_pads(&decode, &convert, Some(Arc::clone(&opened)));
    Ok(Built {
        pipeline,
        appsink,
        opened,
        video_offered: Arc::default(),
        refused_size: size_guard.refused,
        lost_packets: size_guard.lost_packets,
        last_report: Arc::default(),
        rtp_stamps: Arc::default(),
    })
}

pub(crate) fn custom(
    config: &GstreamerConfig,
    request: &OpenRequest,
    description: &str,
    ctx: &CaptureContext,
) -> Result<Built, GstError> {
    let element = gst::parse::launch(description).map_err(|e| GstError::Pipeline(e.to_string()))?;
    let pipeline = match element.downcast::<gst::Pipeline>() {
        Ok(p) => p,
        Err(element) => {
            let p = gst::Pipeline::new();
            p.add(&element)
                .map_err(|e| GstError::Pipeline(e.to_string()))?;
            p
        }
    };
    let appsink = pipeline
        .by_name(&config.appsink_name)
        .and_then(|e| e.downcast::<gst_app::AppSink>().ok())
        .ok_or_else(|| {
            GstError::Pipeline(format!(
                "the pipeline has no appsink named {:?}",
                config.appsink_name
            ))
        })?;
    configure_appsink(&appsink, request, config, false);
    if let Some(src) = pipeline.by_name("src") {
        if src.has_property("location") {
            src.set_property("location", request.source().without_credentials());
        } else if src.has_property("uri") {
            src.set_property("uri", request.source().without_credentials());
        }
        if let Some(c) = request.credentials() {
            set_credentials(&src, &c);
        }
    }
    let size_guard = SizeGuard::new(request.options().max_frame_pixels);
    tune_decoders(
        pipeline.upcast_ref(),
        config.decoder_threads,
        &size_guard,
        ctx,
    );
    // A pipeline of the application's own counts as open once it plays; what it was offered
    // is unknown, so a refused setup in it is not taken for a refused transport.
    let opened = Arc::new(Mutex::new(Some(None)));
    Ok(Built {
        pipeline,
        appsink,
        opened,
        video_offered: Arc::default(),
        refused_size: size_guard.refused,
        lost_packets: size_guard.lost_packets,
        last_report: Arc::default(),
        rtp_stamps: Arc::default(),
    })
}

/// Gives a source element the credentials through `user-id`/`user-pw` (rtspsrc,
/// souphttpsrc), where it has them.
fn set_credentials(source: &gst::Element, credentials: &rtsp_stream_core::Credentials) {
    if source.has_property("user-id") && source.has_property("user-pw") {
        source.set_property("user-id", credentials.username.as_str());
        source.set_property("user-pw", credentials.password.expose());
    }
}
