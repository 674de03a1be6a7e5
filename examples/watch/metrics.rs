//! `--metrics [ADDR]`: every camera's statistics over HTTP, in the Prometheus text exposition
//! format (`GET /metrics`), labelled by camera name, never by URL.

use rtsp_stream::{AnyBackend, StreamGroup};
use std::io::{BufRead, BufReader, Write};
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::sync::Arc;
use std::time::Duration;

/// Where metrics are served when `--metrics` names no address: this machine only.
pub const DEFAULT_ADDR: &str = "127.0.0.1:9898";

/// Serves `cameras`' metrics on `addr` from a thread of its own; returns the address bound.
pub fn serve(
    addr: &str,
    cameras: Arc<StreamGroup<String, AnyBackend>>,
) -> std::io::Result<SocketAddr> {
    let listener = TcpListener::bind(addr)?;
    let bound = listener.local_addr()?;
    std::thread::Builder::new()
        .name("watch-metrics".into())
        .spawn(move || {
            for client in listener.incoming().flatten() {
                // One scrape at a time: a scraper asks every few seconds.
                let _ = answer(client, &cameras);
            }
        })?;
    Ok(bound)
}

fn answer(client: TcpStream, cameras: &StreamGroup<String, AnyBackend>) -> std::io::Result<()> {
    client.set_read_timeout(Some(Duration::from_secs(2)))?;
    client.set_write_timeout(Some(Duration::from_secs(2)))?;
    let mut reader = BufReader::new(client.try_clone()?);
    let mut request = String::new();
    reader.read_line(&mut request)?;
    // The rest of the head, bounded: nothing in it matters here.
    let mut line = String::new();
    for _ in 0..100 {
        line.clear();
        if reader.read_line(&mut line)? == 0 || line == "\r\n" || line == "\n" {
            break;
        }
    }
    let path = request.split_whitespace().nth(1).unwrap_or("");
    let (status, body) = if request.starts_with("GET ") && path == "/metrics" {
        ("200 OK", cameras.stats().to_prometheus())
    } else {
        ("404 Not Found", "GET /metrics\n".to_owned())
    };
    let mut client = client;
    write!(
        client,
        "HTTP/1.1 {status}\r\nContent-Type: text/plain; version=0.0.4; charset=utf-8\r\n\
         Content-Length: {}\r\nConnection: close\r\n\r\n{body}",
        body.len()
    )?;
    client.flush()
}
