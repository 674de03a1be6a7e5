//! The bare decoders on the same stream: `ffmpeg` and the same GStreamer elements in
//! `gst-launch-1.0`. CPU and RSS come from a run that discards the frames (as specified:
//! `-f null`, `fakesink`); latency from a second run that writes raw BGR frames to a pipe this
//! process reads the stamps from.

use crate::report::Row;
use rtsp_stream_testkit::process::{cpu_time, rss_bytes};
use rtsp_stream_testkit::{decode_stamp_packed, stamp_age};
use std::io::Read;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

const WARM_UP: Duration = Duration::from_secs(2);
/// The stream's rate: the bare decoders keep up with a live source, so frames = rate × time.
const FPS: f64 = 30.0;

pub fn ffmpeg(url: &str, size: (u32, u32), window: Duration) -> Row {
    let base = [
        "-nostdin",
        "-loglevel",
        "error",
        "-rtsp_transport",
        "tcp",
        "-i",
        url,
    ];
    let null = spawn(
        "ffmpeg",
        base.iter()
            .chain(&["-vf", "format=bgr24", "-f", "null", "-"]),
    );
    let piped = || {
        let raw = [
            "-vf",
            "format=bgr24",
            "-f",
            "rawvideo",
            "-pix_fmt",
            "bgr24",
            "pipe:1",
        ];
        spawn("ffmpeg", base.iter().chain(&raw))
    };
    finish("ffmpeg (bare)", null, piped, size, window)
}

pub fn gstreamer(url: &str, size: (u32, u32), window: Duration) -> Row {
    let location = format!("location={url}");
    let elements = [
        "rtspsrc",
        location.as_str(),
        "latency=0",
        "protocols=tcp",
        "!",
        "rtph264depay",
        "!",
        "h264parse",
        "!",
        "avdec_h264",
        "max-threads=1",
        "output-corrupt=false",
        "!",
        "videoconvert",
        "!",
        "video/x-raw,format=BGR",
        "!",
    ];
    let null = spawn(
        "gst-launch-1.0",
        ["-q"]
            .iter()
            .chain(&elements)
            .chain(&["fakesink", "sync=false"]),
    );
    let piped = || {
        let sink = ["fdsink", "fd=1", "sync=false"];
        spawn(
            "gst-launch-1.0",
            ["-q"].iter().chain(&elements).chain(&sink),
        )
    };
    finish("gst-launch (bare)", null, piped, size, window)
}

fn spawn<'a>(program: &str, args: impl Iterator<Item = &'a &'a str>) -> Child {
    Command::new(program)
        .args(args.copied())
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap_or_else(|e| panic!("{program} does not run: {e}"))
}

/// CPU and memory from the discarding run, then latency from the piped one: one after the
/// other, so that they do not compete for the two cores.
fn finish(
    name: &str,
    mut null: Child,
    piped: impl FnOnce() -> Child,
    size: (u32, u32),
    window: Duration,
) -> Row {
    let mut row = Row::empty(name, size);
    let pid = null.id();
    wait_real(WARM_UP);
    let cpu_before = cpu_time(Some(pid));
    let t = Instant::now();
    wait_real(window);
    let cpu = cpu_time(Some(pid)).saturating_sub(cpu_before);
    let elapsed = t.elapsed().as_secs_f64();
    row.rss_mib = rss_bytes(Some(pid)) as f64 / (1024.0 * 1024.0);
    stop(&mut null);
    row.frames = (elapsed * FPS) as u64;
    row.cpu_ms_per_frame = cpu.as_secs_f64() * 1000.0 / (elapsed * FPS);

    let mut piped = piped();
    let frame_len = size.0 as usize * size.1 as usize * 3;
    let mut stdout = piped.stdout.take().expect("piped");
    let mut frame = vec![0u8; frame_len];
    let warm_until = Instant::now() + WARM_UP;
    while Instant::now() < warm_until && stdout.read_exact(&mut frame).is_ok() {}
    let t = Instant::now();
    let mut ages = Vec::new();
    while t.elapsed() < window && stdout.read_exact(&mut frame).is_ok() {
        if let Some(stamp) = decode_stamp_packed(&frame, size.0, size.1) {
            ages.push(stamp_age(stamp));
        }
    }
    row.fps = ages.len() as f64 / t.elapsed().as_secs_f64();
    stop(&mut piped);
    row.set_latencies(&mut ages);
    eprintln!("  {name}: {row:?}");
    row
}

fn stop(child: &mut Child) {
    let _ = child.kill();
    let _ = child.wait();
}

/// The benchmark's measuring window: real time passing is the point here.
fn wait_real(d: Duration) {
    std::thread::sleep(d);
}
