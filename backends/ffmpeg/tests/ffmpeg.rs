//! What the FFmpeg backend does beyond the shared suite: key frames, looping files, devices
//! through an input format, damaged input, error kinds.

use rtsp_stream_core::ErrorKind;
use rtsp_stream_ffmpeg::{FfmpegBackend, FfmpegConfig};
use rtsp_stream_testkit::conformance::{EventRecorder, first_frame, start, wait_until};
use std::path::{Path, PathBuf};
use std::time::Duration;

const PATIENCE: Duration = Duration::from_secs(20);

fn clip(name: &str, extra: &[&str]) -> PathBuf {
    rtsp_stream_testkit::clip::h264_clip(Path::new(env!("CARGO_TARGET_TMPDIR")), name, extra)
        .unwrap()
}

#[test]
fn a_looping_file_starts_again() {
    let path = clip("looped.mp4", &[]);
    let events = EventRecorder::new();
    let mut config = FfmpegConfig::default();
    config.loop_files = true;
    config.pace_files = false;
    let s = start::<FfmpegBackend>(path.to_str().unwrap(), &config, &events);
    assert!(
        s.wait_next(60, PATIENCE).is_ok(),
        "fewer than 60 frames from a 25-frame loop"
    );
    assert_eq!(events.count("end_of_stream"), 0);
    assert_eq!(events.count("connecting"), 1);
    s.stop();
}

#[test]
fn a_device_is_opened_through_its_input_format() {
    // lavfi stands in for a capture device: it is opened by format name, not by URL.
    let events = EventRecorder::new();
    let mut config = FfmpegConfig::default();
    config.input_format = Some("lavfi".into());
    let s = start::<FfmpegBackend>("testsrc2=size=96x64:rate=10", &config, &events);
    let frame = first_frame(&s, &events);
    assert_eq!((frame.width(), frame.height()), (96, 64));
    s.stop();
}

#[test]
fn damaged_input_skips_to_the_next_key_frame() {
    let path = clip("damaged.ts", &["-f", "mpegts"]);
    let mut bytes = std::fs::read(&path).unwrap();
    // Drop twenty transport-stream packets from the middle, as a lossy link would: the
    // demuxer notices the gap and marks the damaged packet.
    let cut = bytes.len() / 2 / 188 * 188;
    bytes.drain(cut..cut + 188 * 20);
    let damaged = path.with_file_name("damaged-really.ts");
    std::fs::write(&damaged, &bytes).unwrap();
    let events = EventRecorder::new();
    let mut config = FfmpegConfig::default();
    config.pace_files = false;
    let s = start::<FfmpegBackend>(damaged.to_str().unwrap(), &config, &events);
    events.wait_nth("end_of_stream", 0, PATIENCE);
    let stats = s.stats();
    assert!(
        stats.decode_errors >= 1,
        "no decode error counted: {stats:?}"
    );
    assert!(
        stats.frames_decoded < 25,
        "damaged frames were delivered: {stats:?}"
    );
    assert!(
        stats.frames_decoded >= 10,
        "too few frames survived: {stats:?}"
    );
}

#[test]
fn an_unknown_scheme_is_a_permanent_error() {
    let events = EventRecorder::new();
    let s = start::<FfmpegBackend>(
        "nosuchscheme://camera/stream",
        &FfmpegConfig::default(),
        &events,
    );
    let error = events.gave_up(PATIENCE);
    assert_eq!(error.kind(), ErrorKind::InvalidSource, "{error}");
    assert_eq!(
        events.count("connecting"),
        1,
        "an unknown scheme was retried"
    );
    wait_until(PATIENCE, "the stream stops running after giving up", || {
        !s.is_running()
    });
}

const TRACE_CHILD: &str = "RTSP_STREAM_FFMPEG_TRACE_CHILD";
const HTTP_PASSWORD: &str = "Http-Trace-Pw-Zq3";

/// A one-thread HTTP server that asks for Basic credentials, then answers with something that
/// is no video.
fn http_server_asking_for_credentials() -> u16 {
    use std::io::{Read, Write};
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    std::thread::spawn(move || {
        for stream in listener.incoming().flatten() {
            let mut stream = stream;
            let mut request = Vec::new();
            let mut buf = [0u8; 4096];
            while !request.windows(4).any(|w| w == b"\r\n\r\n") {
                match stream.read(&mut buf) {
                    Ok(0) | Err(_) => break,
                    Ok(n) => request.extend_from_slice(&buf[..n]),
                }
            }
            let text = String::from_utf8_lossy(&request);
            let answer = if text.contains("Authorization:") {
                "HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nContent-Length: 11\r\n\r\nnot a video"
            } else {
                "HTTP/1.1 401 Unauthorized\r\nWWW-Authenticate: Basic realm=\"cam\"\r\n\
                 Content-Length: 0\r\n\r\n"
            };
            let _ = stream.write_all(answer.as_bytes());
        }
    });
    port
}

/// At the most verbose level FFmpeg logs every HTTP request it sends, `Authorization: Basic`
/// header included: the line reaches the `log` crate with the credentials masked.
#[test]
fn http_requests_logged_at_trace_level_carry_no_credentials() {
    if let Ok(url) = std::env::var(TRACE_CHILD) {
        rtsp_stream_testkit::conformance::StderrLogger::install();
        let events = EventRecorder::new();
        let s = rtsp_stream_testkit::conformance::builder::<FfmpegBackend>(
            &url,
            &FfmpegConfig::default(),
            &events,
        )
        .max_reconnect_attempts(1)
        .start()
        .unwrap();
        let error = events.gave_up(PATIENCE);
        println!("TRACE-CHILD-DONE {error}");
        s.stop();
        std::process::exit(0);
    }
    let port = http_server_asking_for_credentials();
    let out = std::process::Command::new(std::env::current_exe().unwrap())
        .args([
            "--exact",
            "http_requests_logged_at_trace_level_carry_no_credentials",
            "--nocapture",
        ])
        .env(
            TRACE_CHILD,
            format!("http://viewer:{HTTP_PASSWORD}@127.0.0.1:{port}/video"),
        )
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stdout.contains("TRACE-CHILD-DONE"), "{stdout}\n{stderr}");
    assert!(
        stderr.contains("Authorization: Basic ***"),
        "FFmpeg's request dump was not logged: {stderr}"
    );
    // base64("viewer:Http-Trace-Pw-Zq3")
    let basic = "dmlld2VyOkh0dHAtVHJhY2UtUHctWnEz";
    for secret in [HTTP_PASSWORD, basic] {
        for (name, text) in [("stdout", &stdout), ("stderr", &stderr)] {
            assert!(
                !text.contains(secret),
                "{secret} in the child's {name}:\n{text}"
            );
        }
    }
}

/// Only the protocols a source's kind needs: a source naming another one (`concat:`,
/// `subfile:`, a scheme FFmpeg would open but this backend does not) is an `InvalidSource`
/// error that names it, on the first attempt.
#[test]
fn a_source_naming_another_protocol_is_an_invalid_source() {
    for (source, protocol) in [
        ("concat:/etc/hostname|/etc/hostname", "concat"),
        ("subfile,,start,0,end,1,,:/etc/hostname", "subfile"),
        ("gopher://127.0.0.1/x", "gopher"),
        ("data:video/mp4;base64,AAAA", "data"),
    ] {
        let events = EventRecorder::new();
        let s = start::<FfmpegBackend>(source, &FfmpegConfig::default(), &events);
        let error = events.gave_up(PATIENCE);
        assert_eq!(error.kind(), ErrorKind::InvalidSource, "{source}: {error}");
        assert!(error.message().contains(protocol), "{source}: {error}");
        assert_eq!(events.count("connecting"), 1, "{source}: retried");
        s.stop();
    }
}

const PANIC_CHILD: &str = "RTSP_STREAM_FFMPEG_PANIC_CHILD";

/// FFmpeg calls back into Rust from C (its log, its interrupt check): a panic there — of a
/// logger or a clock of the application's — must not unwind into C, which aborts the process.
#[test]
fn callbacks_from_ffmpeg_that_panic_do_not_abort_the_process() {
    if std::env::var_os(PANIC_CHILD).is_some() {
        struct PanickingLogger;
        impl log::Log for PanickingLogger {
            fn enabled(&self, _: &log::Metadata<'_>) -> bool {
                true
            }
            fn log(&self, record: &log::Record<'_>) {
                if record.target().starts_with("rtsp_stream::ffmpeg") {
                    panic!("the application's logger panicked");
                }
            }
            fn flush(&self) {}
        }
        static LOGGER: PanickingLogger = PanickingLogger;
        log::set_logger(&LOGGER).unwrap();
        log::set_max_level(log::LevelFilter::Trace);
        // An input FFmpeg complains about, loudly.
        let path = clip("garbage.ts", &["-f", "mpegts"]);
        let mut bytes = std::fs::read(&path).unwrap();
        for (i, b) in bytes.iter_mut().enumerate().skip(2000) {
            if i % 7 == 0 {
                *b ^= 0x5a;
            }
        }
        std::fs::write(&path, &bytes).unwrap();
        let events = EventRecorder::new();
        let mut config = FfmpegConfig::default();
        config.pace_files = false;
        let s = start::<FfmpegBackend>(path.to_str().unwrap(), &config, &events);
        let _ = events.try_wait_nth("end_of_stream", 0, PATIENCE);
        s.stop();
        println!("PANIC-CHILD-SURVIVED");
        std::process::exit(0);
    }
    let out = std::process::Command::new(std::env::current_exe().unwrap())
        .args([
            "--exact",
            "callbacks_from_ffmpeg_that_panic_do_not_abort_the_process",
            "--nocapture",
        ])
        .env(PANIC_CHILD, "1")
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success() && stdout.contains("PANIC-CHILD-SURVIVED"),
        "{}\n{stdout}\n{}",
        out.status,
        String::from_utf8_lossy(&out.stderr)
    );
}
