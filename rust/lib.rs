//! `tlsbench._core`: TLS key agreement, key derivation and record protection, for Python.
//!
//! The logic lives in plain Rust modules (`agreement`, `kdf`, `record`, `suites`); the Python
//! glue (argument conversion, GIL handling and result objects) is under `py/`,
//! one module per concept. This file registers the module.

pub mod agreement;
pub mod kdf;
mod py;
pub mod record;
pub mod suites;

use pyo3::prelude::*;

use py::args::GIL_THRESHOLD;
use py::kdf::{
    derive_secret, hkdf_expand, hkdf_expand_label, hkdf_extract, hmac,
    tls12_extended_master_secret, tls12_key_block, tls12_master_secret, tls12_prf,
    tls12_verify_data, tls13_next_secret, tls13_resumption_psk, tls13_traffic_keys,
    tls13_verify_data,
};

/// What the core was built with: crate versions, profile and target features.
#[pyfunction]
fn build_info(py: Python<'_>) -> PyResult<Bound<'_, pyo3::types::PyDict>> {
    let d = pyo3::types::PyDict::new(py);
    d.set_item("tlsbench_core", env!("CARGO_PKG_VERSION"))?;
    d.set_item("pyo3", env!("TLSBENCH_PYO3_VERSION"))?;
    d.set_item("aws_lc_rs", env!("TLSBENCH_AWS_LC_RS_VERSION"))?;
    d.set_item("aws_lc_sys", env!("TLSBENCH_AWS_LC_SYS_VERSION"))?;
    d.set_item("rustc", env!("TLSBENCH_RUSTC_VERSION"))?;
    d.set_item("profile", env!("TLSBENCH_PROFILE"))?;
    d.set_item("target", env!("TLSBENCH_TARGET"))?;
    d.set_item("gil_threshold", GIL_THRESHOLD)?;
    Ok(d)
}

#[pymodule]
fn _core(m: &Bound<'_, PyModule>) -> PyResult<()> {
    m.add("__version__", env!("CARGO_PKG_VERSION"))?;
    m.add_function(wrap_pyfunction!(tls12_prf, m)?)?;
    m.add_function(wrap_pyfunction!(tls12_master_secret, m)?)?;
    m.add_function(wrap_pyfunction!(tls12_extended_master_secret, m)?)?;
    m.add_function(wrap_pyfunction!(tls12_key_block, m)?)?;
    m.add_function(wrap_pyfunction!(tls12_verify_data, m)?)?;
    m.add_function(wrap_pyfunction!(hmac, m)?)?;
    m.add_function(wrap_pyfunction!(hkdf_extract, m)?)?;
    m.add_function(wrap_pyfunction!(hkdf_expand, m)?)?;
    m.add_function(wrap_pyfunction!(hkdf_expand_label, m)?)?;
    m.add_function(wrap_pyfunction!(derive_secret, m)?)?;
    m.add_function(wrap_pyfunction!(tls13_traffic_keys, m)?)?;
    m.add_function(wrap_pyfunction!(tls13_next_secret, m)?)?;
    m.add_function(wrap_pyfunction!(tls13_verify_data, m)?)?;
    m.add_function(wrap_pyfunction!(tls13_resumption_psk, m)?)?;
    m.add_function(wrap_pyfunction!(build_info, m)?)?;
    m.add_class::<py::schedule::KeySchedule>()?;
    m.add_class::<py::schedule::Tls13Stage>()?;
    m.add_class::<py::aead::AeadCipher>()?;
    m.add_class::<py::agreement::KeyAgreement>()?;
    m.add_class::<py::record::RecordCipher>()?;
    Ok(())
}
