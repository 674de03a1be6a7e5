//! The library's log records, on their way to Python's `logging`: a `log::Log` that puts each
//! record in a bounded queue (never blocking the thread that logs, never taking the GIL), and
//! [`take_log_records`], which one Python thread calls in a loop to hand them to `logging`.

use pyo3::prelude::*;
use std::collections::VecDeque;
use std::sync::{Condvar, Mutex, PoisonError};
use std::time::Duration;

/// Records kept while Python has not taken them; beyond, the oldest are dropped and counted.
const CAPACITY: usize = 1024;

/// A record as Python's `logging` takes it: (level, logger name, message).
type Record = (u8, String, String);

struct Queue {
    /// The records, and how many were dropped since Python last took them.
    records: Mutex<(VecDeque<Record>, u64)>,
    arrived: Condvar,
}

static QUEUE: Queue = Queue {
    records: Mutex::new((VecDeque::new(), 0)),
    arrived: Condvar::new(),
};

struct Bridge;

impl log::Log for Bridge {
    fn enabled(&self, metadata: &log::Metadata<'_>) -> bool {
        metadata.target().starts_with("rtsp_stream")
    }

    fn log(&self, record: &log::Record<'_>) {
        if !self.enabled(record.metadata()) {
            return;
        }
        let level = match record.level() {
            log::Level::Error => 40,
            log::Level::Warn => 30,
            log::Level::Info => 20,
            log::Level::Debug => 10,
            log::Level::Trace => 5,
        };
        // `rtsp_stream::ffmpeg` → the logger `rtsp_stream.ffmpeg`.
        let logger = record.target().replace("::", ".");
        let mut queue = QUEUE.records.lock().unwrap_or_else(PoisonError::into_inner);
        if queue.0.len() >= CAPACITY {
            queue.0.pop_front();
            queue.1 += 1;
        }
        queue
            .0
            .push_back((level, logger, record.args().to_string()));
        drop(queue);
        QUEUE.arrived.notify_one();
    }

    fn flush(&self) {}
}

/// Routes the library's records here, unless the process has a logger already. INFO and
/// above by default (connections, drops, reconnections); `RTSP_STREAM_LOG=debug` for more.
pub(crate) fn install() {
    if log::set_logger(&Bridge).is_ok() {
        let level = match std::env::var("RTSP_STREAM_LOG").as_deref() {
            Ok("trace") => log::LevelFilter::Trace,
            Ok("debug") => log::LevelFilter::Debug,
            _ => log::LevelFilter::Info,
        };
        log::set_max_level(level);
    }
}

/// Waits up to `timeout` seconds (without the GIL) for log records and returns them as
/// `(level, logger name, message)`, oldest first; a record saying how many were dropped comes
/// first when the queue overflowed.
#[pyfunction]
pub(crate) fn take_log_records(py: Python<'_>, timeout: f64) -> Vec<Record> {
    let wait = Duration::try_from_secs_f64(timeout.max(0.0)).unwrap_or(Duration::from_secs(1));
    py.detach(|| {
        let queue = QUEUE.records.lock().unwrap_or_else(PoisonError::into_inner);
        let (mut queue, _) = QUEUE
            .arrived
            .wait_timeout_while(queue, wait, |q| q.0.is_empty() && q.1 == 0)
            .unwrap_or_else(PoisonError::into_inner);
        let mut out = Vec::with_capacity(queue.0.len() + 1);
        if queue.1 > 0 {
            out.push((
                30,
                "rtsp_stream".to_owned(),
                format!(
                    "{} log records dropped: Python took them too slowly",
                    queue.1
                ),
            ));
            queue.1 = 0;
        }
        out.extend(queue.0.drain(..));
        out
    })
}
