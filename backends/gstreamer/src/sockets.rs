//! Ending an RTSP open that rtspsrc cannot interrupt.
//!
//! While rtspsrc reads an answer during its open, cancelling it does not stop the read as long
//! as bytes keep coming (its connection reads byte by byte and only checks for cancellation
//! when it would wait): a peer that answers one byte a second, or with a header line of
//! megabytes, holds rtspsrc's thread — and the pipeline on its way to NULL, and the capture
//! thread with it — for as long as it likes. Measured: every such attempt left two threads and
//! three descriptors behind for the peer's pleasure.
//!
//! So the connection is ended from outside, and only a connection that is the pipeline's own.
//! GStreamer does not say which socket rtspsrc made, so it is recognised as it appears: while
//! the open is under way, the first TCP connection of the process to the camera's address and
//! port (the address itself, not just the port) that was not there before the open, and that
//! no other open of this backend has claimed, is claimed as the pipeline's — only if it
//! appears alone; when two appear at once, nothing is claimed. A connection that appears
//! after the claim (another camera, a socket of the application) is never a candidate, and
//! at abandonment the claimed socket is shut down only if it is still the same socket. Only
//! for RTSP through rtspsrc (never for HTTP, files or pipelines of the application's own),
//! and Linux only (it reads `/proc`); when no socket could be claimed, nothing is shut and
//! the thread waits for the peer as before.

use std::collections::HashSet;
use std::net::{IpAddr, SocketAddr, ToSocketAddrs};
use std::sync::{Arc, Mutex, OnceLock, PoisonError};

/// Sockets claimed by the opens in progress in this process.
static CLAIMED: Mutex<Vec<u64>> = Mutex::new(Vec::new());

/// The sockets of this process before an RTSP open, and the one it claimed.
#[derive(Debug)]
pub(crate) struct OpenWatch {
    before: HashSet<u64>,
    port: u16,
    /// The camera's addresses: at once for an address, from a lookup on a helper thread for a
    /// name (nothing is claimed before it has answered).
    addresses: Arc<OnceLock<Vec<IpAddr>>>,
    claimed: Option<(i32, u64)>,
    /// Two candidates appeared at once: no claim is made for this open.
    ambiguous: bool,
}

impl OpenWatch {
    /// Notes the sockets open now, for an RTSP open of `host` on `port`. `None` for a port of
    /// 0 or an empty host.
    pub(crate) fn start(host: &str, port: u16) -> Option<Self> {
        if port == 0 || host.is_empty() {
            return None;
        }
        let addresses = Arc::new(OnceLock::new());
        match host.parse::<IpAddr>() {
            Ok(ip) => {
                let _ = addresses.set(vec![ip]);
            }
            Err(_) => {
                let (found, host) = (Arc::clone(&addresses), host.to_owned());
                let _ = std::thread::Builder::new()
                    .name("rs-gst-lookup".into())
                    .spawn(move || {
                        let ips = (host.as_str(), port)
                            .to_socket_addrs()
                            .map(|a| a.map(|a| a.ip()).collect())
                            .unwrap_or_default();
                        let _ = found.set(ips);
                    });
            }
        }
        Some(OpenWatch {
            before: tcp_sockets().into_iter().map(|(_, inode)| inode).collect(),
            port,
            addresses,
            claimed: None,
            ambiguous: false,
        })
    }

    /// Called while the open is under way: claims the pipeline's connection once it appears.
    pub(crate) fn claim(&mut self) {
        if self.claimed.is_some() || self.ambiguous {
            return;
        }
        let Some(addresses) = self.addresses.get() else {
            return;
        };
        let mut claimed = CLAIMED.lock().unwrap_or_else(PoisonError::into_inner);
        let table = connections();
        let candidates: Vec<(i32, u64)> = tcp_sockets()
            .into_iter()
            .filter(|(_, inode)| !self.before.contains(inode) && !claimed.contains(inode))
            .filter(|(_, inode)| {
                table.get(inode).is_some_and(|remote| {
                    remote.port() == self.port && addresses.contains(&remote.ip())
                })
            })
            .collect();
        match candidates.as_slice() {
            [] => {}
            [one] => {
                claimed.push(one.1);
                self.claimed = Some(*one);
            }
            _ => self.ambiguous = true,
        }
    }

    /// Shuts down the claimed connection if it is still open as the same socket. Returns
    /// whether it did.
    pub(crate) fn abandon(&self) -> bool {
        self.claimed
            .is_some_and(|(fd, inode)| shutdown_if_same(fd, inode))
    }
}

impl Drop for OpenWatch {
    fn drop(&mut self) {
        if let Some((_, inode)) = self.claimed {
            CLAIMED
                .lock()
                .unwrap_or_else(PoisonError::into_inner)
                .retain(|&i| i != inode);
        }
    }
}

/// (descriptor, socket inode) of every socket of this process.
fn tcp_sockets() -> Vec<(i32, u64)> {
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

/// The remote address of every TCP connection of this process that is connecting or
/// connected (not listening, not closing), by socket inode, from `/proc/self/net/tcp{,6}`.
fn connections() -> std::collections::HashMap<u64, SocketAddr> {
    let mut out = std::collections::HashMap::new();
    for (path, v6) in [("/proc/self/net/tcp", false), ("/proc/self/net/tcp6", true)] {
        let Ok(table) = std::fs::read_to_string(path) else {
            continue;
        };
        for line in table.lines().skip(1) {
            // sl local rem st tx:rx tr:when retrnsmt uid timeout inode …
            let fields: Vec<&str> = line.split_whitespace().collect();
            let (Some(remote), Some(state), Some(inode)) =
                (fields.get(2), fields.get(3), fields.get(9))
            else {
                continue;
            };
            // 01 ESTABLISHED, 02 SYN_SENT.
            if !matches!(*state, "01" | "02") {
                continue;
            }
            if let (Some(addr), Ok(inode)) = (parse_address(remote, v6), inode.parse::<u64>()) {
                out.insert(inode, addr);
            }
        }
    }
    out
}

/// "0100007F:1F90" (IPv4, bytes in the host's order as the kernel prints them) or the IPv6
/// form of four such words.
fn parse_address(text: &str, v6: bool) -> Option<SocketAddr> {
    let (ip, port) = text.split_once(':')?;
    let port = u16::from_str_radix(port, 16).ok()?;
    let ip = if v6 {
        if ip.len() != 32 {
            return None;
        }
        let mut bytes = [0u8; 16];
        for (i, word) in bytes.chunks_mut(4).enumerate() {
            let w = u32::from_str_radix(ip.get(i * 8..i * 8 + 8)?, 16).ok()?;
            word.copy_from_slice(&w.to_ne_bytes());
        }
        let ip = std::net::Ipv6Addr::from(bytes);
        ip.to_ipv4_mapped().map_or(IpAddr::V6(ip), IpAddr::V4)
    } else {
        let w = u32::from_str_radix(ip, 16).ok()?;
        IpAddr::V4(std::net::Ipv4Addr::from(w.to_ne_bytes()))
    };
    Some(SocketAddr::new(ip, port))
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
    // called only on the socket claimed above.
    same && unsafe { libc::shutdown(fd, libc::SHUT_RDWR) } == 0
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Read;
    use std::net::{TcpListener, TcpStream};
    use std::time::Duration;

    #[test]
    fn addresses_are_read_as_the_kernel_prints_them() {
        assert_eq!(
            parse_address("0100007F:1F90", false),
            Some("127.0.0.1:8080".parse().unwrap())
        );
        assert_eq!(
            parse_address("0000000000000000FFFF00000100007F:0050", true),
            Some("127.0.0.1:80".parse().unwrap())
        );
        assert_eq!(parse_address("zz:1", false), None);
    }

    #[test]
    fn only_the_claimed_connection_is_shut_down() {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let port = listener.local_addr().unwrap().port();
        let mut watch = OpenWatch::start("127.0.0.1", port).unwrap();
        let mut pipeline_side = TcpStream::connect(("127.0.0.1", port)).unwrap();
        let (_a, _) = listener.accept().unwrap();
        watch.claim();
        // Appears after the claim: another camera, or the application's own socket.
        let mut later = TcpStream::connect(("127.0.0.1", port)).unwrap();
        let (_b, _) = listener.accept().unwrap();
        watch.claim();
        let reader = std::thread::spawn(move || {
            let mut buf = [0u8; 16];
            pipeline_side.read(&mut buf)
        });
        assert!(watch.abandon(), "the connection was not claimed");
        assert!(matches!(reader.join().unwrap(), Ok(0)));
        later
            .set_read_timeout(Some(Duration::from_millis(50)))
            .unwrap();
        let mut buf = [0u8; 1];
        let still_open = later.read(&mut buf);
        assert!(
            matches!(&still_open, Err(e) if e.kind() == std::io::ErrorKind::WouldBlock),
            "{still_open:?}"
        );
    }

    #[test]
    fn two_candidates_at_once_claim_nothing() {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let port = listener.local_addr().unwrap().port();
        let mut watch = OpenWatch::start("127.0.0.1", port).unwrap();
        let _one = TcpStream::connect(("127.0.0.1", port)).unwrap();
        let _two = TcpStream::connect(("127.0.0.1", port)).unwrap();
        watch.claim();
        assert!(!watch.abandon());
        assert!(OpenWatch::start("127.0.0.1", 0).is_none());
    }
}
