//! A TCP proxy on loopback whose faults are switched at run time.

use crate::TestkitError;
use std::io::{ErrorKind, Read, Write};
use std::net::{Shutdown, SocketAddr, TcpListener, TcpStream};
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Condvar, Mutex, MutexGuard, PoisonError};
use std::thread::JoinHandle;
use std::time::Duration;

/// What the proxy does with traffic.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ProxyMode {
    /// Forward both ways.
    Pass,
    /// Accept and hold connections, forward nothing, close nothing: a frozen camera or a
    /// pulled cable. Held data flows again when the mode returns to `Pass`.
    Blackhole,
    /// Close the listening socket: new clients get "connection refused" (a listener that
    /// stayed open would look like a blackhole). Existing connections keep passing.
    Refuse,
    /// Forward, holding every chunk back this long first.
    Delay(Duration),
}

/// A TCP proxy from a port on 127.0.0.1 to `upstream`, for fault injection. RTSP over TCP
/// (interleaved) passes through it unchanged. Dropping it closes everything.
pub struct FaultProxy {
    shared: Arc<Shared>,
    accept_thread: Option<JoinHandle<()>>,
}

struct Shared {
    upstream: SocketAddr,
    port: u16,
    mode: Mutex<ProxyMode>,
    mode_changed: Condvar,
    connections: Mutex<Vec<TcpStream>>,
    closing: AtomicBool,
    accepted: AtomicUsize,
}

impl FaultProxy {
    /// A proxy on a free port of 127.0.0.1 to `upstream`, passing.
    pub fn start(upstream: SocketAddr) -> Result<FaultProxy, TestkitError> {
        let listener = TcpListener::bind("127.0.0.1:0")?;
        let port = listener.local_addr()?.port();
        let shared = Arc::new(Shared {
            upstream,
            port,
            mode: Mutex::new(ProxyMode::Pass),
            mode_changed: Condvar::new(),
            connections: Mutex::new(Vec::new()),
            closing: AtomicBool::new(false),
            accepted: AtomicUsize::new(0),
        });
        let s = shared.clone();
        let accept_thread = std::thread::Builder::new()
            .name("fault-proxy".into())
            .spawn(move || accept_loop(&s, listener))?;
        Ok(FaultProxy {
            shared,
            accept_thread: Some(accept_thread),
        })
    }

    /// The proxy's port on 127.0.0.1.
    pub fn port(&self) -> u16 {
        self.shared.port
    }

    /// The current mode.
    pub fn mode(&self) -> ProxyMode {
        *self.shared.lock_mode()
    }

    /// Switches the mode.
    pub fn set_mode(&self, mode: ProxyMode) {
        *self.shared.lock_mode() = mode;
        self.shared.mode_changed.notify_all();
    }

    /// Closes every current connection now (a cable cut or a server crash); new connections
    /// are served according to the mode.
    pub fn cut(&self) {
        for c in self.shared.take_connections() {
            let _ = c.shutdown(Shutdown::Both);
        }
    }

    /// Connections accepted so far.
    pub fn accepted(&self) -> usize {
        self.shared.accepted.load(Ordering::Relaxed)
    }
}

impl Drop for FaultProxy {
    fn drop(&mut self) {
        self.shared.closing.store(true, Ordering::Relaxed);
        self.shared.mode_changed.notify_all();
        self.cut();
        if let Some(t) = self.accept_thread.take() {
            let _ = t.join();
        }
    }
}

impl Shared {
    fn lock_mode(&self) -> MutexGuard<'_, ProxyMode> {
        self.mode.lock().unwrap_or_else(PoisonError::into_inner)
    }

    fn take_connections(&self) -> Vec<TcpStream> {
        std::mem::take(
            &mut *self
                .connections
                .lock()
                .unwrap_or_else(PoisonError::into_inner),
        )
    }

    fn track(&self, stream: &TcpStream) {
        if let Ok(c) = stream.try_clone() {
            self.connections
                .lock()
                .unwrap_or_else(PoisonError::into_inner)
                .push(c);
        }
    }

    /// Blocks while the proxy is blackholed; returns the mode that ended the wait, or `None`
    /// when the proxy closes.
    fn wait_while_blackholed(&self) -> Option<ProxyMode> {
        let mut mode = self.lock_mode();
        loop {
            if self.closing.load(Ordering::Relaxed) {
                return None;
            }
            if *mode != ProxyMode::Blackhole {
                return Some(*mode);
            }
            mode = self
                .mode_changed
                .wait_timeout(mode, Duration::from_millis(100))
                .unwrap_or_else(PoisonError::into_inner)
                .0;
        }
    }
}

fn accept_loop(shared: &Arc<Shared>, listener: TcpListener) {
    let mut listener = Some(listener);
    while !shared.closing.load(Ordering::Relaxed) {
        let refuse = shared.lock_mode().eq(&ProxyMode::Refuse);
        match (&listener, refuse) {
            (Some(_), true) => listener = None, // closing the socket is what refuses
            (None, false) => {
                listener = TcpListener::bind(("127.0.0.1", shared.port)).ok();
            }
            _ => {}
        }
        let Some(l) = &listener else {
            std::thread::sleep(Duration::from_millis(5));
            continue;
        };
        let _ = l.set_nonblocking(true);
        match l.accept() {
            Ok((client, _)) => {
                shared.accepted.fetch_add(1, Ordering::Relaxed);
                let _ = client.set_nonblocking(false);
                shared.track(&client);
                let s = shared.clone();
                let _ = std::thread::Builder::new()
                    .name("fault-proxy-conn".into())
                    .spawn(move || serve(&s, client));
            }
            Err(e) if e.kind() == ErrorKind::WouldBlock => {
                std::thread::sleep(Duration::from_millis(5));
            }
            Err(_) => std::thread::sleep(Duration::from_millis(5)),
        }
    }
}

fn serve(shared: &Arc<Shared>, client: TcpStream) {
    // A blackholed proxy holds new connections without connecting upstream.
    if shared.wait_while_blackholed().is_none() {
        return;
    }
    let Ok(upstream) = TcpStream::connect(shared.upstream) else {
        let _ = client.shutdown(Shutdown::Both);
        return;
    };
    let _ = upstream.set_nodelay(true);
    let _ = client.set_nodelay(true);
    shared.track(&upstream);
    let (Ok(c2), Ok(u2)) = (client.try_clone(), upstream.try_clone()) else {
        return;
    };
    let s = shared.clone();
    let back = std::thread::Builder::new()
        .name("fault-proxy-pump".into())
        .spawn(move || pump(&s, u2, c2));
    pump(shared, client, upstream);
    if let Ok(t) = back {
        let _ = t.join();
    }
}

/// Copies `from` → `to` until either side closes, obeying the mode for every chunk.
fn pump(shared: &Shared, mut from: TcpStream, mut to: TcpStream) {
    let mut buf = vec![0u8; 64 * 1024];
    loop {
        let n = match from.read(&mut buf) {
            Ok(0) | Err(_) => break,
            Ok(n) => n,
        };
        match shared.wait_while_blackholed() {
            None => break,
            Some(ProxyMode::Delay(d)) => std::thread::sleep(d),
            Some(_) => {}
        }
        if to.write_all(&buf[..n]).is_err() {
            break;
        }
    }
    let _ = from.shutdown(Shutdown::Both);
    let _ = to.shutdown(Shutdown::Both);
}
