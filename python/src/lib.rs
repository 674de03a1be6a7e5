//! `rtsp_stream_rs._native`: the Python face of rtsp-stream, in the predecessor's shape
//! (`VideoStream(url, reconnect_delay=…, …)`, `start()`, `read()`, `stop()`, the properties),
//! plus what it lacked (frames with sequence numbers, waiting that ends with the stream,
//! deadlines, events). The Python package `rtsp_stream_rs` wraps it: its `__init__.py` drains
//! the log queue into `logging`, stops live streams at exit and adds `async for`.
//!
//! Threads: nothing here takes the GIL on a library thread except each stream's callback
//! thread, which runs the Python callbacks one at a time. Blocking calls release the GIL and
//! wake at least every 50 ms to let Python handle signals (Ctrl-C).
// Unsafe code here: pyo3 hands out raw pointers for NumPy buffers and the signal check.
#![allow(unsafe_code)]

mod backend;
mod events;
mod frame;
mod logs;
mod notify;
mod stream;
mod testing;

use pyo3::prelude::*;

pyo3::create_exception!(
    _native,
    StreamEnded,
    pyo3::exceptions::PyException,
    "The stream ended (stopped, gave up, or the source ended) and no newer frame is left; \
     `.reason` says which."
);

#[pymodule]
fn _native(m: &Bound<'_, PyModule>) -> PyResult<()> {
    logs::install();
    // Panic messages printed by Rust's hook lose every secret of every live stream.
    rtsp_stream::install_scrubbing_panic_hook();
    m.add_class::<stream::VideoStream>()?;
    m.add_class::<frame::Frame>()?;
    m.add_class::<stream::FrameIter>()?;
    m.add_class::<events::Event>()?;
    m.add_class::<testing::MockScript>()?;
    m.add("StreamEnded", m.py().get_type::<StreamEnded>())?;
    m.add_function(wrap_pyfunction!(logs::take_log_records, m)?)?;
    m.add_function(wrap_pyfunction!(stream::stop_all, m)?)?;
    m.add_function(wrap_pyfunction!(backend::available_backends, m)?)?;
    for (name, value) in backend::CAP_CONSTANTS {
        m.add(name, value)?;
    }
    Ok(())
}
