//! Command-line options of `watch`.

use rtsp_stream::{PixelFormat, Transport};
use std::path::PathBuf;
use std::time::Duration;

pub const USAGE: &str = "\
usage: watch [URL...] [options]

Without a URL, an RTSP server is started in-process (640x480, 30 fps, H.264); a few seconds in
it is stopped and started again, so that a drop and the reconnection can be seen. With several
URLs, every camera is read at once (one group): one status line per camera, and its name on
every line.

  --name NAME                  the next camera's name (repeat once per URL; default cam0, cam1…)
  --backend NAME               decoder: any compiled-in backend (default: automatic)
  --transport tcp|udp          RTSP transport (default: TCP, falling back to UDP)
  --pixel-format bgr|rgb|gray  pixel format of the frames (default: bgr)
  --reconnect-delay SECS       first wait between attempts (default 1)
  --reconnect-backoff F        multiplier of the wait after each failure (default 1)
  --max-reconnect-delay SECS   cap on the wait (default 30)
  --max-reconnect-attempts N   consecutive failures before giving up (default: never)
  --open-timeout SECS          deadline for opening (default 10)
  --stall-timeout SECS         no frame for this long = the feed dropped (default 5)
  --duration SECS              exit after this long
  --frames N                   exit after N frames
  --snapshot FILE.png          write the newest frame as PNG on exit (several cameras:
                               FILE-NAME.png each)
  --snapshot-every SECS        ... and every SECS seconds
  --json                       one JSON object per line on stdout, nothing else
  --user NAME                  user name (also RTSP_STREAM_USER)
  --password-stdin             read the password from the first line of standard input
                               (or set RTSP_STREAM_PASSWORD); never on the command line, where
                               every user of the machine can read it
  --quiet                      no status line, events only
  --metrics [HOST:PORT]        serve every camera's statistics at http://HOST:PORT/metrics in
                               the Prometheus text format (default 127.0.0.1:9898; built with
                               the `metrics` feature)
";

#[derive(Debug, Default)]
pub struct Options {
    pub urls: Vec<String>,
    pub names: Vec<String>,
    pub backend: Option<String>,
    pub transport: Option<Transport>,
    pub pixel_format: Option<PixelFormat>,
    pub reconnect_delay: Option<Duration>,
    pub reconnect_backoff: Option<f64>,
    pub max_reconnect_delay: Option<Duration>,
    pub max_reconnect_attempts: Option<u32>,
    pub open_timeout: Option<Duration>,
    pub stall_timeout: Option<Duration>,
    pub duration: Option<Duration>,
    pub frames: Option<u64>,
    pub snapshot: Option<PathBuf>,
    pub snapshot_every: Option<Duration>,
    pub json: bool,
    pub user: Option<String>,
    pub password: Option<String>,
    pub quiet: bool,
    pub metrics: Option<String>,
}

impl Options {
    pub fn parse(args: impl IntoIterator<Item = String>) -> Result<Options, String> {
        let mut o = Options {
            user: std::env::var("RTSP_STREAM_USER").ok(),
            password: std::env::var("RTSP_STREAM_PASSWORD").ok(),
            ..Options::default()
        };
        let mut args = args.into_iter().peekable();
        while let Some(arg) = args.next() {
            if arg == "--metrics" {
                // An address is HOST:PORT; a URL or a file that follows is a camera.
                let addr =
                    args.next_if(|a| !a.starts_with('-') && !a.contains("://") && a.contains(':'));
                o.metrics = Some(addr.unwrap_or_else(|| crate::metrics::DEFAULT_ADDR.into()));
                continue;
            }
            let mut value = || args.next().ok_or_else(|| format!("{arg} needs a value"));
            match arg.as_str() {
                "--backend" => o.backend = Some(value()?),
                "--name" => o.names.push(value()?),
                "--transport" => o.transport = Some(value()?.parse().map_err(|e| format!("{e}"))?),
                "--pixel-format" => {
                    o.pixel_format = Some(match value()?.as_str() {
                        "bgr" | "bgr8" => PixelFormat::Bgr8,
                        "rgb" | "rgb8" => PixelFormat::Rgb8,
                        "gray" | "gray8" | "grey" => PixelFormat::Gray8,
                        other => return Err(format!("unknown pixel format {other:?}")),
                    })
                }
                "--reconnect-delay" => o.reconnect_delay = Some(seconds(&value()?)?),
                "--reconnect-backoff" => o.reconnect_backoff = Some(number(&value()?)?),
                "--max-reconnect-delay" => o.max_reconnect_delay = Some(seconds(&value()?)?),
                "--max-reconnect-attempts" => {
                    o.max_reconnect_attempts = Some(number::<u32>(&value()?)?)
                }
                "--open-timeout" => o.open_timeout = Some(seconds(&value()?)?),
                "--stall-timeout" => o.stall_timeout = Some(seconds(&value()?)?),
                "--duration" => o.duration = Some(seconds(&value()?)?),
                "--frames" => o.frames = Some(number(&value()?)?),
                "--snapshot" => o.snapshot = Some(value()?.into()),
                "--snapshot-every" => o.snapshot_every = Some(seconds(&value()?)?),
                "--json" => o.json = true,
                "--user" => o.user = Some(value()?),
                "--password" => {
                    return Err("--password would put the password where every user of the \
                                machine can read it (the command line): set \
                                RTSP_STREAM_PASSWORD, or pass --password-stdin and write it \
                                to standard input"
                        .into());
                }
                "--password-stdin" => o.password = Some(read_password(std::io::stdin().lock())?),
                "--quiet" => o.quiet = true,
                "-h" | "--help" => return Err(String::new()),
                flag if flag.starts_with("--") => return Err(format!("unknown option {flag}")),
                url => o.urls.push(url.to_owned()),
            }
        }
        if o.names.len() > o.urls.len().max(1) {
            return Err("more --name than cameras".into());
        }
        if let Some(name) = o
            .names
            .iter()
            .find(|n| n.contains("://") || n.contains('@'))
        {
            return Err(format!(
                "a camera name is printed as given and must not be a URL: {}",
                rtsp_stream::redact_text(name)
            ));
        }
        if o.snapshot_every.is_some() && o.snapshot.is_none() {
            return Err("--snapshot-every needs --snapshot FILE.png".into());
        }
        Ok(o)
    }

    /// Each camera's name: the one given, else `cam<i>`.
    pub fn name(&self, index: usize) -> String {
        self.names
            .get(index)
            .cloned()
            .unwrap_or_else(|| format!("cam{index}"))
    }
}

fn number<T: std::str::FromStr>(s: &str) -> Result<T, String> {
    s.parse().map_err(|_| format!("not a number: {s:?}"))
}

fn seconds(s: &str) -> Result<Duration, String> {
    let v: f64 = number(s)?;
    Duration::try_from_secs_f64(v).map_err(|_| format!("not a duration in seconds: {s:?}"))
}

/// The password from the first line of `input` (without its line ending).
fn read_password(mut input: impl std::io::BufRead) -> Result<String, String> {
    let mut line = String::new();
    input
        .read_line(&mut line)
        .map_err(|e| format!("reading the password from standard input: {e}"))?;
    let password = line.trim_end_matches(['\r', '\n']);
    if password.is_empty() {
        return Err("--password-stdin: standard input held no password".into());
    }
    Ok(password.to_owned())
}
