//! `cap_backend`: OpenCV's `CAP_*` numbers (what the predecessor passed to `cv2.VideoCapture`),
//! a backend name, or a `MockScript` for tests.

use crate::testing::MockScript;
use pyo3::exceptions::PyValueError;
use pyo3::prelude::*;
use rtsp_stream::AnyConfig;

/// OpenCV's values of the `CAP_*` constants this package maps to a decoder.
pub(crate) const CAP_CONSTANTS: [(&str, i64); 4] = [
    ("CAP_ANY", 0),
    ("CAP_V4L2", 200),
    ("CAP_GSTREAMER", 1800),
    ("CAP_FFMPEG", 1900),
];

/// The decoder `cap_backend` asks for.
pub(crate) fn config_of(cap_backend: &Bound<'_, PyAny>) -> PyResult<AnyConfig> {
    if let Ok(script) = cap_backend.cast::<MockScript>() {
        return Ok(AnyConfig::Mock(rtsp_stream::MockConfig::new(
            script.borrow().script.clone(),
        )));
    }
    if let Ok(name) = cap_backend.extract::<String>() {
        return match name.as_str() {
            "auto" | "any" => Ok(AnyConfig::Auto),
            _ => AnyConfig::by_name(&name).map_err(|e| PyValueError::new_err(e.to_string())),
        };
    }
    let code: i64 = cap_backend.extract().map_err(|_| {
        PyValueError::new_err("cap_backend: an OpenCV CAP_* number, a backend name or a MockScript")
    })?;
    if code == 0 {
        return Ok(AnyConfig::Auto);
    }
    // Each backend declares the CAP_* numbers it stands for.
    let known = CAP_CONSTANTS.iter().any(|(_, value)| *value == code);
    i32::try_from(code)
        .ok()
        .and_then(AnyConfig::for_opencv_api)
        .ok_or_else(|| {
            let why = if known {
                "no decoder compiled into this build stands for it"
            } else {
                "it is not one this package maps (CAP_ANY, CAP_FFMPEG, CAP_GSTREAMER, CAP_V4L2) \
                 and not a backend name"
            };
            PyValueError::new_err(format!(
                "cap_backend {code}: {why}; available: {:?}",
                AnyConfig::available()
            ))
        })
}

/// The decoders compiled into this build.
#[pyfunction]
pub(crate) fn available_backends() -> Vec<&'static str> {
    AnyConfig::available()
}
