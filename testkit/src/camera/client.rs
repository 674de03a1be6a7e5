//! The smallest RTSP client: enough to take a camera's session and leave it behind.

use std::io::{Read, Write};
use std::net::TcpStream;
use std::time::Duration;

/// Opens a session on the camera at `port` (DESCRIBE, SETUP over TCP, PLAY) and closes the
/// connection without TEARDOWN, as a client that crashed or lost its network would: the camera
/// keeps the session until it times out.
pub fn leave_a_session(port: u16, path: &str) -> std::io::Result<()> {
    let url = format!("rtsp://127.0.0.1:{port}{path}");
    let mut stream = TcpStream::connect(("127.0.0.1", port))?;
    stream.set_read_timeout(Some(Duration::from_secs(5)))?;
    let describe = request(
        &mut stream,
        &format!("DESCRIBE {url} RTSP/1.0\r\nCSeq: 1\r\nAccept: application/sdp\r\n\r\n"),
    )?;
    let control = describe
        .lines()
        .find_map(|l| l.strip_prefix("a=control:"))
        .filter(|c| !c.trim().is_empty() && c.trim() != "*")
        .map(|c| c.trim().to_owned())
        .unwrap_or_else(|| "trackID=0".into());
    let track = if control.starts_with("rtsp://") {
        control
    } else {
        format!("{url}/{control}")
    };
    let setup = request(
        &mut stream,
        &format!(
            "SETUP {track} RTSP/1.0\r\nCSeq: 2\r\nTransport: RTP/AVP/TCP;unicast;interleaved=0-1\r\n\r\n"
        ),
    )?;
    let session = setup
        .lines()
        .find_map(|l| {
            l.strip_prefix("Session:")
                .or_else(|| l.strip_prefix("session:"))
        })
        .map(|s| s.split(';').next().unwrap_or("").trim().to_owned())
        .ok_or_else(|| std::io::Error::other(format!("no session in {setup:?}")))?;
    stream.write_all(
        format!("PLAY {url} RTSP/1.0\r\nCSeq: 3\r\nSession: {session}\r\n\r\n").as_bytes(),
    )?;
    // No TEARDOWN: the connection just goes.
    drop(stream);
    Ok(())
}

/// Sends `text` and reads the answer's head and body (by Content-Length).
fn request(stream: &mut TcpStream, text: &str) -> std::io::Result<String> {
    stream.write_all(text.as_bytes())?;
    let mut got = Vec::new();
    let mut byte = [0u8; 1];
    while !got.ends_with(b"\r\n\r\n") {
        if stream.read(&mut byte)? == 0 {
            return Err(std::io::ErrorKind::UnexpectedEof.into());
        }
        got.push(byte[0]);
    }
    let head = String::from_utf8_lossy(&got).into_owned();
    let length = head
        .lines()
        .find_map(|l| {
            let (name, value) = l.split_once(':')?;
            name.eq_ignore_ascii_case("content-length")
                .then(|| value.trim().parse::<usize>().ok())
                .flatten()
        })
        .unwrap_or(0);
    let mut body = vec![0; length];
    stream.read_exact(&mut body)?;
    Ok(head + &String::from_utf8_lossy(&body))
}
