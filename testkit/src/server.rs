//! A real RTSP server on loopback: gst-rtsp-server fed by a generated, time-stamped picture.

use crate::TestkitError;
use crate::pattern::{draw_i420, stamp_micros_now};
use gstreamer as gst;
use gstreamer::glib;
use gstreamer::prelude::*;
use gstreamer_app as gst_app;
use gstreamer_rtsp_server as rtsp_server;
use gstreamer_rtsp_server::prelude::*;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, PoisonError, mpsc};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

/// What the server encodes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Codec {
    /// H.264 (x264, zero-latency tuning, no B-frames).
    H264,
    /// H.265 (x265, zero-latency tuning).
    H265,
    /// Motion JPEG.
    Mjpeg,
}

/// The H.264 profile the server encodes (x264), for decoders that support only some.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum H264Profile {
    /// Constrained Baseline: CAVLC, no B-frames (what most cameras send). The default.
    #[default]
    ConstrainedBaseline,
    /// Main: CABAC, no B-frames.
    Main,
    /// High: CABAC and the 8×8 transform, no B-frames.
    High,
    /// High with two B-frames between references (pictures arrive out of display order).
    HighBFrames,
}

impl H264Profile {
    /// Every profile, in the order above.
    pub const ALL: [H264Profile; 4] = [
        H264Profile::ConstrainedBaseline,
        H264Profile::Main,
        H264Profile::High,
        H264Profile::HighBFrames,
    ];

    /// The name used in arguments and reports.
    pub fn name(self) -> &'static str {
        match self {
            H264Profile::ConstrainedBaseline => "constrained-baseline",
            H264Profile::Main => "main",
            H264Profile::High => "high",
            H264Profile::HighBFrames => "high-bframes",
        }
    }

    fn from_name(name: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|p| p.name() == name)
    }

    /// The x264enc settings and caps of the profile.
    fn encoder(self) -> (&'static str, &'static str) {
        match self {
            H264Profile::ConstrainedBaseline => ("bframes=0", "constrained-baseline"),
            H264Profile::Main => ("bframes=0 cabac=true dct8x8=false", "main"),
            H264Profile::High => ("bframes=0 cabac=true dct8x8=true", "high"),
            H264Profile::HighBFrames => ("bframes=2 b-adapt=false cabac=true dct8x8=true", "high"),
        }
    }
}

/// The colour matrix the server declares and encodes its pictures with (limited range).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Colorimetry {
    /// ITU-R BT.601 (the default).
    #[default]
    Bt601,
    /// ITU-R BT.709.
    Bt709,
}

impl Colorimetry {
    /// The name in GStreamer caps.
    fn caps_name(self) -> &'static str {
        match self {
            Colorimetry::Bt601 => "bt601",
            Colorimetry::Bt709 => "bt709",
        }
    }
}

/// How the test server is set up.
#[derive(Debug, Clone)]
pub struct ServerOptions {
    /// TCP port on 127.0.0.1; 0 picks a free one (kept across restarts).
    pub port: u16,
    /// Mount path, e.g. `/test`.
    pub mount: String,
    /// Picture width (even).
    pub width: u32,
    /// Picture height (even).
    pub height: u32,
    /// Frames per second.
    pub fps: u32,
    /// Key frame interval in frames.
    pub key_interval: u32,
    /// Codec.
    pub codec: Codec,
    /// User name and password the server requires (RTSP basic auth), if any.
    pub credentials: Option<(String, String)>,
    /// Ask for the credentials with Digest authentication instead of Basic.
    pub digest: bool,
    /// The H.264 profile (for [`Codec::H264`]).
    pub profile: H264Profile,
    /// The colour matrix declared and used (default BT.601).
    pub colorimetry: Colorimetry,
    /// Refuse TCP transport with `461 Unsupported Transport`, as some cameras do.
    pub udp_only: bool,
    /// Mounts served, each its own encode of the same picture (default 1): `mount`, then
    /// `mount` followed by 1, 2 … (`/test`, `/test1` …); see [`TestServer::mount_url`].
    pub mounts: u32,
}

impl Default for ServerOptions {
    /// 320×240 H.264 at 15 fps with a key frame every half second, on a free port, at `/test`:
    /// small enough for the conformance suite to hold on two busy cores.
    fn default() -> Self {
        ServerOptions {
            port: 0,
            mount: "/test".into(),
            width: 320,
            height: 240,
            fps: 15,
            key_interval: 8,
            codec: Codec::H264,
            credentials: None,
            digest: false,
            profile: H264Profile::default(),
            colorimetry: Colorimetry::default(),
            udp_only: false,
            mounts: 1,
        }
    }
}

impl ServerOptions {
    fn launch(&self) -> String {
        let caps = format!(
            "video/x-raw,format=I420,width={},height={},framerate={}/1,colorimetry={}",
            self.width,
            self.height,
            self.fps,
            self.colorimetry.caps_name()
        );
        let encode = match self.codec {
            Codec::H264 => {
                let (settings, profile) = self.profile.encoder();
                // zerolatency would switch B-frames off again: its parts are spelt out instead.
                let tune = if self.profile == H264Profile::HighBFrames {
                    "sliced-threads=false rc-lookahead=0 sync-lookahead=0"
                } else {
                    "tune=zerolatency"
                };
                format!(
                    "x264enc {tune} speed-preset=ultrafast key-int-max={} {settings} threads=1 \
                     ! video/x-h264,profile={profile} ! rtph264pay name=pay0 pt=96 config-interval=-1",
                    self.key_interval
                )
            }
            Codec::H265 => format!(
                "x265enc tune=zerolatency speed-preset=ultrafast key-int-max={} \
                 ! rtph265pay name=pay0 pt=96 config-interval=-1",
                self.key_interval
            ),
            Codec::Mjpeg => "jpegenc quality=85 ! rtpjpegpay name=pay0 pt=26".into(),
        };
        format!(
            "( appsrc name=src is-live=true format=time do-timestamp=true max-buffers=2 \
             leaky-type=downstream caps={caps} ! {encode} )"
        )
    }

    /// Encodes the options for a child process.
    fn to_args(&self) -> String {
        let codec = match self.codec {
            Codec::H264 => "h264",
            Codec::H265 => "h265",
            Codec::Mjpeg => "mjpeg",
        };
        let (user, pass) = self.credentials.clone().unwrap_or_default();
        format!(
            "{}|{}|{}|{}|{}|{}|{}|{}|{}|{}|{}|{}|{}|{}",
            self.port,
            self.mount,
            self.width,
            self.height,
            self.fps,
            self.key_interval,
            codec,
            user,
            pass,
            self.udp_only,
            self.digest,
            self.profile.name(),
            self.colorimetry.caps_name(),
            self.mounts
        )
    }

    /// The path of mount `index` (0: `mount` itself).
    pub fn mount_path(&self, index: u32) -> String {
        match index {
            0 => self.mount.clone(),
            i => format!("{}{i}", self.mount),
        }
    }

    fn from_args(s: &str) -> Option<ServerOptions> {
        let p: Vec<&str> = s.split('|').collect();
        if p.len() != 14 {
            return None;
        }
        Some(ServerOptions {
            port: p[0].parse().ok()?,
            mount: p[1].into(),
            width: p[2].parse().ok()?,
            height: p[3].parse().ok()?,
            fps: p[4].parse().ok()?,
            key_interval: p[5].parse().ok()?,
            codec: match p[6] {
                "h265" => Codec::H265,
                "mjpeg" => Codec::Mjpeg,
                _ => Codec::H264,
            },
            credentials: (!p[7].is_empty()).then(|| (p[7].to_owned(), p[8].to_owned())),
            udp_only: p[9] == "true",
            digest: p[10] == "true",
            profile: H264Profile::from_name(p[11])?,
            colorimetry: if p[12] == "bt709" {
                Colorimetry::Bt709
            } else {
                Colorimetry::Bt601
            },
            mounts: p[13].parse().ok()?,
        })
    }
}

/// A running gst-rtsp-server on 127.0.0.1, in this process.
///
/// Clients connecting to [`url`](TestServer::url) share one encoded stream. The server can be
/// stopped (listening socket closed, every client dropped) and started again on the same port,
/// which is what a camera reboot looks like. Dropping it stops it and joins its thread.
pub struct TestServer {
    options: Mutex<ServerOptions>,
    port: u16,
    running: Mutex<Option<Running>>,
}

struct Running {
    context: glib::MainContext,
    main_loop: glib::MainLoop,
    server: rtsp_server::RTSPServer,
    source: Option<glib::SourceId>,
    thread: Option<JoinHandle<()>>,
    feeders_stop: Arc<AtomicBool>,
    /// The picture size the feeders produce now; changed in-session by
    /// [`TestServer::change_resolution_in_session`].
    size: Arc<Mutex<(u32, u32)>>,
}

impl TestServer {
    /// Starts a server with `options`.
    pub fn start(options: ServerOptions) -> Result<TestServer, TestkitError> {
        gst::init()?;
        mute_closed_connection_reads();
        let running = Running::start(&options)?;
        let port = running.server.bound_port() as u16;
        Ok(TestServer {
            options: Mutex::new(ServerOptions { port, ..options }),
            port,
            running: Mutex::new(Some(running)),
        })
    }

    /// The port it listens on.
    pub fn port(&self) -> u16 {
        self.port
    }

    /// `rtsp://127.0.0.1:PORT/MOUNT` (without credentials).
    pub fn url(&self) -> String {
        self.url_via(self.port)
    }

    /// The stream's URL as reached through another port on 127.0.0.1 (a proxy's).
    pub fn url_via(&self, port: u16) -> String {
        format!("rtsp://127.0.0.1:{port}{}", self.lock_options().mount)
    }

    /// The URL of mount `index` (see [`ServerOptions::mounts`]).
    pub fn mount_url(&self, index: u32) -> String {
        let path = self.lock_options().mount_path(index);
        format!("rtsp://127.0.0.1:{}{path}", self.port)
    }

    /// The current options.
    pub fn options(&self) -> ServerOptions {
        self.lock_options().clone()
    }

    fn lock_options(&self) -> std::sync::MutexGuard<'_, ServerOptions> {
        self.options.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// Closes the listening socket and every client connection.
    pub fn stop(&self) {
        if let Some(running) = self
            .running
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .take()
        {
            running.shutdown();
        }
    }

    /// Starts again on the same port with the current options (after [`stop`](Self::stop)).
    pub fn restart(&self) -> Result<(), TestkitError> {
        self.stop();
        let options = self.options();
        // The old socket may linger for a moment; retry the bind briefly.
        let until = Instant::now() + Duration::from_secs(5);
        loop {
            match Running::start(&options) {
                Ok(r) => {
                    *self.running.lock().unwrap_or_else(PoisonError::into_inner) = Some(r);
                    return Ok(());
                }
                Err(e) if Instant::now() >= until => return Err(e),
                Err(_) => std::thread::sleep(Duration::from_millis(20)),
            }
        }
    }

    /// Changes the picture size for new sessions: the server restarts, dropping current
    /// clients, as a camera does when reconfigured.
    pub fn set_resolution(&self, width: u32, height: u32) -> Result<(), TestkitError> {
        {
            let mut o = self.lock_options();
            o.width = width;
            o.height = height;
        }
        self.restart()
    }

    /// Changes the picture size of the running stream without ending its sessions: the
    /// encoder starts again with new parameter sets (a new SPS in the stream), as a camera
    /// whose resolution is changed in its web page does. Later restarts keep the new size.
    pub fn change_resolution_in_session(&self, width: u32, height: u32) {
        {
            let mut o = self.lock_options();
            o.width = width;
            o.height = height;
        }
        if let Some(running) = self
            .running
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .as_ref()
        {
            *running.size.lock().unwrap_or_else(PoisonError::into_inner) = (width, height);
        }
    }

    /// How many RTSP sessions the server holds now (0 when stopped). A client that sends
    /// TEARDOWN removes its session at once; one that just closes its connection leaves it
    /// until the session times out.
    pub fn session_count(&self) -> u32 {
        let running = self.running.lock().unwrap_or_else(PoisonError::into_inner);
        running
            .as_ref()
            .and_then(|r| r.server.session_pool())
            .map_or(0, |pool| pool.n_sessions())
    }

    /// Whether the server is running.
    pub fn is_running(&self) -> bool {
        self.running
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .is_some()
    }
}

impl Drop for TestServer {
    fn drop(&mut self) {
        self.stop();
    }
}

impl Running {
    fn start(options: &ServerOptions) -> Result<Running, TestkitError> {
        let context = glib::MainContext::new();
        let main_loop = glib::MainLoop::new(Some(&context), false);
        let server = rtsp_server::RTSPServer::new();
        server.set_address("127.0.0.1");
        server.set_service(&options.port.to_string());
        let mounts = server
            .mount_points()
            .ok_or_else(|| TestkitError("server has no mount points".into()))?;
        let feeders_stop = Arc::new(AtomicBool::new(false));
        let size = Arc::new(Mutex::new((options.width, options.height)));
        for index in 0..options.mounts.max(1) {
            let factory = media_factory(options, &server, &feeders_stop, &size);
            mounts.add_factory(&options.mount_path(index), factory);
        }

        let source = server.attach(Some(&context))?;
        let thread = {
            let (context, main_loop) = (context.clone(), main_loop.clone());
            std::thread::Builder::new()
                .name("test-server".into())
                .spawn(move || {
                    context
                        .with_thread_default(|| main_loop.run())
                        .expect("own the server's main context");
                })?
        };
        Ok(Running {
            context,
            main_loop,
            server,
            source: Some(source),
            thread: Some(thread),
            feeders_stop,
            size,
        })
    }

    fn shutdown(mut self) {
        let (done_tx, done_rx) = mpsc::channel();
        let server = self.server.clone();
        let source = self.source.take();
        let context = self.context.clone();
        self.context.invoke(move || {
            // The listening source lives in our own context, not the default one that
            // `SourceId::remove` searches.
            if let Some(source) = source.and_then(|id| context.find_source_by_id(&id)) {
                source.destroy();
            }
            server.client_filter(Some(&mut |_, _| rtsp_server::RTSPFilterResult::Remove));
            let _ = done_tx.send(());
        });
        let _ = done_rx.recv_timeout(Duration::from_secs(5));
        self.feeders_stop.store(true, Ordering::Relaxed);
        self.main_loop.quit();
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}

/// One mount's media: the launch line, authentication, and a feeder thread per prepared media.
fn media_factory(
    options: &ServerOptions,
    server: &rtsp_server::RTSPServer,
    feeders_stop: &Arc<AtomicBool>,
    size: &Arc<Mutex<(u32, u32)>>,
) -> rtsp_server::RTSPMediaFactory {
    let factory = rtsp_server::RTSPMediaFactory::new();
    factory.set_launch(&options.launch());
    factory.set_shared(true);
    if options.udp_only {
        factory.set_protocols(gstreamer_rtsp::RTSPLowerTrans::UDP);
    }
    if let Some((user, pass)) = &options.credentials {
        let auth = rtsp_server::RTSPAuth::new();
        let token = rtsp_server::RTSPToken::builder()
            .field(rtsp_server::RTSP_TOKEN_MEDIA_FACTORY_ROLE, "user")
            .build();
        if options.digest {
            auth.set_supported_methods(gstreamer_rtsp::RTSPAuthMethod::Digest);
            auth.add_digest(user, pass, &token);
        } else {
            let basic = rtsp_server::RTSPAuth::make_basic(user, pass);
            auth.add_basic(basic.as_str(), &token);
        }
        server.set_auth(Some(&auth));
        let role = gst::Structure::builder("user")
            .field(rtsp_server::RTSP_PERM_MEDIA_FACTORY_ACCESS, true)
            .field(rtsp_server::RTSP_PERM_MEDIA_FACTORY_CONSTRUCT, true)
            .build();
        factory.add_role_from_structure(&role);
    }
    let fps = options.fps;
    let colorimetry = options.colorimetry;
    let stop_all = Arc::clone(feeders_stop);
    let feed_size = Arc::clone(size);
    factory.connect_media_configure(move |_, media| {
        let Some(bin) = media.element().downcast::<gst::Bin>().ok() else {
            return;
        };
        let Some(src) = bin
            .by_name("src")
            .and_then(|e| e.downcast::<gst_app::AppSrc>().ok())
        else {
            return;
        };
        let stop = Arc::new(AtomicBool::new(false));
        let s = stop.clone();
        media.connect_unprepared(move |_| s.store(true, Ordering::Relaxed));
        let stop_all = stop_all.clone();
        let size = Arc::clone(&feed_size);
        std::thread::Builder::new()
            .name("test-server-feeder".into())
            .spawn(move || feed(src, &size, (fps, colorimetry), &stop, &stop_all))
            .expect("spawn feeder");
    });
    factory
}

/// gst-rtsp-server 1.22 sometimes keeps dispatching the watch of a client connection that
/// was closed under it (seen when an FFmpeg client sends TEARDOWN and closes its socket at
/// once): every dispatch fails a GLib-GIO assertion on the missing stream, up to a million
/// lines on stderr before the client is finalised. Those lines drown the test output, so they
/// are counted and reported once; every other message goes to GLib's default handler.
fn mute_closed_connection_reads() {
    static ONCE: std::sync::Once = std::sync::Once::new();
    static MUTED: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(0);
    ONCE.call_once(|| {
        glib::log_set_handler(
            Some("GLib-GIO"),
            glib::LogLevels::LEVEL_CRITICAL,
            false,
            false,
            |domain, level, message| {
                if message.contains("g_pollable_input_stream_read_nonblocking") {
                    if MUTED.fetch_add(1, Ordering::Relaxed) == 0 {
                        eprintln!(
                            "test server: gst-rtsp-server reads a closed client connection \
                             (an upstream race); further such GLib-GIO criticals are muted"
                        );
                    }
                    return;
                }
                glib::log_default_handler(domain, level, Some(message));
            },
        );
    });
}

/// Pushes time-stamped pictures into the media's appsrc at `fps` until the media goes away,
/// following `size` (new caps on the appsrc when it changes).
fn feed(
    src: gst_app::AppSrc,
    size: &Mutex<(u32, u32)>,
    (fps, colorimetry): (u32, Colorimetry),
    stop: &AtomicBool,
    stop_all: &AtomicBool,
) {
    let period = Duration::from_secs(1) / fps.max(1);
    let mut current = (0, 0);
    let mut template = Vec::new();
    let mut next = Instant::now();
    while !stop.load(Ordering::Relaxed) && !stop_all.load(Ordering::Relaxed) {
        let wanted = *size.lock().unwrap_or_else(PoisonError::into_inner);
        if wanted != current {
            // Also for a new media after an in-session change: its launch line has the size
            // the server started with.
            let (width, height) = wanted;
            let caps = gst::Caps::builder("video/x-raw")
                .field("format", "I420")
                .field("width", width as i32)
                .field("height", height as i32)
                .field("framerate", gst::Fraction::new(fps as i32, 1))
                .field("colorimetry", colorimetry.caps_name())
                .build();
            src.set_caps(Some(&caps));
            template = vec![0u8; (width * height * 3 / 2) as usize];
            draw_i420(
                &mut template,
                width,
                height,
                0,
                colorimetry == Colorimetry::Bt709,
            );
            current = wanted;
        }
        let (width, height) = current;
        let mut buffer = match gst::Buffer::with_size(template.len()) {
            Ok(b) => b,
            Err(_) => return,
        };
        {
            let Some(buf) = buffer.get_mut() else { return };
            let Ok(mut map) = buf.map_writable() else {
                return;
            };
            map.copy_from_slice(&template);
            crate::pattern::draw_stamp_rows(&mut map, width, height, stamp_micros_now());
        }
        // Flushing before the first PLAY and after teardown: keep the pace, try again.
        let _ = src.push_buffer(buffer);
        next += period;
        let now = Instant::now();
        if next > now {
            std::thread::sleep(next - now);
        } else {
            next = now;
        }
    }
}

/// A [`TestServer`] in a child process, so that its encoding does not count against the
/// process being measured. The child is the current executable, re-run with an environment
/// variable that makes [`serve_child_if_requested`](TestServerProcess::serve_child_if_requested)
/// serve instead of doing its normal work. It exits when its standard input closes, so it
/// cannot outlive the parent; dropping this handle kills it.
pub struct TestServerProcess {
    child: crate::child::ServingChild,
    options: ServerOptions,
}

const SERVE_ENV: &str = "RTSP_STREAM_TESTKIT_SERVE";

impl TestServerProcess {
    /// Spawns the current executable with `args` (for a test binary: `--exact NAME` of a test
    /// that calls `serve_child_if_requested` first) as a server with `options`.
    pub fn spawn(options: &ServerOptions, args: &[&str]) -> Result<Self, TestkitError> {
        let child = crate::child::ServingChild::spawn(SERVE_ENV, &options.to_args(), args)?;
        Ok(TestServerProcess {
            child,
            options: options.clone(),
        })
    }

    /// The port the server listens on.
    pub fn port(&self) -> u16 {
        self.child.port()
    }

    /// The process id of the server.
    pub fn pid(&self) -> u32 {
        self.child.pid()
    }

    /// `rtsp://127.0.0.1:PORT/MOUNT`.
    pub fn url(&self) -> String {
        self.mount_url(0)
    }

    /// The URL of mount `index` (see [`ServerOptions::mounts`]).
    pub fn mount_url(&self, index: u32) -> String {
        format!(
            "rtsp://127.0.0.1:{}{}",
            self.port(),
            self.options.mount_path(index)
        )
    }

    /// In the child: if this process was spawned as a server (or as a
    /// [`HostilePeerProcess`](crate::HostilePeerProcess)), serve until standard input closes
    /// and exit; otherwise return at once. Call it first thing.
    pub fn serve_child_if_requested() {
        if let Ok(spec) = std::env::var(SERVE_ENV) {
            let options = ServerOptions::from_args(&spec).expect("valid server options");
            let server = TestServer::start(options).expect("test server starts");
            crate::child::serve_until_stdin_closes(server.port());
        }
        crate::hostile::serve_peer_child_if_requested();
    }
}
