//! Delivering a file like a live source.

use crate::clock::after;
use crate::context::CaptureContext;
use crate::error::Result;
use std::time::{Duration, Instant};

/// Delivers the frames of a file at the rate their time stamps say, as a camera would: the
/// first frame's time stamp is matched to the real time it was read, and every later frame
/// waits until it is due. For backends that read files faster than real time.
#[derive(Debug, Default)]
pub struct FilePacer {
    origin: Option<(Instant, Duration)>,
}

impl FilePacer {
    /// A pacer that starts with the next frame.
    pub fn new() -> Self {
        Self::default()
    }

    /// Waits (real time) until a frame stamped `pts` is due; an error if the connection was
    /// cancelled meanwhile. A frame without a time stamp passes at once.
    pub fn wait(&mut self, pts: Option<Duration>, ctx: &CaptureContext) -> Result<()> {
        let Some(pts) = pts else {
            return Ok(());
        };
        let (start, first) = *self.origin.get_or_insert((Instant::now(), pts));
        let due = after(start, pts.saturating_sub(first));
        let now = Instant::now();
        if due > now && !ctx.sleep(due - now) {
            return Err(ctx.interrupted_error("pacing a file"));
        }
        Ok(())
    }

    /// Starts over with the next frame (after seeking back to the beginning).
    pub fn restart(&mut self) {
        self.origin = None;
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::clock::SystemClock;
    use std::sync::Arc;

    #[test]
    fn frames_wait_until_their_time_stamp_is_due() {
        let ctx = CaptureContext::new(Arc::new(SystemClock), "test");
        let mut pacer = FilePacer::new();
        let t = Instant::now();
        assert!(pacer.wait(Some(Duration::from_millis(500)), &ctx).is_ok());
        assert!(
            t.elapsed() < Duration::from_millis(50),
            "the first frame waited"
        );
        assert!(pacer.wait(None, &ctx).is_ok());
        assert!(pacer.wait(Some(Duration::from_millis(560)), &ctx).is_ok());
        assert!(
            t.elapsed() >= Duration::from_millis(60),
            "{:?}",
            t.elapsed()
        );
        pacer.restart();
        let t = Instant::now();
        assert!(pacer.wait(Some(Duration::ZERO), &ctx).is_ok());
        assert!(
            t.elapsed() < Duration::from_millis(50),
            "restart kept the old origin"
        );
    }
}
