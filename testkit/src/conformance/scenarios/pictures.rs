//! Pictures: formats, colours, codecs, sizes, key frames.

use super::{
    Abilities, FIRST_FRAME, PATIENCE, Stage, assert_pattern_colours, builder,
    next_connection_frame, server,
};
use crate::conformance::helpers::{EventRecorder, serial, wait_until};
use crate::{Codec, Colorimetry, PATTERN_COLOURS, ServerOptions};
use rtsp_stream_core::{CaptureBackend, ErrorKind, Event, Frame, PixelFormat};
use std::time::{Duration, Instant};

/// First decodable frame within 5 s, right size, right pixel format, right colours; it is not
/// a delta frame, and the presentation time stamps of the frames after it grow (the first
/// picture of an RTSP session may have none: FFmpeg's parser has no earlier packet to derive
/// one from). Backends without time stamps state it in their [`Abilities`].
pub fn first_frame_and_pixel_formats<B: CaptureBackend>(config: &B::Config, can: Abilities) {
    let _serial = serial();
    let server = server(ServerOptions::default());
    for format in [PixelFormat::Bgr8, PixelFormat::Rgb8, PixelFormat::Gray8] {
        let events = EventRecorder::new();
        let stream = builder::<B>(&server.url(), config, &events)
            .pixel_format(format)
            .start()
            .unwrap();
        let t = Instant::now();
        let frame = stream.wait_next(0, FIRST_FRAME).unwrap_or_else(|e| {
            panic!(
                "{e}: no {format} frame within 5 s; events {:?}",
                events.names()
            )
        });
        assert!(t.elapsed() <= FIRST_FRAME);
        assert_eq!((frame.width(), frame.height()), (320, 240));
        assert_eq!(frame.pixel_format(), format);
        assert!(frame.stride() >= 320 * format.bytes_per_pixel());
        assert_pattern_colours(&frame);
        assert_first_frame_is_decodable(&frame, "the first frame");
        if format == PixelFormat::Bgr8 && can.time_stamps {
            let mut last = None;
            let mut seq = frame.seq();
            for _ in 0..5 {
                let f = stream.wait_next(seq, FIRST_FRAME).expect("more frames");
                seq = f.seq();
                let pts = f.pts().expect("a time stamp after the first frame");
                assert!(last.is_none_or(|l| pts > l), "{last:?} then {pts:?}");
                last = Some(pts);
            }
        }
        stream.stop();
    }
}

/// Joining a stream that is already flowing (shared media, mid-way between key frames): the
/// first frame delivered is a decodable picture with the right colours, not a grey one
/// concealed before the first key frame; backends that know say it is a key frame. The joiners
/// then stay connected beside each other.
pub fn joining_mid_stream_starts_at_a_decodable_frame<B: CaptureBackend>(config: &B::Config) {
    let stage = Stage::new();
    let server = &stage.server;
    let first = stage.builder::<B>(config, None).start().unwrap();
    let mut seen = first.wait_next(0, FIRST_FRAME).expect("a frame");
    let mut joiners = Vec::new();
    for join in 0..3 {
        // Let a few frames pass so the join lands at another point of the key-frame interval.
        for _ in 0..(3 + join) {
            seen = first
                .wait_next(seen.seq(), FIRST_FRAME)
                .expect("frames keep coming");
        }
        let events = EventRecorder::new();
        let joiner = builder::<B>(&server.url(), config, &events)
            .start()
            .unwrap();
        let frame = joiner
            .wait_next(0, FIRST_FRAME)
            .unwrap_or_else(|e| panic!("{e}: join {join}: no frame; events {:?}", events.names()));
        assert_first_frame_is_decodable(&frame, &format!("join {join}"));
        assert_pattern_colours(&frame);
        joiners.push((joiner, events, frame.seq()));
    }
    // A joiner stays: the server shares one media among its clients, and a client must
    // follow the packets as they come, not the numbers the server announced when it joined.
    for (join, (joiner, events, seq)) in joiners.iter().enumerate() {
        let mut last = *seq;
        for _ in 0..15 {
            last = joiner
                .wait_next(last, FIRST_FRAME)
                .unwrap_or_else(|e| panic!("{e}: join {join} stopped; events {:?}", events.names()))
                .seq();
        }
        assert_eq!(
            events.count("disconnected"),
            0,
            "join {join} was dropped: {:?}",
            joiner.stats().last_error
        );
    }
    for (joiner, _, _) in joiners {
        joiner.stop();
    }
    first.stop();
}

/// Asserts that `frame`, if it is the first frame the stream published, was decoded from a
/// key frame. A later frame (the first one was overwritten before a loaded test thread read
/// it: `wait_next` returns the newest) says nothing about the first, and is let pass.
fn assert_first_frame_is_decodable(frame: &Frame, what: &str) {
    if frame.seq() == 1 {
        assert_ne!(
            frame.is_key_frame(),
            Some(false),
            "{what}: the first frame is a delta frame"
        );
    }
}

/// H.265 and MJPEG streams decode too: right colours, and the codec named `hevc` / `mjpeg`.
pub fn other_codecs_decode<B: CaptureBackend>(config: &B::Config, can: Abilities) {
    let _serial = serial();
    for (codec, name) in [(Codec::H265, "hevc"), (Codec::Mjpeg, "mjpeg")] {
        let server = server(ServerOptions {
            codec,
            ..ServerOptions::default()
        });
        let events = EventRecorder::new();
        if !can.other_codecs {
            let stream = builder::<B>(&server.url(), config, &events)
                .start()
                .unwrap();
            let error = events.gave_up(PATIENCE);
            assert_eq!(error.kind(), ErrorKind::Unsupported, "{error}");
            assert!(error.to_string().contains(name), "{codec:?}: {error}");
            assert_eq!(
                events.count("connecting"),
                1,
                "an undecodable codec was retried"
            );
            drop(stream);
            continue;
        }
        let stream = builder::<B>(&server.url(), config, &events)
            .start()
            .unwrap();
        let frame = stream
            .wait_next(0, PATIENCE)
            .unwrap_or_else(|e| panic!("{e}: no {codec:?} frame; events {:?}", events.names()));
        assert_eq!((frame.width(), frame.height()), (320, 240));
        assert_pattern_colours(&frame);
        let props = stream.props().expect("props while a frame is in hand");
        assert_eq!(props.codec.as_deref(), Some(name), "{props:?}");
        stream.stop();
    }
}

/// Pictures large enough that every frame is split over many RTP packets (1280×720) decode
/// at the full rate without a single decode error.
pub fn large_pictures_decode_cleanly<B: CaptureBackend>(config: &B::Config) {
    let _serial = serial();
    let server = server(ServerOptions {
        width: 1280,
        height: 720,
        ..ServerOptions::default()
    });
    let events = EventRecorder::new();
    let stream = builder::<B>(&server.url(), config, &events)
        .start()
        .unwrap();
    let first = stream
        .wait_next(0, PATIENCE)
        .unwrap_or_else(|e| panic!("{e}: no 720p frame; events {:?}", events.names()));
    assert_eq!((first.width(), first.height()), (1280, 720));
    assert_pattern_colours(&first);
    let (start, t) = (stream.stats().frames_decoded, Instant::now());
    let window = Duration::from_secs(3);
    let mut seq = first.seq();
    while t.elapsed() < window {
        if let Ok(f) = stream.wait_next(seq, Duration::from_secs(1)) {
            seq = f.seq();
        }
    }
    let stats = stream.stats();
    let fps = (stats.frames_decoded - start) as f64 / t.elapsed().as_secs_f64();
    assert_eq!(stats.decode_errors, 0, "{stats:?}");
    assert!(fps >= 0.9 * 15.0, "720p decoded at {fps:.1} fps: {stats:?}");
    stream.stop();
}

/// fps, width and height reported by the stream match the server; `Connected` carries the
/// size; `fps()` is the nominal rate.
pub fn props_match_the_server<B: CaptureBackend>(config: &B::Config) {
    let stage = Stage::new();
    let events = &stage.events;
    let stream = stage.builder::<B>(config, None).start().unwrap();
    let frame = stream.wait_next(0, FIRST_FRAME).expect("a frame");
    assert_eq!((stream.frame_width(), stream.frame_height()), (320, 240));
    // `Connected` carries the size, whether the backend knew it on opening or only with the
    // first frame, and comes before `FirstFrame`.
    let (connected, _, event) = events.wait_for(0, PATIENCE, "connected", |e| {
        matches!(e, Event::Connected { .. })
    });
    let Event::Connected { props, generation } = event else {
        unreachable!()
    };
    assert_eq!((props.width, props.height), (320, 240), "{props:?}");
    assert_eq!(generation, frame.generation());
    let (first, _, _) = events.wait_for(0, PATIENCE, "first_frame", |e| {
        matches!(e, Event::FirstFrame { .. })
    });
    assert!(connected < first, "{:?}", events.names());
    // One meaning on every backend: the nominal rate the stream declares (15 in its
    // bitstream), known from the first frame on — not a measurement that drifts.
    let props = stream.props().expect("props while connected");
    assert_eq!(props.fps, Some(15.0), "{props:?}");
    assert_eq!(stream.fps(), 15.0);
    assert!(props.codec.is_some(), "no codec name in {props:?}");
    stream.stop();
    assert_eq!(stream.fps(), 0.0, "0 when not connected");
}

/// The server changes resolution between sessions: frames of the new size, a
/// resolution-changed event, updated props.
pub fn resolution_change<B: CaptureBackend>(config: &B::Config) {
    let stage = Stage::new();
    let (server, events) = (&stage.server, &stage.events);
    let stream = stage.builder::<B>(config, None).start().unwrap();
    let before = stream.wait_next(0, FIRST_FRAME).expect("first frame");
    assert_eq!((before.width(), before.height()), (320, 240));
    server.set_resolution(160, 120).unwrap();
    let after = next_connection_frame(&stream, &before, events, "the change");
    assert_eq!((after.width(), after.height()), (160, 120));
    let (_, e) = events.wait_nth("resolution_changed", 0, PATIENCE);
    let Event::ResolutionChanged { props } = e else {
        unreachable!()
    };
    assert_eq!((props.width, props.height), (160, 120));
    wait_until(PATIENCE, "props updated", || {
        (stream.frame_width(), stream.frame_height()) == (160, 120)
    });
    stream.stop();
}

/// The picture size changes inside one RTSP session (the encoder starts again with a new SPS;
/// the session stays), down and then up: frames of the new size arrive with a
/// `resolution_changed` event, and no frame is ever published whose pixels are not the current
/// picture — every frame has the right colours and a time stamp (drawn into its bottom rows)
/// newer than the frame before: a repeated picture, or a new one at the wrong stride over a
/// stale bottom half, would not. A backend may reconnect to follow the change.
pub fn resolution_changes_within_a_session<B: CaptureBackend>(config: &B::Config) {
    let stage = Stage::new();
    let (server, events) = (&stage.server, &stage.events);
    let stream = stage.builder::<B>(config, None).start().unwrap();
    let first = stream.wait_next(0, FIRST_FRAME).expect("first frame");
    assert_eq!((first.width(), first.height()), (320, 240));
    let mut last = first;
    for (n, size) in [(160, 120), (480, 360)].into_iter().enumerate() {
        server.change_resolution_in_session(size.0, size.1);
        let mut new_size_frames = 0;
        while new_size_frames < 10 {
            let frame = stream.wait_next(last.seq(), PATIENCE).unwrap_or_else(|e| {
                panic!(
                    "no frame after the change to {size:?} ({e}); events {:?}",
                    events.names()
                )
            });
            let dims = (frame.width(), frame.height());
            if dims == size {
                new_size_frames += 1;
            } else {
                assert_eq!(new_size_frames, 0, "a {dims:?} frame after {size:?} frames");
            }
            assert_current_picture(&frame, &last);
            last = frame;
        }
        let (_, e) = events.wait_nth("resolution_changed", n, PATIENCE);
        let Event::ResolutionChanged { props } = e else {
            unreachable!()
        };
        assert_eq!((props.width, props.height), size);
    }
    stream.stop();
}

/// A frame's pixels are a current picture: the bars' colours, and a time stamp newer than the
/// one of `before`.
fn assert_current_picture(frame: &Frame, before: &Frame) {
    assert_pattern_colours(frame);
    let stamp = crate::decode_stamp(frame).expect("a stamp");
    if let Some(previous) = crate::decode_stamp(before) {
        let newer = stamp.wrapping_sub(previous) & ((1 << 40) - 1);
        assert!(
            newer > 0 && newer < 1 << 39,
            "seq {} repeats or precedes the picture of seq {}",
            frame.seq(),
            before.seq()
        );
    }
}

/// A BT.709 1080p stream and a BT.601 320×240 stream both give the pattern's colours within
/// the backend's tolerance, ±3 levels by default (the mean of a block at each bar's centre): each is converted with the matrix it
/// declares, so every backend gives the same pixels. The wrong matrix is 10 or more levels off
/// on these bars.
pub fn colours_follow_the_declared_matrix<B: CaptureBackend>(config: &B::Config, can: Abilities) {
    let _serial = serial();
    for (width, height, colorimetry) in [
        (1920, 1080, Colorimetry::Bt709),
        (320, 240, Colorimetry::Bt601),
    ] {
        if colorimetry == Colorimetry::Bt709 && !can.follows_colour_matrix {
            continue;
        }
        let server = server(ServerOptions {
            width,
            height,
            colorimetry,
            ..ServerOptions::default()
        });
        let events = EventRecorder::new();
        let stream = builder::<B>(&server.url(), config, &events)
            .pixel_format(PixelFormat::Rgb8)
            .start()
            .unwrap();
        // A few frames in, once the encoder's rate control has settled; each bar's colour is
        // the mean of a 16×16 block at its centre, so compression noise does not count.
        let mut frame = stream
            .wait_next(0, PATIENCE)
            .unwrap_or_else(|e| panic!("{e}: no frame; events {:?}", events.names()));
        for _ in 0..5 {
            frame = stream
                .wait_next(frame.seq(), PATIENCE)
                .expect("more frames");
        }
        let mut worst = 0.0f64;
        for (i, rgb) in PATTERN_COLOURS.iter().enumerate() {
            let (cx, cy) = (width * (2 * i as u32 + 1) / 6, height / 4);
            let mut sum = [0u32; 3];
            for y in cy - 8..cy + 8 {
                for x in cx - 8..cx + 8 {
                    for (c, v) in sum.iter_mut().zip(frame.pixel(x, y)) {
                        *c += u32::from(*v);
                    }
                }
            }
            for c in 0..3 {
                let mean = f64::from(sum[c]) / 256.0;
                worst = worst.max((mean - f64::from(rgb[c])).abs());
            }
        }
        println!("figure: {colorimetry:?} {width}×{height}: worst deviation {worst:.1} levels");
        assert!(
            worst <= f64::from(can.colour_tolerance),
            "{colorimetry:?} {width}×{height}: {worst:.1} levels off the pattern"
        );
        stream.stop();
    }
}
