//! The test server as a program, for tests in other languages (the Python package's): prints
//! the stream's URL on its first line of output, then serves until its standard input closes.
//! Lines on standard input control it: `stop` (every client dropped, connections refused),
//! `start` (serving again on the same port), `freeze` / `thaw` (a proxy in front of the
//! server, whose URL is printed on the second line, holds every byte: a frozen camera).
//!
//! ```sh
//! rtsp-test-server [--width W] [--height H] [--fps F] [--user U --password P]
//! ```

use rtsp_stream_testkit::{FaultProxy, ProxyMode, ServerOptions, TestServer};
use std::io::BufRead;

fn main() {
    let mut options = ServerOptions::default();
    let mut args = std::env::args().skip(1);
    let mut user = None;
    let mut password = None;
    while let Some(flag) = args.next() {
        let mut value = || {
            args.next()
                .unwrap_or_else(|| fail(&format!("{flag} needs a value")))
        };
        match flag.as_str() {
            "--width" => options.width = number(&value()),
            "--height" => options.height = number(&value()),
            "--fps" => options.fps = number(&value()),
            "--key-interval" => options.key_interval = number(&value()),
            "--user" => user = Some(value()),
            "--password" => password = Some(value()),
            other => fail(&format!("unknown option {other}")),
        }
    }
    if let (Some(user), Some(password)) = (user, password) {
        options.credentials = Some((user, password));
    }
    let server = TestServer::start(options).unwrap_or_else(|e| fail(&e.to_string()));
    let proxy = FaultProxy::start(([127, 0, 0, 1], server.port()).into())
        .unwrap_or_else(|e| fail(&e.to_string()));
    println!("{}", server.url());
    println!("{}", server.url_via(proxy.port()));
    for line in std::io::stdin().lock().lines() {
        let Ok(line) = line else { break };
        match line.trim() {
            "stop" => server.stop(),
            "start" => {
                if let Err(e) = server.restart() {
                    eprintln!("rtsp-test-server: restart failed: {e}");
                }
            }
            "freeze" => proxy.set_mode(ProxyMode::Blackhole),
            "thaw" => proxy.set_mode(ProxyMode::Pass),
            "quit" => break,
            "" => {}
            other => eprintln!("rtsp-test-server: unknown command {other:?}"),
        }
        println!("ok {}", line.trim());
    }
}

fn number(s: &str) -> u32 {
    s.parse()
        .unwrap_or_else(|_| fail(&format!("not a number: {s}")))
}

fn fail(message: &str) -> ! {
    eprintln!("rtsp-test-server: {message}");
    std::process::exit(2);
}
