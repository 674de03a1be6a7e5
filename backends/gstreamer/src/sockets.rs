//! Ending an RTSP open that rtspsrc cannot interrupt.
//!
//! While rtspsrc reads an answer during its open, cancelling it does not stop the read as long
//! as bytes keep coming (its connection reads byte by byte and only checks for cancellation
//! when it would wait): a peer that answers one byte a second, or with a header line of
//! megabytes, holds rtspsrc's thread — and the pipeline on its way to NULL, and the capture
//! thread with it — for as long as it likes. Measured: every such attempt left two threads and
//! three descriptors behind for the peer's pleasure.
//!
//! So the connection is ended from outside: before the open, the process's sockets are noted;
//! when the open is abandoned, the one new TCP connection to the source's port is shut down,
//! and rtspsrc's read ends at once. Linux only (it reads `/proc`); if the connection cannot be
//! told apart (another stream of the process opened one to the same port meanwhile), nothing
//! is shut and the thread waits for the peer as before.

use std::collections::HashSet;

/// The sockets of this process before an open.
#[derive(Debug, Default)]
pub(crate) struct OpenWatch {
    before: HashSet<u64>,
    port: u16,
}

impl OpenWatch {
    /// Notes the sockets open now, for an open of a source on `port`.
    pub(crate) fn start(port: u16) -> Self {
        OpenWatch {
            before: socket_fds().into_iter().map(|(_, inode)| inode).collect(),
            port,
        }
    }

    /// Shuts down the connection to the watched port that appeared since [`start`], if there
    /// is exactly one. Returns whether it did.
    pub(crate) fn abandon(&self) -> bool {
        let candidates: Vec<(i32, u64)> = socket_fds()
            .into_iter()
            .filter(|(_, inode)| !self.before.contains(inode))
            .filter(|(_, inode)| remote_port(*inode) == Some(self.port))
            .collect();
        let [(fd, inode)] = candidates.as_slice() else {
            return false;
        };
        shutdown_if_same(*fd, *inode)
    }
}

/// (descriptor, socket inode) of every socket of this process.
fn socket_fds() -> Vec<(i32, u64)> {
    let Ok(dir) = std::fs::read_dir("/proc/self/fd") else {
        return Vec::new();
    };
    dir.filter_map(Result::ok)
        .filter_map(|entry| {
            let fd = entry.file_name().to_str()?.parse::<i32>().ok()?;
            let target = std::fs::read_link(entry.path()).ok()?;
            let inode = target
                .to_str()?
                .strip_prefix("socket:[")?
                .strip_suffix(']')?
                .parse::<u64>()
                .ok()?;
            Some((fd, inode))
        })
        .collect()
}

/// The remote port of the TCP connection with socket `inode`, from `/proc/self/net/tcp{,6}`.
fn remote_port(inode: u64) -> Option<u16> {
    ["/proc/self/net/tcp", "/proc/self/net/tcp6"]
        .iter()
        .filter_map(|path| std::fs::read_to_string(path).ok())
        .flat_map(|table| table.lines().skip(1).map(str::to_owned).collect::<Vec<_>>())
        .find_map(|line| {
            let fields: Vec<&str> = line.split_whitespace().collect();
            // sl local rem st tx:rx tr:when retrnsmt uid timeout inode …
            let this = fields.get(9)?.parse::<u64>().ok()?;
            let port = fields.get(2)?.rsplit_once(':')?.1;
            (this == inode).then(|| u16::from_str_radix(port, 16).ok())?
        })
}

/// Shuts down `fd` in both directions if it is still socket `inode` (not closed and reused
/// meanwhile).
fn shutdown_if_same(fd: i32, inode: u64) -> bool {
    let mut stat = std::mem::MaybeUninit::<libc::stat>::uninit();
    // SAFETY: fstat writes a `stat` for any descriptor number, or fails (for a closed one)
    // without writing; the result is read only when it succeeded.
    let same =
        unsafe { libc::fstat(fd, stat.as_mut_ptr()) == 0 && stat.assume_init().st_ino == inode };
    // SAFETY: shutdown takes any descriptor number and does not close or free it; it is
    // called only on the socket found above.
    same && unsafe { libc::shutdown(fd, libc::SHUT_RDWR) } == 0
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Read;
    use std::net::{TcpListener, TcpStream};

    #[test]
    fn the_new_connection_to_the_port_is_shut_down_and_its_reader_ends() {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let port = listener.local_addr().unwrap().port();
        let watch = OpenWatch::start(port);
        let mut client = TcpStream::connect(("127.0.0.1", port)).unwrap();
        let (_server_side, _) = listener.accept().unwrap();
        let reader = std::thread::spawn(move || {
            let mut buf = [0u8; 16];
            client.read(&mut buf)
        });
        assert!(watch.abandon(), "the connection was not found");
        let read = reader.join().unwrap();
        assert!(matches!(read, Ok(0)), "{read:?}");
    }
}
