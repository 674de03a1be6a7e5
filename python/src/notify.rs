//! Waking an asyncio loop without a thread and without the GIL: a non-blocking pipe whose read
//! end the loop watches (`loop.add_reader`), written by a `Waker` the stream's publish path
//! wakes. The library's threads only write a byte; Python reads it back on its own thread.

use std::os::fd::{AsRawFd, FromRawFd, OwnedFd, RawFd};
use std::sync::Arc;
use std::task::Wake;

/// The pipe's two ends.
pub(crate) struct Notifier {
    read: OwnedFd,
    write: Arc<WriteEnd>,
}

struct WriteEnd(OwnedFd);

impl Wake for WriteEnd {
    fn wake(self: Arc<Self>) {
        self.wake_by_ref();
    }

    fn wake_by_ref(self: &Arc<Self>) {
        let byte = 1u8;
        // SAFETY: a write of one byte from a live local to an open descriptor we own. A full
        // pipe (EAGAIN) already holds a wake-up the reader has not seen: nothing is lost.
        unsafe {
            libc::write(self.0.as_raw_fd(), (&byte as *const u8).cast(), 1);
        }
    }
}

impl Notifier {
    pub(crate) fn new() -> std::io::Result<Notifier> {
        let mut fds = [0 as RawFd; 2];
        // SAFETY: pipe writes two new descriptors into the array it is given.
        if unsafe { libc::pipe(fds.as_mut_ptr()) } != 0 {
            return Err(std::io::Error::last_os_error());
        }
        // SAFETY: both descriptors were just made by pipe() and are owned by nobody else.
        let (read, write) = unsafe { (OwnedFd::from_raw_fd(fds[0]), OwnedFd::from_raw_fd(fds[1])) };
        for fd in [&read, &write] {
            set_flags(fd.as_raw_fd())?;
        }
        Ok(Notifier {
            read,
            write: Arc::new(WriteEnd(write)),
        })
    }

    /// The descriptor to watch for reading.
    pub(crate) fn fileno(&self) -> RawFd {
        self.read.as_raw_fd()
    }

    /// A waker that makes the read end readable.
    pub(crate) fn waker(&self) -> std::task::Waker {
        std::task::Waker::from(Arc::clone(&self.write))
    }

    /// Reads every pending wake-up byte.
    pub(crate) fn drain(&self) {
        let mut buffer = [0u8; 64];
        // SAFETY: reads into a live local buffer of its stated length from our own descriptor,
        // which is non-blocking: the loop ends at EAGAIN.
        while unsafe { libc::read(self.read.as_raw_fd(), buffer.as_mut_ptr().cast(), 64) } > 0 {}
    }
}

/// Non-blocking, closed on exec.
fn set_flags(fd: RawFd) -> std::io::Result<()> {
    // SAFETY: fcntl on a descriptor we own, with flag arguments only.
    unsafe {
        let flags = libc::fcntl(fd, libc::F_GETFL);
        if flags < 0 || libc::fcntl(fd, libc::F_SETFL, flags | libc::O_NONBLOCK) < 0 {
            return Err(std::io::Error::last_os_error());
        }
        if libc::fcntl(fd, libc::F_SETFD, libc::FD_CLOEXEC) < 0 {
            return Err(std::io::Error::last_os_error());
        }
    }
    Ok(())
}
