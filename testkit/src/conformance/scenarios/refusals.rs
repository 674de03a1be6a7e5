//! What servers refuse: passwords, transports, paths, and things that do not speak RTSP.

use super::{Abilities, BLIND_ATTEMPTS, FIRST_FRAME, PATIENCE, builder, server};
use crate::ServerOptions;
use crate::conformance::helpers::{EventRecorder, StderrLogger, serial};
use rtsp_stream_core::{CaptureBackend, ErrorKind, Event, Notice, State, Transport};
use std::net::TcpListener;
use std::time::Duration;

const RIGHT_PASSWORD: &str = "Sekr3t-Pa55";
const WRONG_PASSWORD: &str = "Wr0ng-Pa55w0rd";
const CHILD_ENV: &str = "RTSP_STREAM_CONFORMANCE_CHILD";

/// Wrong password: an authentication error, and neither password anywhere in the log lines,
/// error texts, or the whole stdout and stderr of the process (decoders write to stderr
/// directly, so the scenario runs in a child process, the current test binary re-run with
/// `--exact test_name`).
pub fn wrong_password<B: CaptureBackend>(config: &B::Config, test_name: &str, can: Abilities) {
    if std::env::var(CHILD_ENV).as_deref() == Ok("wrong_password") {
        wrong_password_child::<B>(config, can);
        return;
    }
    let _serial = serial();
    let output = std::process::Command::new(std::env::current_exe().unwrap())
        .args(["--exact", test_name, "--nocapture", "--test-threads=1"])
        .env(CHILD_ENV, "wrong_password")
        .output()
        .expect("run the child");
    let stdout = String::from_utf8_lossy(&output.stdout);
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(
        output.status.success() && stdout.contains("WRONG-PASSWORD-SCENARIO-OK"),
        "child failed: {}\nstdout:\n{stdout}\nstderr:\n{stderr}",
        output.status
    );
    for secret in [WRONG_PASSWORD, RIGHT_PASSWORD] {
        for (name, text) in [("stdout", &stdout), ("stderr", &stderr)] {
            assert!(
                !text.contains(secret),
                "{secret:?} appears in the child's {name}:\n{text}"
            );
        }
    }
    assert!(
        stderr.contains("***"),
        "the child logged nothing redacted?\n{stderr}"
    );
}

fn wrong_password_child<B: CaptureBackend>(config: &B::Config, can: Abilities) {
    StderrLogger::install();
    let server = server(ServerOptions {
        credentials: Some(("viewer".into(), RIGHT_PASSWORD.into())),
        ..ServerOptions::default()
    });
    let in_url = server
        .url()
        .replace("rtsp://", &format!("rtsp://viewer:{WRONG_PASSWORD}@"));
    for (url, separate) in [(in_url, false), (server.url(), true)] {
        let events = EventRecorder::new();
        let mut b = builder::<B>(&url, config, &events);
        if separate {
            b = b.credentials("viewer", WRONG_PASSWORD);
        }
        if !can.reports_authentication {
            b = b.max_reconnect_attempts(BLIND_ATTEMPTS);
        }
        let stream = b.start().unwrap();
        let error = events.gave_up(PATIENCE);
        if can.reports_authentication {
            assert_eq!(error.kind(), ErrorKind::Authentication, "{error}");
        } else {
            // The decoder cannot say why: retried as transient, then given up.
            assert!(error.is_transient(), "{error}");
            assert_eq!(events.count("connecting"), BLIND_ATTEMPTS as usize);
        }
        assert!(stream.read().is_none());
        println!("error: {error}");
        println!("debug: {error:?}");
        println!("stream: {stream:?}");
        println!("events: {:?}", events.events());
        assert_eq!(stream.state(), State::GaveUp);
    }
    // The right password works (the server really checks).
    let events = EventRecorder::new();
    let stream = builder::<B>(&server.url(), config, &events)
        .credentials("viewer", RIGHT_PASSWORD)
        .start()
        .unwrap();
    assert!(
        stream.wait_next(0, FIRST_FRAME).is_ok(),
        "the right password is refused"
    );
    stream.stop();
    println!("WRONG-PASSWORD-SCENARIO-OK");
}

/// A server that refuses TCP (461): with the default transport, frames arrive over UDP after a
/// fallback that an event reports; with TCP chosen explicitly, a clear permanent error.
pub fn udp_only_server<B: CaptureBackend>(config: &B::Config, can: Abilities) {
    let _serial = serial();
    let server = server(ServerOptions {
        udp_only: true,
        ..ServerOptions::default()
    });
    let events = EventRecorder::new();
    let stream = builder::<B>(&server.url(), config, &events)
        .start()
        .unwrap();
    let frame = stream.wait_next(0, PATIENCE);
    assert!(
        frame.is_ok(),
        "no frame over UDP ({frame:?}); events {:?}",
        events.names()
    );
    let fell_back = events.events().iter().any(|e| {
        matches!(
            e,
            Event::Notice(Notice::TransportFallback {
                from: Transport::Tcp,
                to: Transport::Udp
            })
        )
    });
    assert_eq!(
        fell_back,
        can.reports_transport_fallback,
        "transport-fallback event: {:?}",
        events.names()
    );
    stream.stop();

    let events = EventRecorder::new();
    let stream = builder::<B>(&server.url(), config, &events)
        .transport(Transport::Tcp)
        .start()
        .unwrap();
    let error = events.gave_up(PATIENCE);
    if can.reports_transport_fallback {
        assert_eq!(error.kind(), ErrorKind::TransportRefused, "{error}");
    } else {
        assert!(!error.is_transient(), "{error}");
    }
    assert!(stream.read().is_none());
}

/// An unknown mount path: a clear, permanent error, no hang.
pub fn unknown_path<B: CaptureBackend>(config: &B::Config, can: Abilities) {
    let _serial = serial();
    let server = server(ServerOptions::default());
    let url = format!("rtsp://127.0.0.1:{}/no-such-path", server.port());
    let events = EventRecorder::new();
    let mut b = builder::<B>(&url, config, &events);
    if !can.reports_rtsp_status {
        b = b.max_reconnect_attempts(BLIND_ATTEMPTS);
    }
    let stream = b.start().unwrap();
    let error = events.gave_up(PATIENCE);
    if can.reports_rtsp_status {
        assert_eq!(error.kind(), ErrorKind::NotFound, "{error}");
    } else {
        assert_eq!(events.count("connecting"), BLIND_ATTEMPTS as usize);
    }
    assert!(!error.message().is_empty());
    assert!(stream.read().is_none());
}

/// A TCP port where something answers, but not RTSP: a clear error, no hang, no panic.
pub fn garbage_speaker<B: CaptureBackend>(config: &B::Config) {
    let _serial = serial();
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    listener.set_nonblocking(true).unwrap();
    let stop = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(false));
    let s = stop.clone();
    let speaker = std::thread::spawn(move || {
        use std::io::Write;
        let mut held = Vec::new();
        while !s.load(std::sync::atomic::Ordering::Relaxed) {
            match listener.accept() {
                Ok((mut c, _)) => {
                    let _ = c.write_all(b"\x16\x03\x01 garbage \xff\xfe not rtsp at all\r\n\r\n");
                    held.push(c);
                }
                Err(_) => std::thread::sleep(Duration::from_millis(5)),
            }
        }
    });
    let events = EventRecorder::new();
    let stream = builder::<B>(&format!("rtsp://127.0.0.1:{port}/x"), config, &events)
        .max_reconnect_attempts(2)
        .start()
        .unwrap();
    // Either a permanent error or two failed attempts end the stream; both within bounds.
    let error = events.gave_up(PATIENCE);
    assert!(!error.to_string().is_empty());
    assert!(stream.read().is_none());
    assert_eq!(stream.stats().frames_decoded, 0);
    stop.store(true, std::sync::atomic::Ordering::Relaxed);
    speaker.join().unwrap();
}
