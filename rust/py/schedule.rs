//! The Python `KeySchedule` class and its `Tls13Stage` results.

use pyo3::prelude::*;
use pyo3::types::{PyBytes, PyTuple};

use super::args::{bytes, suite_arg};
use super::buffers::CBuf;
use crate::kdf;

/// Secrets, keys and IVs of one TLS 1.3 stage, both directions.
#[pyclass(frozen, get_all, module = "tlsbench._core")]
pub struct Tls13Stage {
    client_secret: Py<PyBytes>,
    server_secret: Py<PyBytes>,
    client_key: Py<PyBytes>,
    client_iv: Py<PyBytes>,
    server_key: Py<PyBytes>,
    server_iv: Py<PyBytes>,
    client_finished_key: Py<PyBytes>,
    server_finished_key: Py<PyBytes>,
}

impl Tls13Stage {
    fn new(py: Python<'_>, s: kdf::Stage) -> Tls13Stage {
        let b = |v: &[u8]| bytes(py, v).unbind();
        Tls13Stage {
            client_secret: b(&s.client_secret),
            server_secret: b(&s.server_secret),
            client_key: b(&s.client_key),
            client_iv: b(&s.client_iv),
            server_key: b(&s.server_key),
            server_iv: b(&s.server_iv),
            client_finished_key: b(&s.client_finished_key),
            server_finished_key: b(&s.server_finished_key),
        }
    }
}

/// The TLS 1.3 key schedule (RFC 8446 §7.1); each stage is one call and stages only move forward.
#[pyclass(module = "tlsbench._core")]
pub struct KeySchedule {
    inner: kdf::KeySchedule,
}

#[pymethods]
impl KeySchedule {
    #[new]
    #[pyo3(signature = (suite, psk=None))]
    fn new(suite: &Bound<'_, PyAny>, psk: Option<CBuf>) -> PyResult<Self> {
        let inner = kdf::KeySchedule::new(suite_arg(suite)?, psk.as_ref().map(|p| p.as_bytes()))?;
        Ok(KeySchedule { inner })
    }

    #[getter]
    fn early_secret<'py>(&self, py: Python<'py>) -> Bound<'py, PyBytes> {
        bytes(py, &self.inner.early_secret)
    }

    #[getter]
    fn handshake_secret<'py>(&self, py: Python<'py>) -> Option<Bound<'py, PyBytes>> {
        self.inner.handshake_secret.as_deref().map(|s| bytes(py, s))
    }

    #[getter]
    fn master_secret<'py>(&self, py: Python<'py>) -> Option<Bound<'py, PyBytes>> {
        self.inner.master_secret.as_deref().map(|s| bytes(py, s))
    }

    /// Derive the handshake secret and its traffic secrets, keys, IVs and finished keys.
    fn handshake_stage(
        &mut self,
        py: Python<'_>,
        shared_secret: CBuf,
        transcript_hash: CBuf,
    ) -> PyResult<Tls13Stage> {
        let s = self
            .inner
            .handshake_stage(shared_secret.as_bytes(), transcript_hash.as_bytes())?;
        Ok(Tls13Stage::new(py, s))
    }

    /// Derive the master secret and the application traffic secrets, keys and IVs.
    fn application_stage(&mut self, py: Python<'_>, transcript_hash: CBuf) -> PyResult<Tls13Stage> {
        let s = self.inner.application_stage(transcript_hash.as_bytes())?;
        Ok(Tls13Stage::new(py, s))
    }

    /// KeyUpdate (RFC 8446 §7.2): (next traffic secret, its key, its IV) in one call.
    fn key_update<'py>(&self, py: Python<'py>, secret: CBuf) -> PyResult<Bound<'py, PyTuple>> {
        let next = kdf::tls13_next_secret(self.inner.suite, secret.as_bytes())?;
        let (key, iv) = kdf::tls13_traffic_keys(self.inner.suite, &next)?;
        PyTuple::new(py, [bytes(py, &next), bytes(py, &key), bytes(py, &iv)])
    }

    fn exporter_master_secret<'py>(
        &self,
        py: Python<'py>,
        transcript_hash: CBuf,
    ) -> PyResult<Bound<'py, PyBytes>> {
        Ok(bytes(
            py,
            &self
                .inner
                .exporter_master_secret(transcript_hash.as_bytes())?,
        ))
    }

    /// The PSK binder of RFC 8446 §4.2.11.2 over the truncated ClientHello's hash.
    #[pyo3(signature = (transcript_hash, external=false))]
    fn binder<'py>(
        &self,
        py: Python<'py>,
        transcript_hash: CBuf,
        external: bool,
    ) -> PyResult<Bound<'py, PyBytes>> {
        Ok(bytes(
            py,
            &self.inner.binder(transcript_hash.as_bytes(), external)?,
        ))
    }

    fn resumption_master_secret<'py>(
        &self,
        py: Python<'py>,
        transcript_hash: CBuf,
    ) -> PyResult<Bound<'py, PyBytes>> {
        Ok(bytes(
            py,
            &self
                .inner
                .resumption_master_secret(transcript_hash.as_bytes())?,
        ))
    }
}
