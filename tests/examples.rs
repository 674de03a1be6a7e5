//! The examples, run the way the README runs them, against the testkit's RTSP server: so the
//! README never shows code that does not work. The binaries are the ones `cargo test` builds
//! next to this test.

#![cfg(any(feature = "ffmpeg", feature = "gstreamer", feature = "opencv"))]

use rtsp_stream::AnyConfig;
use rtsp_stream_testkit::conformance::serial;
use serde_json::Value;
use std::path::PathBuf;
use std::process::{Command, Output, Stdio};
use std::time::{Duration, Instant};

fn example(name: &str) -> PathBuf {
    let exe = std::env::current_exe().unwrap();
    let dir = exe.parent().unwrap().parent().unwrap().join("examples");
    let path = dir.join(name);
    assert!(
        path.exists(),
        "{} is missing: cargo test builds the examples with the same features",
        path.display()
    );
    path
}

/// Runs an example to completion, killing it (and failing) after `limit`.
fn run(name: &str, args: &[&str], limit: Duration) -> Output {
    run_with_env(name, args, &[], limit)
}

/// [`run`] with extra environment variables for the child.
fn run_with_env(name: &str, args: &[&str], env: &[(&str, &str)], limit: Duration) -> Output {
    let mut child = Command::new(example(name))
        .args(args)
        .envs(env.iter().copied())
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let until = Instant::now() + limit;
    while child.try_wait().unwrap().is_none() {
        if Instant::now() > until {
            let _ = child.kill();
            let out = child.wait_with_output().unwrap();
            panic!(
                "{name} {args:?} still running after {limit:?}\nstdout:\n{}\nstderr:\n{}",
                String::from_utf8_lossy(&out.stdout),
                String::from_utf8_lossy(&out.stderr)
            );
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    child.wait_with_output().unwrap()
}

fn text(out: &Output) -> (String, String) {
    (
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

fn ok(name: &str, args: &[&str], limit: Duration) -> String {
    let out = run(name, args, limit);
    let (stdout, stderr) = text(&out);
    assert!(
        out.status.success(),
        "{name} {args:?}: {}\nstdout:\n{stdout}\nstderr:\n{stderr}",
        out.status
    );
    stdout
}

/// The network decoders compiled into this build.
fn decoders() -> Vec<&'static str> {
    AnyConfig::available()
        .into_iter()
        .filter(|b| matches!(*b, "ffmpeg" | "gstreamer" | "opencv"))
        .collect()
}

const LIMIT: Duration = Duration::from_secs(60);

#[test]
fn quickstart_reads_thirty_frames() {
    let stdout = ok("quickstart", &[], LIMIT);
    assert_eq!(
        stdout.lines().filter(|l| l.starts_with("frame ")).count(),
        30,
        "{stdout}"
    );
    assert!(stdout.contains("640x480"), "{stdout}");
}

/// The default `AnyConfig` honours `RTSP_STREAM_BACKEND`: each decoder by name runs the
/// quickstart, and a misspelt name stops it with an error that lists the compiled-in ones.
#[test]
fn the_environment_variable_picks_the_decoder_and_a_misspelt_one_is_an_error() {
    for name in decoders() {
        let out = run_with_env("quickstart", &[], &[("RTSP_STREAM_BACKEND", name)], LIMIT);
        let (stdout, stderr) = text(&out);
        assert!(out.status.success(), "{name}: {stdout}\n{stderr}");
        assert!(
            stdout
                .lines()
                .last()
                .is_some_and(|l| l.starts_with(&format!("{name} at "))),
            "{name} did not run:\n{stdout}"
        );
    }
    let out = run_with_env(
        "quickstart",
        &[],
        &[("RTSP_STREAM_BACKEND", "ffmpge")],
        LIMIT,
    );
    let (stdout, stderr) = text(&out);
    assert!(!out.status.success(), "a misspelt decoder ran:\n{stdout}");
    assert!(stderr.contains("ffmpge"), "{stderr}");
    for name in AnyConfig::available() {
        assert!(stderr.contains(name), "{name} not listed:\n{stderr}");
    }
}

#[test]
fn read_file_iterates_to_the_end_of_the_file() {
    let stdout = ok("read_file", &[], LIMIT);
    let frames = stdout.lines().filter(|l| l.starts_with("frame ")).count();
    // A 1 s, 25 fps clip at its own rate: every frame, once (a busy machine may let one be
    // overwritten before it is read).
    assert!((20..=25).contains(&frames), "{frames} frames:\n{stdout}");
    assert!(
        stdout.contains(&format!("{frames} frames, then the end of the file")),
        "{stdout}"
    );
}

/// `tokio_service`: two cameras, Ctrl-C (SIGINT) once both deliver frames; the process exits
/// with status 0 within 2 s and says how long the shutdown took.
#[cfg(unix)]
#[test]
fn tokio_service_stops_both_cameras_on_ctrl_c() {
    use std::io::{BufRead, BufReader};
    let mut child = Command::new(example("tokio_service"))
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let (tx, lines) = std::sync::mpsc::channel();
    let stdout = child.stdout.take().unwrap();
    let reader = std::thread::spawn(move || {
        for line in BufReader::new(stdout).lines().map_while(Result::ok) {
            let _ = tx.send(line);
        }
    });
    let mut seen = Vec::new();
    let until = Instant::now() + LIMIT;
    while !["door: frame", "yard: frame"]
        .iter()
        .all(|want| seen.iter().any(|l: &String| l.starts_with(want)))
    {
        let left = until.saturating_duration_since(Instant::now());
        match lines.recv_timeout(left) {
            Ok(line) => seen.push(line),
            Err(_) => {
                let _ = child.kill();
                panic!("no frames from both cameras within {LIMIT:?}: {seen:?}");
            }
        }
    }
    let interrupted = Instant::now();
    let status = Command::new("kill")
        .args(["-INT", &child.id().to_string()])
        .status()
        .unwrap();
    assert!(status.success());
    let exit = loop {
        if let Some(exit) = child.try_wait().unwrap() {
            break exit;
        }
        if interrupted.elapsed() > Duration::from_secs(2) {
            let _ = child.kill();
            panic!("still running 2 s after SIGINT: {seen:?}");
        }
        std::thread::sleep(Duration::from_millis(10));
    };
    let took = interrupted.elapsed();
    reader.join().unwrap();
    seen.extend(lines.try_iter());
    let mut stderr = String::new();
    let _ = std::io::Read::read_to_string(&mut child.stderr.take().unwrap(), &mut stderr);
    assert!(exit.success(), "{exit} after {took:?}: {seen:?}\n{stderr}");
    for camera in ["door", "yard"] {
        assert!(
            seen.iter()
                .any(|l| l.starts_with(&format!("{camera}: ")) && l.ends_with("ended: stopped")),
            "{camera} did not end with the stop: {seen:?}"
        );
    }
    assert!(
        seen.iter().any(|l| l.starts_with("shut down in ")),
        "{seen:?}"
    );
}

#[test]
fn backoff_waits_grow_and_stop_at_the_cap() {
    let stdout = ok("backoff", &[], LIMIT);
    let waits: Vec<&str> = stdout
        .lines()
        .filter_map(|l| l.split("next in ").nth(1))
        .collect();
    assert_eq!(
        waits,
        ["100 ms", "200 ms", "400 ms", "800 ms", "800 ms"],
        "{stdout}"
    );
    assert!(
        stdout.contains("gave up after 5 reconnection attempts"),
        "{stdout}"
    );
}

#[test]
fn callbacks_see_the_drop_and_the_reconnection() {
    let _serial = serial();
    let stdout = ok("callbacks", &[], LIMIT);
    let count = |s: &str| stdout.lines().filter(|l| *l == s).count();
    assert_eq!(count("on_connect"), 2, "{stdout}");
    assert!(count("on_disconnect") >= 1, "{stdout}");
    assert_eq!(count("on_reconnect_failure"), 0, "{stdout}");
    assert!(count("event: backing_off") >= 1, "{stdout}");
}

#[test]
fn snapshot_writes_a_png() {
    let path = PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join("example-snapshot.png");
    let _ = std::fs::remove_file(&path);
    ok("snapshot", &["--out", path.to_str().unwrap()], LIMIT);
    let bytes = std::fs::read(&path).expect("the PNG file");
    assert!(bytes.starts_with(b"\x89PNG\r\n\x1a\n"), "not a PNG");
}

#[test]
fn swap_backend_runs_the_same_code_on_every_decoder() {
    let _serial = serial();
    let stdout = ok("swap_backend", &[], LIMIT * 2);
    for name in decoders() {
        assert!(
            stdout
                .lines()
                .any(|l| l.starts_with(&format!("{name}: 10 frames"))),
            "{name}: {stdout}"
        );
    }
}

/// The README's `MockBackend` recipe, 200 times in a row: deterministic under any load.
#[cfg(feature = "mock")]
#[test]
fn mock_test_recipe_passes_two_hundred_times() {
    let stdout = ok("mock_test", &["--repeat", "200"], LIMIT);
    assert!(stdout.contains("alarm raised after 5s"), "{stdout}");
    assert!(stdout.contains("5 reconnection attempts"), "{stdout}");
    assert!(stdout.contains("200 run(s), all passed"), "{stdout}");
}

/// Every line of `watch --json` is one JSON object of the documented shape.
fn check_schema(line: &str) -> Value {
    let v: Value = serde_json::from_str(line).unwrap_or_else(|e| panic!("{e}: {line}"));
    assert!(
        v["t"].as_f64().is_some_and(|t| t > 1.6e9),
        "no unix time: {line}"
    );
    let event = v["event"]
        .as_str()
        .unwrap_or_else(|| panic!("no event: {line}"));
    let number = |k: &str| assert!(v[k].is_number(), "{k} is not a number: {line}");
    let string = |k: &str| assert!(v[k].is_string(), "{k} is not a string: {line}");
    match event {
        "connecting" => {
            number("attempt");
            string("backend");
        }
        "connected" => {
            number("width");
            number("height");
            string("backend");
        }
        "first_frame" | "resolution_changed" => {
            number("width");
            number("height");
        }
        "disconnected" | "stalled" | "gave_up" | "transport_fallback" => string("reason"),
        "backing_off" => {
            number("attempt");
            number("delay_s");
        }
        "stopped" => number("stop_ms"),
        "end_of_stream" => {}
        "stats" => {
            string("state");
            for k in ["frames", "fps", "width", "height", "reconnects", "seq"] {
                number(k);
            }
            assert!(
                v["age_ms"].is_number() || v["age_ms"].is_null(),
                "age_ms: {line}"
            );
        }
        other => panic!("unknown event {other:?}: {line}"),
    }
    v
}

/// The README's first command, on every compiled-in decoder: the demo stream drops once and
/// comes back.
#[test]
fn watch_json_shows_the_drop_and_the_reconnection_on_every_decoder() {
    // Timing matters here (the demo drops and restarts its server): run alone.
    let _serial = serial();
    for backend in decoders() {
        let stdout = ok(
            "watch",
            &["--backend", backend, "--json", "--duration", "10"],
            LIMIT,
        );
        let lines: Vec<Value> = stdout.lines().map(check_schema).collect();
        let events: Vec<&str> = lines
            .iter()
            .filter_map(|v| v["event"].as_str())
            .filter(|e| *e != "stats")
            .collect();
        let wanted: [&[&str]; 6] = [
            &["connected"],
            &["first_frame"],
            &["disconnected", "stalled"],
            &["backing_off"],
            &["connected"],
            &["first_frame"],
        ];
        let mut at = 0;
        for want in wanted {
            at += events[at..]
                .iter()
                .position(|e| want.contains(e))
                .unwrap_or_else(|| panic!("{backend}: no {want:?} after #{at} in {events:?}"))
                + 1;
        }
        assert_eq!(events.last(), Some(&"stopped"), "{backend}: {events:?}");
        assert!(
            lines
                .iter()
                .any(|v| v["event"] == "stats" && v["frames"].as_u64() > Some(0)),
            "{backend}: no stats line with frames"
        );
        assert!(
            lines
                .iter()
                .any(|v| v["event"] == "connected" && v["backend"] == backend),
            "{backend}: the backend is not named"
        );
    }
}

/// The README's "Many cameras" example: eight cameras of one group, each one's frames reach
/// the one consumer loop, and the group stops in one go.
#[test]
fn many_cameras_share_one_consumer_and_stop_together() {
    let _serial = serial();
    let stdout = ok("many_cameras", &[], LIMIT);
    for i in 0..8 {
        let taken = stdout
            .lines()
            .filter_map(|l| l.strip_prefix(&format!("cam{i}: ")))
            .find_map(|rest| rest.strip_suffix(" frames taken"))
            .and_then(|n| n.parse::<u64>().ok());
        assert!(
            taken.is_some_and(|n| n >= 20),
            "cam{i}: {taken:?}\n{stdout}"
        );
    }
    assert!(stdout.contains("cam7: first_frame"), "{stdout}");
    assert!(stdout.contains("8 cameras, 8 streaming"), "{stdout}");
    let stop_ms: f64 = stdout
        .split("stopped in ")
        .nth(1)
        .and_then(|rest| rest.split(' ').next())
        .and_then(|n| n.parse().ok())
        .unwrap_or_else(|| panic!("no stop time\n{stdout}"));
    assert!(stop_ms < 2000.0, "the group took {stop_ms} ms to stop");
}

/// Several cameras in one `watch`: every JSON line names its camera, each camera streams, a
/// camera that cannot connect gives up on its own, and no URL shows its password.
#[test]
fn watch_reads_several_cameras_and_names_each_line() {
    let _serial = serial();
    let server = rtsp_stream_testkit::TestServer::start(rtsp_stream_testkit::ServerOptions {
        fps: 15,
        ..Default::default()
    })
    .expect("the test server");
    let live = server
        .url()
        .replacen("rtsp://", "rtsp://viewer:Door-Pass-7@", 1);
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let dead = format!("rtsp://viewer:Gate-Pass-8@127.0.0.1:{port}/cam");
    let out = run(
        "watch",
        &[
            "--name",
            "door",
            &live,
            "--name",
            "yard",
            &live,
            "--name",
            "gate",
            &dead,
            "--json",
            // Long enough for both live cameras' first frame from the in-process server when
            // the machine is busy (it took over 6 s once, with eight test lanes on two cores).
            "--duration",
            "10",
            "--max-reconnect-attempts",
            "2",
            "--reconnect-delay",
            "0.05",
        ],
        LIMIT,
    );
    let (stdout, stderr) = text(&out);
    assert!(
        !out.status.success(),
        "a camera gave up: exit 1
{stdout}"
    );
    let lines: Vec<Value> = stdout.lines().map(check_schema).collect();
    for line in &lines {
        assert!(
            matches!(line["camera"].as_str(), Some("door" | "yard" | "gate")),
            "no camera name: {line}"
        );
    }
    let of = |camera: &str, event: &str| {
        lines
            .iter()
            .filter(|v| v["camera"] == camera && v["event"] == event)
            .count()
    };
    for camera in ["door", "yard"] {
        assert!(
            of(camera, "first_frame") >= 1,
            "{camera}: no frame
{stdout}"
        );
        assert_eq!(
            of(camera, "gave_up"),
            0,
            "{camera}
{stdout}"
        );
    }
    assert_eq!(of("gate", "gave_up"), 1, "{stdout}");
    assert_eq!(of("gate", "first_frame"), 0, "{stdout}");
    for secret in ["Door-Pass-7", "Gate-Pass-8"] {
        assert!(
            !stdout.contains(secret) && !stderr.contains(secret),
            "{secret} shown:\n{stdout}\n{stderr}"
        );
    }
}

#[test]
fn watch_refuses_a_camera_name_that_is_a_url() {
    let out = run(
        "watch",
        &[
            "--name",
            "rtsp://viewer:Name-Pass-3@cam/x",
            "rtsp://127.0.0.1:9/x",
        ],
        LIMIT,
    );
    let (stdout, stderr) = text(&out);
    assert_eq!(out.status.code(), Some(2), "{stdout}{stderr}");
    assert!(stderr.contains("must not be a URL"), "{stderr}");
    assert!(!stderr.contains("Name-Pass-3"), "{stderr}");
}

#[test]
fn watch_plain_mode_prints_lines_and_writes_a_snapshot() {
    let path = PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join("watch-snapshot.png");
    let _ = std::fs::remove_file(&path);
    let stdout = ok(
        "watch",
        &["--duration", "3", "--snapshot", path.to_str().unwrap()],
        LIMIT,
    );
    assert!(stdout.contains("first frame 640x480"), "{stdout}");
    assert!(stdout.contains("stopped in"), "{stdout}");
    assert!(std::fs::read(&path).unwrap().starts_with(b"\x89PNG"));
}

#[test]
fn watch_exits_non_zero_when_it_gives_up_and_never_shows_the_password() {
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    // A password with an unescaped '#', as people paste them; the library's log lines on
    // (RUST_LOG), on stderr.
    let url = format!("rtsp://viewer:Hunter2#Secret@127.0.0.1:{port}/cam");
    let out = run_with_env(
        "watch",
        &[
            &url,
            "--json",
            "--max-reconnect-attempts",
            "2",
            "--reconnect-delay",
            "0.05",
            "--user",
            "viewer",
        ],
        &[
            ("RUST_LOG", "rtsp_stream=info"),
            ("RTSP_STREAM_PASSWORD", "Other-Secret-9"),
        ],
        LIMIT,
    );
    let (stdout, stderr) = text(&out);
    assert!(!out.status.success(), "exit 0 after giving up");
    assert!(stderr.contains("gave up"), "{stderr}");
    assert!(
        stderr.contains("rtsp_stream") && stderr.contains("connecting"),
        "RUST_LOG did nothing:\n{stderr}"
    );
    for secret in ["Hunter2#Secret", "Hunter2", "Other-Secret-9"] {
        assert!(
            !stdout.contains(secret) && !stderr.contains(secret),
            "{secret} shown:\n{stdout}\n{stderr}"
        );
    }
    for line in stdout.lines() {
        check_schema(line);
    }
    assert!(stdout.contains("\"gave_up\""), "{stdout}");
}

/// The password never on the command line (every user of the machine reads it there):
/// `--password` is refused with the ways that work, and `--password-stdin` reads it.
#[test]
fn watch_takes_the_password_from_stdin_or_the_environment_never_the_command_line() {
    let out = run(
        "watch",
        &["rtsp://127.0.0.1:1/cam", "--password", "Pw-On-Argv-1"],
        LIMIT,
    );
    let (_, stderr) = text(&out);
    assert!(!out.status.success());
    assert!(
        stderr.contains("RTSP_STREAM_PASSWORD") && stderr.contains("--password-stdin"),
        "{stderr}"
    );
    assert!(!stderr.contains("Pw-On-Argv-1"), "{stderr}");
    let mut child = Command::new(example("watch"))
        .args([
            "rtsp://127.0.0.1:1/cam",
            "--user",
            "viewer",
            "--password-stdin",
            "--json",
            "--max-reconnect-attempts",
            "1",
        ])
        .env("RUST_LOG", "rtsp_stream=debug")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    use std::io::Write;
    child
        .stdin
        .take()
        .unwrap()
        .write_all(b"Pw-On-Stdin-2\n")
        .unwrap();
    let out = child.wait_with_output().unwrap();
    let (stdout, stderr) = text(&out);
    assert!(stdout.contains("gave_up"), "{stdout}\n{stderr}");
    assert!(!stdout.contains("Pw-On-Stdin-2") && !stderr.contains("Pw-On-Stdin-2"));
}

/// A camera that answers with line breaks and escape sequences in its text: `watch` prints
/// them escaped, so the camera cannot start a line of its own or recolour the terminal.
#[test]
fn watch_escapes_what_a_camera_says() {
    use rtsp_stream_testkit::{HostilePeer, Hostility};
    let forged = "\r\n[ERROR rtsp_stream] forged \u{1b}[31m";
    let peer = HostilePeer::start(vec![Hostility::Session {
        sdp: format!(
            "v=0\r\ns={forged}\r\nm=video 0 RTP/AVP 96\r\na=rtpmap:96 X{forged}/90000\r\n"
        ),
        setup_status: 200,
    }])
    .unwrap();
    let out = run_with_env(
        "watch",
        &[&peer.url(), "--quiet", "--max-reconnect-attempts", "1"],
        &[("RUST_LOG", "rtsp_stream=debug")],
        LIMIT,
    );
    let (stdout, stderr) = text(&out);
    for (name, text) in [("stdout", &stdout), ("stderr", &stderr)] {
        assert!(
            !text.contains('\u{1b}'),
            "an escape sequence on {name}:\n{text}"
        );
        assert!(
            !text
                .lines()
                .any(|l| l.starts_with("[ERROR rtsp_stream] forged")),
            "a line of the camera's on {name}:\n{text}"
        );
        // A decoder library's error of several lines stays on one too.
        assert!(
            !text
                .lines()
                .any(|l| l.starts_with("conn:") || l.starts_with("msg:")),
            "an error over several lines on {name}:\n{text}"
        );
    }
}

/// `watch --metrics`: scraped twice over HTTP while frames flow, the counters grow, each lies
/// between the `frames` of the JSON stats lines printed just before and just after the scrape
/// (the same `stats()`), the camera's key is escaped as a label value, and neither the URL nor
/// its password appears.
#[test]
fn watch_serves_metrics_that_grow_and_match_its_stats() {
    use std::io::BufRead;
    use std::sync::{Arc, Mutex};
    let _serial = serial();
    let server = rtsp_stream_testkit::TestServer::start(rtsp_stream_testkit::ServerOptions {
        fps: 15,
        ..Default::default()
    })
    .expect("the test server");
    let url = server
        .url()
        .replacen("rtsp://", "rtsp://viewer:Metric-Pass-9@", 1);
    let name = "door \"1\"\\\nx";
    let mut child = Command::new(example("watch"))
        .args(["--name", name, &url, "--json", "--duration", "20"])
        .args(["--metrics", "127.0.0.1:0"])
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    // Every stats line's `frames`, in order, and stderr as it comes.
    let frames: Arc<Mutex<Vec<u64>>> = Arc::default();
    let stderr: Arc<Mutex<String>> = Arc::default();
    let out = std::io::BufReader::new(child.stdout.take().unwrap());
    let seen = Arc::clone(&frames);
    let reader = std::thread::spawn(move || {
        let mut all = String::new();
        for line in out.lines().map_while(Result::ok) {
            let v = check_schema(&line);
            if v["event"] == "stats" {
                seen.lock().unwrap().push(v["frames"].as_u64().unwrap());
            }
            all.push_str(&line);
            all.push('\n');
        }
        all
    });
    let err = std::io::BufReader::new(child.stderr.take().unwrap());
    let said = Arc::clone(&stderr);
    std::thread::spawn(move || {
        for line in err.lines().map_while(Result::ok) {
            said.lock().unwrap().push_str(&format!("{line}\n"));
        }
    });
    let wait = |what: &str, mut done: Box<dyn FnMut() -> bool + '_>| {
        let until = Instant::now() + Duration::from_secs(15);
        while !done() {
            assert!(
                Instant::now() < until,
                "{what}; stderr:\n{}",
                stderr.lock().unwrap()
            );
            std::thread::sleep(Duration::from_millis(20));
        }
    };
    wait(
        "no metrics address",
        Box::new(|| stderr.lock().unwrap().contains("/metrics")),
    );
    let address = stderr
        .lock()
        .unwrap()
        .lines()
        .find_map(|l| l.strip_prefix("watch: metrics at "))
        .expect("the metrics address")
        .to_owned();
    wait(
        "no frame",
        Box::new(|| frames.lock().unwrap().last().is_some_and(|&n| n > 0)),
    );
    let label = r#"camera="door \"1\"\\\nx""#;
    let mut scraped = Vec::new();
    for _ in 0..2 {
        let before = *frames.lock().unwrap().last().unwrap();
        let lines_before = frames.lock().unwrap().len();
        let body = ureq::get(&address)
            .timeout(Duration::from_secs(5))
            .call()
            .expect("a scrape")
            .into_string()
            .unwrap();
        wait(
            "no stats line after the scrape",
            Box::new(|| frames.lock().unwrap().len() > lines_before),
        );
        let after = frames.lock().unwrap()[lines_before];
        let delivered = body
            .lines()
            .find_map(|l| {
                l.strip_prefix(&format!("rtsp_stream_frames_delivered_total{{{label}}} "))
            })
            .unwrap_or_else(|| panic!("no frames_delivered_total for the camera:\n{body}"))
            .parse::<u64>()
            .unwrap();
        assert!(
            (before..=after).contains(&delivered),
            "{delivered} frames scraped, {before} before and {after} after in the stats lines"
        );
        let line = format!("rtsp_stream_state{{{label},state=\"streaming\"}} 1.0");
        assert!(body.lines().any(|l| l == line), "no `{line}`:\n{body}");
        for secret in ["Metric-Pass-9", "viewer", "rtsp://", &server.url()] {
            assert!(!body.contains(secret), "{secret} in the metrics:\n{body}");
        }
        scraped.push(delivered);
        std::thread::sleep(Duration::from_secs(2));
    }
    assert!(
        scraped[1] > scraped[0],
        "the counter did not grow: {scraped:?}"
    );
    let _ = child.kill();
    let _ = child.wait();
    let stdout = reader.join().unwrap();
    assert!(!stdout.contains("Metric-Pass-9"), "{stdout}");
}
