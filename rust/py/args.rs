//! Argument conversion shared by the Python glue: hash, suite and version names, results as `bytes`.

use pyo3::exceptions::PyValueError;
use pyo3::prelude::*;
use pyo3::types::PyBytes;

use crate::suites::{self, Hash, Suite, Version};

/// Calls that touch at least this many bytes release the GIL; below it the
/// cost of detaching and re-attaching outweighs what other threads gain.
pub const GIL_THRESHOLD: usize = 4096;

pub fn hash_arg(name: &str) -> PyResult<Hash> {
    Hash::from_name(name).ok_or_else(|| {
        PyValueError::new_err(format!("unknown hash {name:?} (use 'sha256' or 'sha384')"))
    })
}

pub fn suite_arg(obj: &Bound<'_, PyAny>) -> PyResult<&'static Suite> {
    let found = if let Ok(code) = obj.extract::<u16>() {
        suites::by_code(code)
    } else if let Ok(name) = obj.extract::<String>() {
        suites::by_name(&name)
    } else {
        None
    };
    found.ok_or_else(|| PyValueError::new_err(format!("unsupported cipher suite {obj}")))
}

pub fn version_arg(obj: &Bound<'_, PyAny>) -> PyResult<Version> {
    let found = if let Ok(code) = obj.extract::<u16>() {
        Version::from_code(code)
    } else if let Ok(name) = obj.extract::<String>() {
        Version::from_name(&name)
    } else {
        None
    };
    found.ok_or_else(|| {
        PyValueError::new_err(format!(
            "unsupported TLS version {obj} (use '1.2' or '1.3')"
        ))
    })
}

pub fn bytes<'py>(py: Python<'py>, data: &[u8]) -> Bound<'py, PyBytes> {
    PyBytes::new(py, data)
}
