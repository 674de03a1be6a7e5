//! The smallest RTSP client: enough to take a camera's session and leave it behind, or to
//! count what a camera sends to many clients at once.

use std::io::{Read, Write};
use std::net::TcpStream;
use std::time::Duration;

/// Opens a session on the camera at `port` (DESCRIBE, SETUP over TCP, PLAY) and closes the
/// connection without TEARDOWN, as a client that crashed or lost its network would: the camera
/// keeps the session until it times out.
pub fn leave_a_session(port: u16, path: &str) -> std::io::Result<()> {
    // No TEARDOWN: the connection just goes.
    drop(play_over_tcp(port, path)?);
    Ok(())
}

/// Opens a session on the camera at `port` (DESCRIBE, SETUP over TCP, PLAY) and returns the
/// connection once the PLAY answer is read: what follows is interleaved media.
pub fn play_over_tcp(port: u16, path: &str) -> std::io::Result<TcpStream> {
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
    request(
        &mut stream,
        &format!("PLAY {url} RTSP/1.0\r\nCSeq: 3\r\nSession: {session}\r\n\r\n"),
    )?;
    Ok(stream)
}

/// Reads interleaved media from a playing connection for `window` and counts the RTP packets
/// of channel 0 that end a frame (marker bit set).
pub fn count_frames(stream: &mut TcpStream, window: Duration) -> std::io::Result<u64> {
    let until = std::time::Instant::now() + window;
    let mut frames = 0;
    let mut head = [0u8; 4];
    let mut packet = Vec::new();
    while std::time::Instant::now() < until {
        stream.read_exact(&mut head)?;
        if head[0] != b'$' {
            return Err(std::io::Error::other(format!(
                "not interleaved data: {head:?}"
            )));
        }
        packet.resize(usize::from(u16::from_be_bytes([head[2], head[3]])), 0);
        stream.read_exact(&mut packet)?;
        if head[1] == 0 && packet.get(1).is_some_and(|b| b & 0x80 != 0) {
            frames += 1;
        }
    }
    Ok(frames)
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
