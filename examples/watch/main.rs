//! `watch`: look at cameras through this library — live status, events, JSON lines for
//! scripts, PNG snapshots. Without a URL it serves a demo stream itself and drops it once.
//!
//! ```sh
//! cargo run --release --example watch --features ffmpeg,gstreamer,image -- rtsp://camera/stream
//! cargo run --release --example watch --features retina,image -- \
//!     --name door rtsp://cam1/stream --name yard rtsp://cam2/stream
//! cargo run --release --example watch --features gstreamer,image -- --json --duration 10
//! ```

#[cfg(feature = "metrics")]
mod metrics;
#[cfg(not(feature = "metrics"))]
mod metrics {
    pub const DEFAULT_ADDR: &str = "127.0.0.1:9898";
}
mod options;
mod output;

use options::{Options, USAGE};
use output::Printer;
use rtsp_stream::{
    AnyBackend, AnyConfig, Event, State, StreamGroup, VideoStream, VideoStreamBuilder,
};
use rtsp_stream_testkit::demo::write_atomically;
use std::collections::HashSet;
use std::io::IsTerminal;
use std::path::Path;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, mpsc};
use std::time::{Duration, Instant};

/// How long the demo stream runs before it is dropped, and stays down.
const DEMO_DROP_AFTER: Duration = Duration::from_secs(3);
const DEMO_DOWN_FOR: Duration = Duration::from_secs(1);

fn main() {
    // Panic messages lose every secret of every live stream before they are printed.
    rtsp_stream::install_scrubbing_panic_hook();
    // The library's log lines (and decoders' routed ones) on stderr, so stdout stays clean
    // JSON: warnings by default, `RUST_LOG=rtsp_stream=info` (or any filter) for more.
    env_logger::Builder::from_env(env_logger::Env::default().default_filter_or("warn"))
        .target(env_logger::Target::Stderr)
        .init();
    let options = match Options::parse(std::env::args().skip(1)) {
        Ok(o) => o,
        Err(problem) => {
            if !problem.is_empty() {
                eprintln!("watch: {problem}");
            }
            eprint!("{USAGE}");
            std::process::exit(2);
        }
    };
    for url in &options.urls {
        let source = rtsp_stream::SourceUrl::new(url.as_str());
        if source
            .credentials()
            .is_some_and(|c| !c.password.expose().is_empty())
        {
            log::warn!(
                "the password inside {source} is on the command line, where every user of the \
                 machine can read it: pass the URL without it, with --user and \
                 RTSP_STREAM_PASSWORD or --password-stdin"
            );
        }
    }
    std::process::exit(run(options));
}

fn run(options: Options) -> i32 {
    let interrupted = Arc::new(AtomicBool::new(false));
    {
        let interrupted = interrupted.clone();
        let _ = ctrlc::set_handler(move || interrupted.store(true, Ordering::SeqCst));
    }
    let mut printer =
        Printer::new(!options.json && !options.quiet && std::io::stdout().is_terminal());
    // The demo: our own RTSP server, dropped once a few seconds in.
    let demo = options
        .urls
        .is_empty()
        .then(rtsp_stream_testkit::demo::demo_server);
    let urls = match &demo {
        Some(server) => vec![server.url()],
        None => options.urls.clone(),
    };
    let config = match &options.backend {
        Some(name) => AnyConfig::by_name(name),
        None => AnyConfig::from_env(),
    };
    let config = match config {
        Ok(c) => c,
        Err(e) => {
            eprintln!("watch: {e}");
            return 2;
        }
    };
    let (tx, events) = mpsc::channel::<(String, Event)>();
    let cameras = Arc::new(
        StreamGroup::<String, AnyBackend>::builder()
            .on_event(move |name, event| {
                let _ = tx.send((name.clone(), event.clone()));
            })
            .build(),
    );
    if let Some(addr) = &options.metrics {
        #[cfg(feature = "metrics")]
        match metrics::serve(addr, Arc::clone(&cameras)) {
            Ok(bound) => eprintln!("watch: metrics at http://{bound}/metrics"),
            Err(e) => {
                eprintln!("watch: cannot serve metrics on {addr}: {e}");
                return 2;
            }
        }
        #[cfg(not(feature = "metrics"))]
        {
            eprintln!("watch: --metrics {addr}: built without the `metrics` feature");
            return 2;
        }
    }
    let names: Vec<String> = (0..urls.len()).map(|i| options.name(i)).collect();
    for (name, url) in names.iter().zip(&urls) {
        let builder = camera(&options, url, config.clone());
        if let Err(e) = cameras.add(name.clone(), builder) {
            eprintln!("watch: {name}: {e}");
            return 2;
        }
        if !options.json {
            let stream = cameras.stream(name).expect("just added");
            printer.line(&format!(
                "{}watching {} with {}",
                prefix(&names, name),
                stream.source(),
                stream.backend_name()
            ));
        }
    }

    let started = Instant::now();
    let mut next_stats = started + Duration::from_secs(1);
    let mut next_snapshot = options.snapshot_every.map(|every| started + every);
    let mut demo_dropped_at: Option<Instant> = None;
    let mut demo_restarted = false;
    let mut first_frame_at: Option<Instant> = None;
    let mut ended: HashSet<String> = HashSet::new();
    let mut exit = 0;
    loop {
        if interrupted.load(Ordering::SeqCst) {
            break;
        }
        if options.duration.is_some_and(|d| started.elapsed() >= d) {
            break;
        }
        if options.frames.is_some_and(|n| {
            cameras
                .stats()
                .cameras
                .iter()
                .all(|(_, s)| s.frames_decoded >= n)
        }) {
            break;
        }
        // The demo's drop: stop the server once, start it again a moment later.
        if let Some(server) = &demo {
            if demo_dropped_at.is_none()
                && first_frame_at.is_some_and(|t| t.elapsed() >= DEMO_DROP_AFTER)
            {
                server.stop();
                demo_dropped_at = Some(Instant::now());
            }
            if !demo_restarted && demo_dropped_at.is_some_and(|t| t.elapsed() >= DEMO_DOWN_FOR) {
                if let Err(e) = server.restart() {
                    eprintln!("watch: the demo server did not restart: {e}");
                }
                demo_restarted = true;
            }
        }
        let wait = next_stats
            .saturating_duration_since(Instant::now())
            .min(Duration::from_millis(100));
        match events.recv_timeout(wait) {
            Ok((name, event)) => {
                if matches!(event, Event::FirstFrame { .. }) && first_frame_at.is_none() {
                    first_frame_at = Some(Instant::now());
                }
                let backend = cameras.stream(&name).map_or("", |s| s.backend_name());
                if options.json {
                    if let Some(j) = output::event_json(&event, backend) {
                        printer.line(&output::with_camera(j, &name).to_string());
                    }
                } else if let Some(text) = output::event_text(&event) {
                    printer.line(&format!("{}{text}", prefix(&names, &name)));
                }
                match &event {
                    Event::GaveUp { error } => {
                        eprintln!("watch: {}gave up: {error}", prefix(&names, &name));
                        exit = 1;
                        ended.insert(name);
                    }
                    Event::EndOfStream => {
                        ended.insert(name);
                    }
                    _ => {}
                }
                if ended.len() == names.len() {
                    break;
                }
            }
            Err(mpsc::RecvTimeoutError::Timeout) => {}
            Err(mpsc::RecvTimeoutError::Disconnected) => break,
        }
        let now = Instant::now();
        if now >= next_stats {
            next_stats += Duration::from_secs(1);
            let mut lines = Vec::new();
            for (name, stats) in cameras.stats().cameras {
                let Some(stream) = cameras.stream(&name) else {
                    continue;
                };
                let size = (stream.frame_width(), stream.frame_height());
                let newest = stream.read();
                let age = newest.as_ref().map(|f| f.received_instant().elapsed());
                if options.json {
                    let camera_time = newest.and_then(|f| f.camera_time());
                    let line = output::stats_json(&stats, size, age, camera_time);
                    printer.line(&output::with_camera(line, &name).to_string());
                } else {
                    let text = output::status_text(&stats, size, age);
                    lines.push(format!("{}{text}", prefix(&names, &name)));
                }
            }
            if !options.json && !options.quiet {
                printer.status(&lines);
            }
        }
        if let (Some(at), Some(path)) = (next_snapshot, &options.snapshot)
            && now >= at
        {
            next_snapshot = options.snapshot_every.map(|every| at + every);
            save_all(&cameras, &names, path);
        }
    }
    if let Some(path) = &options.snapshot {
        save_all(&cameras, &names, path);
    }
    let t = Instant::now();
    cameras.stop();
    let took = t.elapsed();
    printer.finish();
    if options.json {
        for name in &names {
            printer.line(&output::with_camera(output::stopped_json(took), name).to_string());
        }
    } else {
        printer.line(&format!("stopped in {:.1} ms", took.as_secs_f64() * 1000.0));
    }
    let gave_up = cameras
        .stats()
        .cameras
        .iter()
        .any(|(_, s)| s.state == State::GaveUp);
    if exit == 0 && gave_up {
        exit = 1;
    }
    exit
}

/// One camera's builder with the command line's options.
fn camera(options: &Options, url: &str, config: AnyConfig) -> VideoStreamBuilder<AnyBackend> {
    let mut builder = VideoStream::<AnyBackend>::builder_with(url, config);
    if let (Some(user), Some(password)) = (&options.user, &options.password) {
        builder = builder.credentials(user.clone(), password.clone());
    }
    if let Some(v) = options.transport {
        builder = builder.transport(v);
    }
    if let Some(v) = options.pixel_format {
        builder = builder.pixel_format(v);
    }
    if let Some(v) = options.reconnect_delay {
        builder = builder.reconnect_delay(v);
    }
    if let Some(v) = options.reconnect_backoff {
        builder = builder.reconnect_backoff(v);
    }
    if let Some(v) = options.max_reconnect_delay {
        builder = builder.max_reconnect_delay(v);
    }
    if let Some(v) = options.max_reconnect_attempts {
        builder = builder.max_reconnect_attempts(v);
    }
    if let Some(v) = options.open_timeout {
        builder = builder.open_timeout(v);
    }
    if let Some(v) = options.stall_timeout {
        builder = builder.stall_timeout(v);
    }
    builder
}

/// `"[name] "` before a camera's lines when there are several, nothing for one.
fn prefix(names: &[String], name: &str) -> String {
    match names.len() {
        1 => String::new(),
        _ => format!("[{name}] "),
    }
}

fn save_all(cameras: &StreamGroup<String, AnyBackend>, names: &[String], path: &Path) {
    for name in names {
        let path = match names.len() {
            1 => path.to_path_buf(),
            _ => {
                let stem = path.file_stem().unwrap_or_default().to_string_lossy();
                path.with_file_name(format!("{stem}-{name}.png"))
            }
        };
        match cameras.read(name) {
            Some(frame) => {
                if let Err(e) =
                    write_atomically(&path, |p| frame.save(p).map_err(|e| e.to_string()))
                {
                    eprintln!("watch: {name}: snapshot not written: {e}");
                }
            }
            None => eprintln!("watch: {name}: no frame to snapshot yet"),
        }
    }
}
