//! Building the pipeline for a source: rtspsrc, uridecodebin or the application's own, always
//! ending in videoconvert and an appsink that keeps one buffer.

use crate::GstreamerConfig;
use crate::capture::Built;
use crate::error::GstError;
use gstreamer as gst;
use gstreamer::prelude::*;
use gstreamer_app as gst_app;
use rtsp_stream_core::raw::{OpenRequest, codec_name};
use rtsp_stream_core::{PixelFormat, Transport};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, PoisonError};

fn mark_opened(opened: &Mutex<Option<Option<String>>>, codec: Option<String>) {
    let mut o = opened.lock().unwrap_or_else(PoisonError::into_inner);
    if o.is_none() {
        *o = Some(codec);
    }
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
/// them.
fn tune_decoders(bin: &gst::Bin, threads: u32) {
    bin.connect_deep_element_added(move |_, _, element| {
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
    });
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
) -> Result<Built, GstError> {
    let pipeline = gst::Pipeline::new();
    let src = make("rtspsrc")?;
    src.set_property("location", request.source().without_credentials());
    if let Some(c) = request.credentials() {
        src.set_property("user-id", c.username.as_str());
        src.set_property("user-pw", c.password.expose());
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
    // Only the video stream is set up: no bandwidth or pads for audio nobody decodes.
    let video_offered = Arc::new(AtomicBool::new(false));
    let offered = Arc::clone(&video_offered);
    src.connect("select-stream", false, move |values| {
        let caps = values.get(2).and_then(|v| v.get::<gst::Caps>().ok());
        let video = caps
            .as_ref()
            .and_then(|c| c.structure(0))
            .and_then(|s| s.get::<&str>("media").ok())
            .is_none_or(|m| m == "video");
        if video {
            offered.store(true, Ordering::SeqCst);
        }
        Some(video.to_value())
    });
    let decode = make("decodebin")?;
    tune_decoders(
        decode
            .downcast_ref::<gst::Bin>()
            .expect("decodebin is a bin"),
        config.decoder_threads,
    );
    pipeline
        .add_many([&src, &decode])
        .map_err(|e| GstError::Pipeline(e.to_string()))?;
    let (convert, appsink) = tail(&pipeline, request, config, false)?;
    let opened = Arc::new(Mutex::new(None));
    let decode_weak = decode.downgrade();
    let seen = Arc::clone(&opened);
    src.connect_pad_added(move |_, pad| {
        let caps = pad.current_caps().or_else(|| Some(pad.query_caps(None)));
        let codec = caps
            .as_ref()
            .and_then(|c| c.structure(0))
            .and_then(|s| s.get::<&str>("encoding-name").ok())
            .map(codec_name);
        let Some(decode) = decode_weak.upgrade() else {
            return;
        };
        if let Some(sink) = decode.static_pad("sink")
            && !sink.is_linked()
            && pad.link(&sink).is_ok()
        {
            mark_opened(&seen, codec);
        }
    });
    link_video_pads(&decode, &convert, None);
    Ok(Built {
        pipeline,
        appsink,
        opened,
        video_offered,
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
    });
}

pub(crate) fn uri(
    config: &GstreamerConfig,
    request: &OpenRequest,
    network: bool,
) -> Result<Built, GstError> {
    let source = request.url_with_credentials();
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
    tune_decoders(
        decode
            .downcast_ref::<gst::Bin>()
            .expect("uridecodebin is a bin"),
        config.decoder_threads,
    );
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
    })
}

pub(crate) fn custom(
    config: &GstreamerConfig,
    request: &OpenRequest,
    description: &str,
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
            src.set_property("uri", request.url_with_credentials());
        }
        if let Some(c) = request.credentials()
            && src.has_property("user-id")
            && src.has_property("user-pw")
        {
            src.set_property("user-id", c.username.as_str());
            src.set_property("user-pw", c.password.expose());
        }
    }
    tune_decoders(pipeline.upcast_ref(), config.decoder_threads);
    // A pipeline of the application's own counts as open once it plays; what it was offered
    // is unknown, so a refused setup in it is not taken for a refused transport.
    let opened = Arc::new(Mutex::new(Some(None)));
    Ok(Built {
        pipeline,
        appsink,
        opened,
        video_offered: Arc::default(),
    })
}
