//! `MockScript`: the core's scripted backend, for testing programs without a camera. Pass it
//! as `cap_backend`; each call appends a step, and the stream plays the steps in order.

use pyo3::exceptions::PyValueError;
use pyo3::prelude::*;
use rtsp_stream::ErrorKind;
use std::time::Duration;

/// A scripted source: `MockScript().open_ok(64, 48, 25.0).frames(10).read_error()` opens,
/// delivers ten frames and then drops; once the script runs out, opens fail.
#[pyclass(frozen, module = "rtsp_stream_rs._native")]
pub(crate) struct MockScript {
    pub(crate) script: rtsp_stream::MockScript,
}

fn kind(name: &str) -> PyResult<ErrorKind> {
    Ok(match name {
        "refused" | "connection_refused" => ErrorKind::ConnectionRefused,
        "lost" | "connection_lost" => ErrorKind::ConnectionLost,
        "timeout" => ErrorKind::Timeout,
        "not_found" => ErrorKind::NotFound,
        "authentication" => ErrorKind::Authentication,
        "decode" => ErrorKind::Decode,
        "invalid_source" => ErrorKind::InvalidSource,
        other => {
            return Err(PyValueError::new_err(format!(
                "error kind {other:?}: refused, lost, timeout, not_found, authentication, \
                 decode or invalid_source"
            )));
        }
    })
}

#[pymethods]
impl MockScript {
    #[new]
    fn new() -> Self {
        MockScript {
            script: rtsp_stream::MockScript::new(),
        }
    }

    /// The source opens with this picture size and frame rate.
    #[pyo3(signature = (width = 64, height = 48, fps = 25.0))]
    fn open_ok(slf: Py<Self>, width: u32, height: u32, fps: f64) -> Py<Self> {
        slf.get()
            .script
            .open_ok(rtsp_stream::MockScript::props(width, height, fps));
        slf
    }

    /// Opening fails with an error of this kind (transient unless `not_found`,
    /// `authentication` or `invalid_source`).
    #[pyo3(signature = (error = "refused"))]
    fn open_fail(slf: Py<Self>, error: &str) -> PyResult<Py<Self>> {
        slf.get().script.open_fail(kind(error)?);
        Ok(slf)
    }

    /// `n` frames at once.
    fn frames(slf: Py<Self>, n: u64) -> Py<Self> {
        slf.get().script.frames(n);
        slf
    }

    /// Frames every `interval` seconds, for ever.
    fn frames_forever(slf: Py<Self>, interval: f64) -> PyResult<Py<Self>> {
        let interval = Duration::try_from_secs_f64(interval)
            .map_err(|_| PyValueError::new_err("interval: seconds ≥ 0"))?;
        slf.get().script.frames_forever(interval);
        Ok(slf)
    }

    /// A read fails: the feed drops.
    #[pyo3(signature = (error = "lost"))]
    fn read_error(slf: Py<Self>, error: &str) -> PyResult<Py<Self>> {
        slf.get().script.read_error(kind(error)?);
        Ok(slf)
    }

    /// A read blocks until the stream gives up on it (a frozen camera).
    fn stall(slf: Py<Self>) -> Py<Self> {
        slf.get().script.stall();
        slf
    }

    /// The source ends (a file).
    fn end_of_stream(slf: Py<Self>) -> Py<Self> {
        slf.get().script.end_of_stream();
        slf
    }

    /// Times the source was opened.
    #[getter]
    fn open_count(&self) -> u64 {
        self.script.open_count()
    }

    /// Steps not played yet.
    #[getter]
    fn pending(&self) -> usize {
        self.script.pending()
    }
}
