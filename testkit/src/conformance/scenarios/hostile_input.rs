//! What a hostile camera declares or a TLS server presents: a picture size meant to exhaust
//! memory, a certificate nobody signed.

use super::{PATIENCE, TlsRule, builder};
use crate::camera::{CameraServer, Scenario};
use crate::conformance::helpers::{EventRecorder, serial};
use crate::content::{ContentSpec, baseline_sps};
use rtsp_stream_core::{CaptureBackend, ErrorKind};
use std::io::{BufRead, BufReader};
use std::process::{Child, Command, Stdio};
use std::time::Duration;

const SPS_CHILD: &str = "RTSP_STREAM_CONFORMANCE_SPS_CHILD";

/// A camera whose in-band SPS declares 16000 × 16000 (and no size in its SDP): the stream ends
/// with a permanent `Unsupported` error naming the size, refused before the decoder allocates
/// — checked in a child process whose address space is limited to 2 GiB, where a decoder's
/// allocation for that size would fail with another error (or abort). `before_decoding`:
/// the backend can refuse before its decoder sees the size (OpenCV cannot: it says the size
/// only once it has decoded a picture, so there the child must end cleanly with an error,
/// whatever it is).
pub fn hostile_picture_size_is_refused_before_decoding<B: CaptureBackend>(
    config: &B::Config,
    test_name: &str,
    before_decoding: bool,
) {
    if std::env::var_os(SPS_CHILD).is_some() {
        limit_address_space(2 << 30);
        let server = CameraServer::start(Scenario {
            sps_override: Some(baseline_sps(16000, 16000)),
            start_at_key_frame: true,
            ..Scenario::new(ContentSpec::small())
        })
        .expect("the camera starts");
        let events = EventRecorder::new();
        let stream = builder::<B>(&server.url(), config, &events)
            .max_reconnect_attempts(2)
            .start()
            .expect("the stream starts");
        let error = events.gave_up(PATIENCE);
        println!("SPS-CHILD-ERROR {:?} {}", error.kind(), error.message());
        stream.stop();
        println!("SPS-CHILD-DONE");
        std::process::exit(0);
    }
    let _serial = serial();
    let out = Command::new(std::env::current_exe().expect("the test binary"))
        .args(["--exact", test_name, "--nocapture", "--test-threads=1"])
        .env(SPS_CHILD, "1")
        .output()
        .expect("the child runs");
    let stdout = String::from_utf8_lossy(&out.stdout);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        out.status.success() && stdout.contains("SPS-CHILD-DONE"),
        "the child did not end cleanly ({}):\n{stdout}\n{stderr}",
        out.status
    );
    if before_decoding {
        let line = stdout
            .lines()
            .find(|l| l.contains("SPS-CHILD-ERROR"))
            .unwrap_or_default();
        assert!(
            line.contains("Unsupported") && line.contains("16000×16000"),
            "{line}\n{stderr}"
        );
    }
}

/// Limits this process's address space (Linux); elsewhere nothing.
fn limit_address_space(bytes: u64) {
    #[cfg(target_os = "linux")]
    {
        #[repr(C)]
        struct Rlimit {
            cur: u64,
            max: u64,
        }
        unsafe extern "C" {
            fn setrlimit(resource: i32, limit: *const Rlimit) -> i32;
        }
        const RLIMIT_AS: i32 = 9;
        let limit = Rlimit {
            cur: bytes,
            max: bytes,
        };
        // SAFETY: setrlimit reads the struct it is given, which lives across the call.
        unsafe {
            setrlimit(RLIMIT_AS, &limit);
        }
    }
}

/// A TLS server with a self-signed certificate (`openssl s_server`, which answers HTTP), on
/// 127.0.0.1. Dropping it stops it.
pub struct SelfSignedServer {
    child: Child,
    port: u16,
    _dir: std::path::PathBuf,
}

impl SelfSignedServer {
    /// Makes a key and certificate and starts the server. Needs the `openssl` tool.
    pub fn start() -> Result<SelfSignedServer, crate::TestkitError> {
        let dir = std::env::temp_dir().join(format!("rtsp-stream-tls-{}", std::process::id()));
        std::fs::create_dir_all(&dir)?;
        let (key, cert) = (dir.join("key.pem"), dir.join("cert.pem"));
        let made = Command::new("openssl")
            .args([
                "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "1",
            ])
            .args(["-subj", "/CN=127.0.0.1", "-keyout"])
            .arg(&key)
            .arg("-out")
            .arg(&cert)
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .status()?;
        if !made.success() {
            return Err(crate::TestkitError("openssl made no certificate".into()));
        }
        let port = {
            let probe = std::net::TcpListener::bind("127.0.0.1:0")?;
            probe.local_addr()?.port()
        };
        let mut child = Command::new("openssl")
            .args(["s_server", "-www", "-quiet", "-accept"])
            .arg(port.to_string())
            .arg("-cert")
            .arg(&cert)
            .arg("-key")
            .arg(&key)
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()?;
        // Ready once it accepts.
        let until = std::time::Instant::now() + Duration::from_secs(10);
        while std::net::TcpStream::connect(("127.0.0.1", port)).is_err() {
            if std::time::Instant::now() > until {
                let _ = child.kill();
                return Err(crate::TestkitError("openssl s_server did not start".into()));
            }
            std::thread::sleep(Duration::from_millis(20));
        }
        if let Some(out) = child.stdout.take() {
            std::thread::spawn(move || for _ in BufReader::new(out).lines() {});
        }
        Ok(SelfSignedServer {
            child,
            port,
            _dir: dir,
        })
    }

    /// `scheme://127.0.0.1:PORT/stream`.
    pub fn url(&self, scheme: &str) -> String {
        format!("{scheme}://127.0.0.1:{}/stream", self.port)
    }
}

impl Drop for SelfSignedServer {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
        let _ = std::fs::remove_dir_all(&self._dir);
    }
}

/// A server with a self-signed certificate is never taken for a camera: `https://` and
/// `rtsps://` fail (refused by default where the backend cannot check certificates, with an
/// error naming GStreamer), and `allow_unverified_tls` lets a backend that cannot check
/// connect where it refused.
pub fn self_signed_tls_is_refused<B: CaptureBackend>(config: &B::Config, rule: TlsRule) {
    let _serial = serial();
    let server = SelfSignedServer::start().expect("the TLS server starts");
    for scheme in ["https", "rtsps"] {
        let events = EventRecorder::new();
        let stream = builder::<B>(&server.url(scheme), config, &events)
            .open_timeout(Duration::from_secs(3))
            .max_reconnect_attempts(1)
            .start()
            .expect("the stream starts");
        let error = events.gave_up(PATIENCE);
        assert_eq!(stream.stats().frames_decoded, 0, "{scheme}: a frame");
        let refused_unverifiable = match rule {
            TlsRule::CannotVerify { https } => scheme == "rtsps" || https,
            TlsRule::None => scheme == "rtsps",
            TlsRule::Verifies => false,
        };
        if refused_unverifiable {
            assert_eq!(error.kind(), ErrorKind::Unsupported, "{scheme}: {error}");
            if matches!(rule, TlsRule::CannotVerify { .. }) {
                // The refusal says what to do instead (its hint names a backend that checks).
                assert!(
                    error.message().contains("allow_unverified_tls"),
                    "{scheme}: {error}"
                );
                assert_eq!(events.count("connecting"), 1, "{scheme}: retried");
                // Allowed: it connects (and fails later, the server speaking HTTP), but is
                // not refused for the certificate.
                let events = EventRecorder::new();
                let stream = builder::<B>(&server.url(scheme), config, &events)
                    .open_timeout(Duration::from_secs(3))
                    .allow_unverified_tls(true)
                    .max_reconnect_attempts(1)
                    .start()
                    .expect("the stream starts");
                let error = events.gave_up(PATIENCE);
                assert!(
                    !error
                        .message()
                        .contains("cannot check the server's certificate"),
                    "{scheme} allowed: {error}"
                );
                stream.stop();
            }
        }
        stream.stop();
    }
}
