//! Serves the test picture over RTSP on 127.0.0.1 until Ctrl-C or until standard input closes.
//!
//! `cargo run -p rtsp-stream-testkit --example serve -- [--port N] [--mount /test]
//! [--size WxH] [--fps N] [--codec h264|h265|mjpeg] [--user U --password P] [--udp-only]`

use rtsp_stream_testkit::{Codec, ServerOptions, TestServer};

fn main() {
    let mut options = ServerOptions::default();
    let mut args = std::env::args().skip(1);
    while let Some(arg) = args.next() {
        let mut value = || {
            args.next()
                .unwrap_or_else(|| usage(&format!("{arg} needs a value")))
        };
        match arg.as_str() {
            "--port" => options.port = value().parse().unwrap_or_else(|_| usage("bad port")),
            "--mount" => options.mount = value(),
            "--size" => {
                let v = value();
                let (w, h) = v.split_once('x').unwrap_or_else(|| usage("size is WxH"));
                options.width = w.parse().unwrap_or_else(|_| usage("bad width"));
                options.height = h.parse().unwrap_or_else(|_| usage("bad height"));
            }
            "--fps" => options.fps = value().parse().unwrap_or_else(|_| usage("bad fps")),
            "--key-interval" => {
                options.key_interval = value().parse().unwrap_or_else(|_| usage("bad interval"))
            }
            "--codec" => {
                options.codec = match value().as_str() {
                    "h264" => Codec::H264,
                    "h265" => Codec::H265,
                    "mjpeg" => Codec::Mjpeg,
                    _ => usage("codec is h264, h265 or mjpeg"),
                }
            }
            "--user" => {
                let user = value();
                let pass = options.credentials.take().map(|c| c.1).unwrap_or_default();
                options.credentials = Some((user, pass));
            }
            "--password" => {
                let pass = value();
                let user = options.credentials.take().map(|c| c.0).unwrap_or_default();
                options.credentials = Some((user, pass));
            }
            "--udp-only" => options.udp_only = true,
            "-h" | "--help" => usage(""),
            other => usage(&format!("unknown option {other}")),
        }
    }
    let server = TestServer::start(options).unwrap_or_else(|e| {
        eprintln!("the server did not start: {e}");
        std::process::exit(1)
    });
    println!("serving {}", server.url());
    let mut line = String::new();
    while std::io::stdin().read_line(&mut line).is_ok_and(|n| n > 0) {
        line.clear();
    }
}

fn usage(problem: &str) -> ! {
    if !problem.is_empty() {
        eprintln!("{problem}");
    }
    eprintln!(
        "usage: serve [--port N] [--mount /test] [--size WxH] [--fps N] [--key-interval N] \
         [--codec h264|h265|mjpeg] [--user U --password P] [--udp-only]"
    );
    std::process::exit(2)
}
