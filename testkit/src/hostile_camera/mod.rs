//! A hostile camera: a seeded generator that answers each RTSP request with a random
//! well-framed or malformed response — status lines and reason phrases of arbitrary bytes,
//! malformed and duplicated headers, absurd or missing `Content-Length`, truncated, oversized
//! and contradictory SDPs, interleaved frames with random channels and lengths, RTP with
//! random headers and payloads, silence at any point — and often enough a valid one, so that
//! clients get past each step: DESCRIBE, SETUP, PLAY and a decoded frame.
//!
//! A client puts the run's seed in the URL's path (`/hostile/<seed>`); every connection of
//! that run draws from a generator seeded with it and the connection's number, so a failing
//! seed replays. Answers echo what a careless camera echoes — the request line, the URL with
//! its credentials and secret parameters — so that a client that prints a camera's text
//! unscrubbed shows it. The server counts, per seed, the steps each run reached.

mod answers;
mod runs;

pub use runs::{HostileLimits, HostileReport, hostile_child_if_requested, hostile_runs};

use crate::TestkitError;
use crate::camera::wire::{Incoming, Reader};
use crate::content::{Clip, ContentSpec};
use std::collections::HashMap;
use std::net::{TcpListener, TcpStream};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, PoisonError};
use std::thread::JoinHandle;
use std::time::Duration;

/// The steps of an RTSP session a run reached (the server answered the request validly).
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct Reached {
    /// A DESCRIBE was answered with a usable description.
    pub describe: bool,
    /// A SETUP was accepted.
    pub setup: bool,
    /// A PLAY was accepted and media sent.
    pub play: bool,
}

pub(crate) struct Shared {
    clip: Arc<Clip>,
    stop: AtomicBool,
    reached: Mutex<HashMap<u64, Reached>>,
    /// Connections per seed so far.
    connections: Mutex<HashMap<u64, u64>>,
}

/// The hostile camera's listener on 127.0.0.1. Dropping it stops it.
pub struct HostileCamera {
    port: u16,
    shared: Arc<Shared>,
    accept: Option<JoinHandle<()>>,
}

impl HostileCamera {
    /// Starts one, serving a small H.264 clip when it behaves.
    pub fn start() -> Result<HostileCamera, TestkitError> {
        // 25 fps: OpenCV's FFmpeg reads about twenty frames to open a stream.
        let clip = Clip::get(&ContentSpec {
            fps: 25,
            ..ContentSpec::small().with_seconds(2).with_keyint(5)
        })?;
        let listener = TcpListener::bind("127.0.0.1:0")?;
        listener.set_nonblocking(true)?;
        let port = listener.local_addr()?.port();
        let shared = Arc::new(Shared {
            clip,
            stop: AtomicBool::new(false),
            reached: Mutex::default(),
            connections: Mutex::default(),
        });
        let s = Arc::clone(&shared);
        let accept = std::thread::Builder::new()
            .name("hostile-accept".into())
            .spawn(move || accept_loop(&s, &listener))?;
        Ok(HostileCamera {
            port,
            shared,
            accept: Some(accept),
        })
    }

    /// The URL of run `seed`, with credentials and a secret parameter in it.
    pub fn url(&self, seed: u64, user: &str, password: &str, token: &str) -> String {
        format!(
            "rtsp://{user}:{password}@127.0.0.1:{}/hostile/{seed}?token={token}",
            self.port
        )
    }

    /// The steps run `seed` reached so far.
    pub fn reached(&self, seed: u64) -> Reached {
        self.shared
            .reached
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .get(&seed)
            .copied()
            .unwrap_or_default()
    }
}

impl Drop for HostileCamera {
    fn drop(&mut self) {
        self.shared.stop.store(true, Ordering::Relaxed);
        if let Some(t) = self.accept.take() {
            let _ = t.join();
        }
    }
}

fn accept_loop(shared: &Arc<Shared>, listener: &TcpListener) {
    let mut threads: Vec<JoinHandle<()>> = Vec::new();
    while !shared.stop.load(Ordering::Relaxed) {
        match listener.accept() {
            Ok((stream, _)) => {
                let s = Arc::clone(shared);
                if let Ok(t) = std::thread::Builder::new()
                    .name("hostile-conn".into())
                    .spawn(move || serve(&s, stream))
                {
                    threads.push(t);
                }
                threads.retain(|t| !t.is_finished());
            }
            Err(_) => std::thread::sleep(Duration::from_millis(5)),
        }
    }
    for t in threads {
        let _ = t.join();
    }
}

/// The seed in a request URL's path (`…/hostile/<seed>…`).
fn seed_of(url: &str) -> Option<u64> {
    let rest = url.split("/hostile/").nth(1)?;
    let digits: String = rest.chars().take_while(char::is_ascii_digit).collect();
    digits.parse().ok()
}

fn serve(shared: &Shared, mut stream: TcpStream) {
    let _ = stream.set_nodelay(true);
    let mut reader = Reader::new();
    let mut conversation: Option<answers::Conversation> = None;
    let mut idle = 0;
    while !shared.stop.load(Ordering::Relaxed) {
        // Media due goes out whatever the client sends meanwhile (its RTCP reports too).
        if let Some(c) = &mut conversation
            && !c.tick(&mut stream)
        {
            return;
        }
        match reader.next(&mut stream, Duration::from_millis(20)) {
            Incoming::Closed => return,
            Incoming::Interleaved => {}
            Incoming::Idle => {
                idle += 1;
                // A run lasts seconds; a connection nobody uses for 10 s is over.
                if idle > 500 {
                    return;
                }
            }
            Incoming::Request(request) => {
                idle = 0;
                let c = conversation.get_or_insert_with(|| {
                    let seed = seed_of(&request.url).unwrap_or(0);
                    let n = {
                        let mut all = shared
                            .connections
                            .lock()
                            .unwrap_or_else(PoisonError::into_inner);
                        let n = all.entry(seed).or_default();
                        *n += 1;
                        *n
                    };
                    answers::Conversation::new(seed, n, Arc::clone(&shared.clip))
                });
                let step = c.answer(&request, &mut stream);
                if let Some(step) = step.reached {
                    let mut all = shared
                        .reached
                        .lock()
                        .unwrap_or_else(PoisonError::into_inner);
                    let r = all.entry(c.seed).or_default();
                    match step {
                        answers::Step::Describe => r.describe = true,
                        answers::Step::Setup => r.setup = true,
                        answers::Step::Play => r.play = true,
                    }
                }
                if !step.keep_open {
                    return;
                }
            }
        }
    }
}
